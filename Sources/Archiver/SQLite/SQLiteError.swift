import CSQLite

/// An error from SQLite or from opening the archive, with SQLite's own message and result code and a
/// classification that the CLI maps to exit codes.
public struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The file is not SQLite, or it is truncated or corrupt.
        case notADatabase
        /// A SQLite file, but not a cloudron-audit archive (another application's database).
        case notAnArchive
        /// A write was refused: read-only mode, read-only file or folder.
        case readOnly
        case diskFull
        /// Another connection holds a lock longer than the busy timeout.
        case busy
        /// Missing folder or file, or no permission.
        case cannotOpen
        /// The archive was written by a newer cloudron-audit.
        case schemaTooNew(found: Int, supported: Int)
        /// Read-only access to an archive that needs an upgrade first (any read-write open upgrades it).
        case schemaTooOld(found: Int, supported: Int)
        case constraint
        case ioError
        case other
    }

    public var kind: Kind
    /// SQLite's extended result code; 0 for errors raised by cloudron-audit itself.
    public var code: Int32
    /// SQLite's message (`sqlite3_errmsg`) or our own.
    public var message: String
    /// What was being done: the archive path or the SQL statement.
    public var context: String?

    public init(kind: Kind, code: Int32, message: String, context: String? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.context = context
    }

    /// An error for a SQLite result code, classified.
    public init(code: Int32, message: String, context: String? = nil) {
        self.init(kind: Self.classify(code), code: code, message: message, context: context)
    }

    public static func classify(_ code: Int32) -> Kind {
        switch code & 0xff {
        case SQLITE_NOTADB, SQLITE_CORRUPT: return .notADatabase
        case SQLITE_READONLY: return .readOnly
        case SQLITE_FULL: return .diskFull
        case SQLITE_BUSY, SQLITE_LOCKED: return .busy
        case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH: return .cannotOpen
        case SQLITE_CONSTRAINT: return .constraint
        case SQLITE_IOERR: return .ioError
        default: return .other
        }
    }

    /// One line, naming what to fix.
    public var description: String {
        switch kind {
        case let .schemaTooNew(found, supported):
            return "archive \(context ?? "") has schema version \(found), newer than the \(supported) this cloudron-audit supports: upgrade cloudron-audit"
        case let .schemaTooOld(found, supported):
            return "archive \(context ?? "") has schema version \(found), older than \(supported): open it read-write once (e.g. run sync) to upgrade it"
        default:
            let what = context.map { "\($0): " } ?? ""
            let hint: String
            switch kind {
            case .notADatabase: hint = " (not a SQLite database, or truncated or corrupt)"
            case .notAnArchive: hint = " — check --db"   // the message says what the file is
            case .cannotOpen: hint = " (check that the folder exists and the permissions)"
            case .diskFull: hint = " (free some disk space)"
            case .busy: hint = " (another process holds the archive)"
            case .readOnly: hint = " (the archive is open read-only or the file is not writable)"
            default: hint = ""
            }
            return (what + message + hint).replacingNewlines()
        }
    }
}

extension String {
    func replacingNewlines() -> String {
        String(self.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
