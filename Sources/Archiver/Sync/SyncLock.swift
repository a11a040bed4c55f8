#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive, non-blocking lock that keeps two syncs from writing one archive at once.
///
/// It is an flock(2) on `<archive>.lock`, not on the archive itself: closing any descriptor of
/// the archive file would silently drop the fcntl locks SQLite holds on it in this process. The
/// kernel releases an flock when the process dies, SIGKILL included, so a crashed sync never
/// leaves the archive locked; the empty lock file stays behind, harmless.
public final class SyncLock {
    private let descriptor: Int32
    public let path: String

    public init(archivePath: String) throws {
        path = archivePath + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw SyncError.lockFile(path: path, errno: errno)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw SyncError.locked(path: archivePath)
        }
        descriptor = fd
    }

    /// Whether a sync holds the lock of the archive at `archivePath` now (a shared lock cannot be had
    /// beside its exclusive one). Never creates the lock file: without one, no sync ever ran there.
    public static func isHeld(archivePath: String) -> Bool {
        let fd = open(archivePath + ".lock", O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_SH | LOCK_NB) == 0 else { return errno == EWOULDBLOCK }
        flock(fd, LOCK_UN)
        return false
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
