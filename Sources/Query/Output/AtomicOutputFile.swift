#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `--output FILE`, written so that no reader ever sees half a file and no planted symlink is followed.
///
/// The rows go to a new temporary file in FILE's directory (`.FILE.tmp-<random>`), created with
/// `O_CREAT|O_EXCL|O_NOFOLLOW` and mode 0600 (exports hold audit data): an existing file or a symlink at
/// that name makes the open fail instead of writing through it, and another random name is tried.
/// `commit()` flushes it to disk and renames it over FILE; rename(2) replaces a symlink at FILE itself and
/// never writes to its target. On failure, or if `commit()` is never reached, the temporary file is
/// removed and FILE is left as it was.
public final class AtomicOutputFile {
    public let path: String
    public let temporaryPath: String
    /// The temporary file's descriptor, open for writing until `commit()` or `discard()`.
    public let fileDescriptor: Int32
    private var isOpen = true

    /// Creates the temporary file next to `path`.
    /// - Throws: `OutputError` when the directory is missing or not writable.
    public convenience init(path: String) throws {
        try self.init(path: path, temporarySuffix: { String(UInt64.random(in: 0...UInt64.max), radix: 16) })
    }

    /// `temporarySuffix` makes the random part of the temporary name (tests plant files at known names).
    init(path: String, temporarySuffix: () -> String) throws {
        self.path = path
        let (directory, name) = AtomicOutputFile.split(path)
        var attempt = 0
        while true {
            let candidate = directory + "/." + name + ".tmp-" + temporarySuffix()
            let descriptor = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if descriptor >= 0 {
                temporaryPath = candidate
                fileDescriptor = descriptor
                return
            }
            let error = errno
            attempt += 1
            if (error == EEXIST || error == ELOOP) && attempt < 16 { continue }
            throw OutputError(operation: "create a temporary file for", errno: error, path: path)
        }
    }

    deinit {
        discard()
    }

    /// Makes the written file visible at `path` (fsync, close, rename).
    /// - Throws: `OutputError`; the temporary file is removed then.
    public func commit() throws {
        guard isOpen else { return }
        if fsync(fileDescriptor) != 0 {
            let error = errno
            discard()
            throw OutputError(operation: "write", errno: error, path: path)
        }
        isOpen = false
        if close(fileDescriptor) != 0 {
            let error = errno
            unlink(temporaryPath)
            throw OutputError(operation: "write", errno: error, path: path)
        }
        if rename(temporaryPath, path) != 0 {
            let error = errno
            unlink(temporaryPath)
            throw OutputError(operation: "replace", errno: error, path: path)
        }
        // Make the rename itself durable; failure here leaves a complete file either way.
        let (directory, _) = AtomicOutputFile.split(path)
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// Closes and removes the temporary file; `path` is untouched. Safe to call more than once.
    public func discard() {
        guard isOpen else { return }
        isOpen = false
        close(fileDescriptor)
        unlink(temporaryPath)
    }

    /// Runs `body` with a sink onto a new temporary file and commits it when `body` returns; when `body`
    /// throws, the temporary file is removed and the error rethrown.
    public static func write<T>(to path: String, _ body: (OutputSink) throws -> T) throws -> T {
        let file = try AtomicOutputFile(path: path)
        do {
            let sink = OutputSink(fileDescriptor: file.fileDescriptor)
            let result = try body(sink)
            try sink.flush()
            try file.commit()
            return result
        } catch {
            file.discard()
            throw error
        }
    }

    /// The directory (`.` for a bare name) and the last path component.
    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}
