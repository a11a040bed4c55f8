/// A failure talking to the central PostgreSQL store, classified for the CLI's exit codes.
public struct CentralStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Not a libpq URI, or one holding a password.
        case badURL
        /// Refused, unreachable, timed out, or the connection dropped.
        case unavailable
        /// Wrong or missing credentials, or no permission on the schema.
        case permissionDenied
        /// The database has a `cloudron_audit` schema that is not ours, or the database does not exist.
        case badTarget
        /// The store was written by a newer cloudron-audit.
        case schemaTooNew(found: Int, supported: Int)
        /// The archive has nothing pushed under its id (reading commands `--from`).
        case notPushed
        /// Another push of the same archive moved the cursor meanwhile.
        case busy
        /// The server ran out of disk, memory or connections (SQLSTATE class 53).
        case resources
        /// Any other error the server reported (a bug or a full disk there).
        case server
    }

    public var kind: Kind
    public var message: String
    /// PostgreSQL's SQLSTATE when the server reported the error.
    public var sqlState: String?

    public init(kind: Kind, message: String, sqlState: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
    }

    public var description: String { "PostgreSQL: " + message }
}

extension CentralStoreError.Kind {
    /// From the SQLSTATE class: 28 (authorization) and 42501 (insufficient privilege) are about
    /// permissions, 08 (connection), 57P (operator intervention, e.g. shutdown) about reachability.
    init(sqlState: String) {
        if sqlState.hasPrefix("28") || sqlState == "42501" {
            self = .permissionDenied
        } else if sqlState.hasPrefix("53") {
            self = .resources
        } else if sqlState.hasPrefix("08") || sqlState.hasPrefix("57P") {
            self = .unavailable
        } else {
            self = .server
        }
    }
}
