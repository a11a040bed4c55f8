import CSQLite
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A SQLite connection: our own thin layer over CSQLite.
///
/// Thread safety: every public method runs under one recursive lock (and the connection is opened
/// in serialized mode), so a `Database` can be handed between threads. Cached statements are only
/// lent out inside `withStatement`, under that lock. Keep blocking work like this off Swift's
/// cooperative thread pool.
public final class Database: @unchecked Sendable {
    public enum Mode: Sendable {
        case readWrite, readOnly

        /// The connection's page cache, KiB: the one place it is chosen. A sync writes each page once
        /// and looks rows up by id, so the upper levels of the id indexes and a page's FTS segments are
        /// all it needs cached; a reader streams each page once, and its cache also bounds SQLite's
        /// in-memory sort before it spills to temporary files. Larger caches only filled up on large
        /// archives and raised the resident memory (Benchmarks/NOTES.md, B5 and B6).
        var pageCacheKibibytes: Int {
            switch self {
            case .readWrite: 16_384
            case .readOnly: 8_192
            }
        }
    }

    public let path: String
    public let mode: Mode
    let handle: OpaquePointer
    let lock = NSRecursiveLock()
    private var cache: [String: Statement] = [:]
    private var savepointDepth = 0

    /// How long a statement waits for another connection's lock before failing with `.busy`.
    public static let busyTimeoutMilliseconds: Int32 = 5_000

    /// Opens (read-write: creates with mode 0600 when missing) the SQLite file at `path`.
    ///
    /// Read-only uses SQLITE_OPEN_READONLY *and* `PRAGMA query_only`, so that SQL handed in by a user
    /// (a report) cannot change evidence even through a writable file. Read-only never creates a file.
    public init(path: String, mode: Mode) throws {
        self.path = path
        self.mode = mode
        var flags = SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE
        switch mode {
        case .readOnly:
            guard FileManager.default.fileExists(atPath: path) else {
                throw SQLiteError(kind: .cannotOpen, code: SQLITE_CANTOPEN, message: "no archive at this path", context: path)
            }
            flags |= SQLITE_OPEN_READONLY
        case .readWrite:
            try Self.createPrivateFile(path)
            flags |= SQLITE_OPEN_READWRITE
        }
        var connection = try Self.openConnection(path, flags: flags)
        if mode == .readOnly, Self.isUnreadableWALOnReadOnlyMedia(connection, path: path) {
            sqlite3_close_v2(connection)
            connection = try Self.openConnection(Self.immutableURI(path), flags: flags | SQLITE_OPEN_URI)
        }
        handle = connection
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, Self.busyTimeoutMilliseconds)
        do {
            // The first statement that reads the file is where "not a database" shows up.
            try execute("PRAGMA foreign_keys = ON")
            _ = try scalarInt("SELECT count(*) FROM sqlite_master")
            if mode == .readOnly {
                try execute("PRAGMA query_only = ON")
            } else {
                // Only takes effect on a new, empty file: rows of 2-5 KB of raw JSON pack into
                // 16 KiB pages with far less slack and fewer overflow pages than into 4 KiB ones.
                try execute("PRAGMA page_size = 16384")
                try execute("PRAGMA journal_mode = WAL")
                try execute("PRAGMA synchronous = NORMAL")
            }
            try execute("PRAGMA cache_size = -\(mode.pageCacheKibibytes)")
        } catch var error as SQLiteError {
            // deinit closes the connection: self is fully initialised here.
            error.context = path
            throw error
        }
    }

    /// A private in-memory database (no file): scratch space such as `SearchTokenizer`'s FTS5 tables.
    public init(inMemory: Void) throws {
        path = ":memory:"
        mode = .readWrite
        handle = try Self.openConnection(":memory:", flags: SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE
                                            | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MEMORY)
        sqlite3_extended_result_codes(handle, 1)
    }

    /// A private temporary database that may outgrow memory (`verify`'s index of every event's recomputed
    /// text, a few hundred MB at a million events): SQLite's "" database, in memory until it outgrows the
    /// page cache, then a temporary file that is deleted on close.
    public init(temporary: Void) throws {
        path = ""
        mode = .readWrite
        handle = try Self.openConnection("", flags: SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE
                                            | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit {
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    private static func openConnection(_ name: String, flags: Int32) throws -> OpaquePointer {
        var connection: OpaquePointer?
        let rc = sqlite3_open_v2(name, &connection, flags, nil)
        guard rc == SQLITE_OK, let connection else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let connection { sqlite3_close_v2(connection) }
            throw SQLiteError(code: rc, message: message, context: name)
        }
        return connection
    }

    /// A WAL archive on read-only media (a read-only mount, a copied evidence folder) cannot be read:
    /// SQLite must create the `-shm` file next to it first. When no `-wal` file exists every committed
    /// row is in the main file, so opening it as immutable reads exactly what a normal open would.
    private static func isUnreadableWALOnReadOnlyMedia(_ connection: OpaquePointer, path: String) -> Bool {
        let rc = sqlite3_exec(connection, "SELECT count(*) FROM sqlite_master", nil, nil, nil)
        guard rc & 0xff == SQLITE_CANTOPEN, !FileManager.default.fileExists(atPath: path + "-wal") else { return false }
        let directory = (path as NSString).deletingLastPathComponent
        return access(directory.isEmpty ? "." : directory, W_OK) != 0
    }

    private static func immutableURI(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return "file:" + (absolute.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? absolute) + "?immutable=1"
    }

    /// Creates the file with mode 0600 (an archive holds who did what on a server) unless it exists.
    private static func createPrivateFile(_ path: String) throws {
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd >= 0 {
            close(fd)
            return
        }
        let err = errno
        if err == EEXIST { return }
        let message = String(cString: strerror(err))
        let kind: SQLiteError.Kind = switch err {
        case EROFS: .readOnly
        case ENOSPC: .diskFull
        default: .cannotOpen
        }
        throw SQLiteError(kind: kind, code: SQLITE_CANTOPEN, message: "cannot create the archive: \(message)", context: path)
    }

    func error(context: String?) -> SQLiteError {
        SQLiteError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)),
                    context: context)
    }

    /// Runs the lock around `body`; for types that build on the connection (Archive).
    public func serialized<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Runs one or more SQL statements without parameters.
    public func execute(_ sql: String) throws {
        try serialized {
            var message: UnsafeMutablePointer<CChar>?
            let rc = sqlite3_exec(handle, sql, nil, nil, &message)
            guard rc == SQLITE_OK else {
                let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
                sqlite3_free(message)
                throw SQLiteError(code: sqlite3_extended_errcode(handle), message: text, context: sql)
            }
        }
    }

    /// A new statement that the caller owns (not cached).
    public func prepare(_ sql: String) throws -> Statement {
        try serialized { try Statement(connection: handle, sql: sql) }
    }

    /// Runs `body` with a cached prepared statement for `sql` (prepared on first use), under the
    /// connection's lock, and resets it afterwards: the hot inserts are prepared once per connection.
    public func withStatement<T>(_ sql: String, _ body: (Statement) throws -> T) throws -> T {
        try serialized {
            let statement: Statement
            if let cached = cache[sql] {
                statement = cached
            } else {
                statement = try Statement(connection: handle, sql: sql)
                cache[sql] = statement
            }
            defer { statement.reset() }
            return try body(statement)
        }
    }

    /// Runs a cached statement with `values` bound, to completion.
    public func run(_ sql: String, _ values: [SQLValue] = []) throws {
        try withStatement(sql) { statement in
            try statement.bind(values)
            while try statement.step() {}
        }
    }

    /// Calls `row` for each result row of a cached statement.
    public func forEachRow(_ sql: String, _ values: [SQLValue] = [], _ row: (Statement) throws -> Void) throws {
        try withStatement(sql) { statement in
            try statement.bind(values)
            while try statement.step() { try row(statement) }
        }
    }

    /// The first column of the first row, or nil when there is no row or it is NULL.
    public func scalarInt(_ sql: String, _ values: [SQLValue] = []) throws -> Int64? {
        try withStatement(sql) { statement in
            try statement.bind(values)
            return try statement.step() ? statement.optionalInt64(at: 0) : nil
        }
    }

    public func scalarString(_ sql: String, _ values: [SQLValue] = []) throws -> String? {
        try withStatement(sql) { statement in
            try statement.bind(values)
            return try statement.step() ? statement.optionalString(at: 0) : nil
        }
    }

    /// Changes how long statements wait for another connection's lock (default 5 s).
    public func setBusyTimeout(milliseconds: Int32) {
        serialized { _ = sqlite3_busy_timeout(handle, milliseconds) }
    }

    public var lastInsertRowID: Int64 { serialized { sqlite3_last_insert_rowid(handle) } }
    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { serialized { Int(sqlite3_changes(handle)) } }
    public var isInTransaction: Bool { serialized { sqlite3_get_autocommit(handle) == 0 } }

    /// Runs `body` in a transaction: BEGIN IMMEDIATE (takes the write lock up front, so a busy
    /// archive fails at the start, not at COMMIT) ... COMMIT, or ROLLBACK when `body` throws.
    /// Nested calls use a SAVEPOINT, so an inner failure undoes only the inner work.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try serialized {
            if sqlite3_get_autocommit(handle) == 0 {
                savepointDepth += 1
                defer { savepointDepth -= 1 }
                let name = "nested\(savepointDepth)"
                try execute("SAVEPOINT \(name)")
                do {
                    let result = try body()
                    try execute("RELEASE \(name)")
                    return result
                } catch {
                    try? execute("ROLLBACK TO \(name)")
                    try? execute("RELEASE \(name)")
                    throw error
                }
            }
            try execute("BEGIN IMMEDIATE")
            do {
                let result = try body()
                try execute("COMMIT")
                return result
            } catch {
                if sqlite3_get_autocommit(handle) == 0 { try? execute("ROLLBACK") }
                throw error
            }
        }
    }
}
