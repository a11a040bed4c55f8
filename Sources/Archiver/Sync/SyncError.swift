#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Failures that belong to the sync itself (the client and the archive have their own error types).
public enum SyncError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Another process holds the archive's sync lock.
    case locked(path: String)
    case invalidOption(String)
    /// The lock file next to the archive could not be created (read-only folder, full disk, ...).
    case lockFile(path: String, errno: Int32)
    /// The instance name is already used by a server at another URL.
    case instanceMoved(name: String, archived: String, given: String)
    /// The server answered fewer rows than asked, yet had more: it caps `per_page`.
    case pageSizeCapped(stream: ObjectKind, served: Int, asked: Int)
    /// Not one of the selected streams could be synced: each endpoint is missing or refused.
    case noStreamAvailable([UnavailableStream])
    /// A group of objects sharing one second could not be read whole in one request.
    case tieGroupUnreadable(stream: ObjectKind, second: Int64)
    /// The run's task was cancelled (SIGINT or SIGTERM): what it had read is archived, the run is
    /// recorded as interrupted, and the next sync resumes.
    case interrupted(run: Int64)

    public var description: String {
        switch self {
        case .locked(let path):
            return "another sync is already writing \(path); wait for it to finish (the lock is released when that process exits)"
        case .invalidOption(let message):
            return message
        case .lockFile(let path, let errno):
            return "cannot create the lock file \(path): \(String(cString: strerror(errno))) — check the folder's permissions and free space"
        case .instanceMoved(let name, let archived, let given):
            return "instance \(name) in this archive is \(archived), not \(given): pass --instance NAME for another server, "
                + "or --moved if this server changed its address"
        case .pageSizeCapped(let stream, let served, let asked):
            return "the server answered \(served) \(stream.name) for per_page=\(asked) but has more: "
                + (stream == .events ? "run sync with --page-size \(served)" : "its page size changed while it was read; run sync again")
        case .noStreamAvailable(let streams):
            return "nothing synced: " + streams.map { "\($0.stream): \($0.reason)" }.joined(separator: "; ")
        case .tieGroupUnreadable(let stream, let second):
            return "the \(stream.name) of second \(second) kept moving while being read; run sync again"
        case .interrupted(let run):
            return "sync run \(run) interrupted and recorded as such; everything it had read is archived, and the next sync resumes"
        }
    }
}
