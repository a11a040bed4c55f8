import CSQLite

/// A value to bind to a statement parameter.
public enum SQLValue: Sendable, Hashable {
    case integer(Int64)
    case real(Double)
    case text(String)
    /// UTF-8 bytes stored as TEXT without a detour through `String` (raw JSON as received).
    case textBytes([UInt8])
    case blob([UInt8])
    case null
}

/// A prepared statement. Not thread-safe: use it from one thread at a time (the statements that
/// `Database` caches are only handed out inside its lock).
public final class Statement {
    let handle: OpaquePointer
    /// The connection, for error messages; sqlite3_close_v2 keeps it alive while statements exist.
    private let connection: OpaquePointer
    public let sql: String

    init(connection: OpaquePointer, sql: String) throws {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw SQLiteError(code: sqlite3_extended_errcode(connection),
                              message: String(cString: sqlite3_errmsg(connection)), context: sql)
        }
        self.handle = statement
        self.connection = connection
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    private func check(_ rc: Int32) throws {
        guard rc == SQLITE_OK else { throw error(rc) }
    }

    private func error(_ rc: Int32) -> SQLiteError {
        SQLiteError(code: sqlite3_extended_errcode(connection),
                    message: String(cString: sqlite3_errmsg(connection)), context: sql)
    }

    // MARK: Binding (indices are 1-based, as in SQLite)

    public func bind(_ value: Int64, at index: Int32) throws { try check(sqlite3_bind_int64(handle, index, value)) }
    public func bind(_ value: Int, at index: Int32) throws { try bind(Int64(value), at: index) }
    public func bind(_ value: Bool, at index: Int32) throws { try bind(Int64(value ? 1 : 0), at: index) }
    public func bind(_ value: Double, at index: Int32) throws { try check(sqlite3_bind_double(handle, index, value)) }
    public func bind(_ value: String, at index: Int32) throws {
        try check(sqlite3_bind_text(handle, index, value, -1, csqlite_transient()))
    }
    /// Binds UTF-8 bytes as TEXT, byte for byte.
    public func bindText(bytes: [UInt8], at index: Int32) throws {
        let rc = bytes.withUnsafeBufferPointer { buffer in
            // A non-null pointer even for an empty array, or SQLite would store NULL.
            buffer.baseAddress.map { base in
                base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    sqlite3_bind_text(handle, index, $0, Int32(buffer.count), csqlite_transient())
                }
            } ?? sqlite3_bind_text(handle, index, "", 0, csqlite_transient())
        }
        try check(rc)
    }
    public func bindBlob(_ bytes: [UInt8], at index: Int32) throws {
        let rc = bytes.withUnsafeBytes { buffer in
            buffer.baseAddress.map { sqlite3_bind_blob(handle, index, $0, Int32(buffer.count), csqlite_transient()) }
                ?? sqlite3_bind_zeroblob(handle, index, 0)
        }
        try check(rc)
    }
    public func bindNull(at index: Int32) throws { try check(sqlite3_bind_null(handle, index)) }

    public func bind(_ value: SQLValue, at index: Int32) throws {
        switch value {
        case let .integer(v): try bind(v, at: index)
        case let .real(v): try bind(v, at: index)
        case let .text(v): try bind(v, at: index)
        case let .textBytes(v): try bindText(bytes: v, at: index)
        case let .blob(v): try bindBlob(v, at: index)
        case .null: try bindNull(at: index)
        }
    }

    public func bind(_ value: Int64?, at index: Int32) throws {
        if let value { try bind(value, at: index) } else { try bindNull(at: index) }
    }
    public func bind(_ value: String?, at index: Int32) throws {
        if let value { try bind(value, at: index) } else { try bindNull(at: index) }
    }

    /// Binds the values to parameters 1, 2, 3, ...
    public func bind(_ values: [SQLValue]) throws {
        for (offset, value) in values.enumerated() { try bind(value, at: Int32(offset + 1)) }
    }

    /// The index of a named parameter (`:name`, `@name` or `$name`, prefix included).
    public func parameterIndex(_ name: String) throws -> Int32 {
        let index = sqlite3_bind_parameter_index(handle, name)
        guard index > 0 else {
            throw SQLiteError(kind: .other, code: SQLITE_RANGE, message: "no parameter named \(name)", context: sql)
        }
        return index
    }

    public func bind(_ value: SQLValue, named name: String) throws { try bind(value, at: parameterIndex(name)) }
    public func bind(_ value: Int64, named name: String) throws { try bind(value, at: parameterIndex(name)) }
    public func bind(_ value: String, named name: String) throws { try bind(value, at: parameterIndex(name)) }
    public func bindText(bytes: [UInt8], named name: String) throws { try bindText(bytes: bytes, at: parameterIndex(name)) }
    public func bindBlob(_ bytes: [UInt8], named name: String) throws { try bindBlob(bytes, at: parameterIndex(name)) }

    // MARK: Stepping

    /// Advances to the next row: true when a row is available, false when the statement is done.
    @discardableResult
    public func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let rc: throw error(rc)
        }
    }

    /// Runs a statement that returns no rows (or ignores them), then resets it.
    public func run() throws {
        defer { reset() }
        while try step() {}
    }

    /// Makes the statement ready to run again and clears its bindings.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    // MARK: Columns (indices are 0-based, as in SQLite)

    public var columnCount: Int32 { sqlite3_column_count(handle) }
    /// Whether the statement can only read (sqlite3_stmt_readonly): for SQL that users hand in, such as reports.
    public var isReadOnly: Bool { sqlite3_stmt_readonly(handle) != 0 }
    public func columnName(at index: Int32) -> String { String(cString: sqlite3_column_name(handle, index)) }
    public func isNull(at index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

    public func int64(at index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }
    public func int(at index: Int32) -> Int { Int(sqlite3_column_int64(handle, index)) }
    public func double(at index: Int32) -> Double { sqlite3_column_double(handle, index) }
    public func bool(at index: Int32) -> Bool { sqlite3_column_int64(handle, index) != 0 }
    public func optionalInt64(at index: Int32) -> Int64? { isNull(at: index) ? nil : int64(at: index) }
    public func optionalBool(at index: Int32) -> Bool? { isNull(at: index) ? nil : bool(at: index) }

    /// TEXT as a String; "" for NULL.
    public func string(at index: Int32) -> String {
        guard let text = sqlite3_column_text(handle, index) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }
    public func optionalString(at index: Int32) -> String? { isNull(at: index) ? nil : string(at: index) }

    /// The column's bytes (BLOB, or TEXT as stored); [] for NULL.
    public func bytes(at index: Int32) -> [UInt8] {
        guard let pointer = sqlite3_column_blob(handle, index) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, index))
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
    public func optionalBytes(at index: Int32) -> [UInt8]? { isNull(at: index) ? nil : bytes(at: index) }

    /// The column's bytes without a copy, valid only inside `body` (bulk export of whole tables).
    public func withUnsafeBytes<T>(at index: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let pointer = sqlite3_column_blob(handle, index)
        return try body(UnsafeRawBufferPointer(start: pointer, count: pointer == nil ? 0 : Int(sqlite3_column_bytes(handle, index))))
    }

    /// The storage class of the column's value in the current row.
    public enum StorageClass: Sendable { case integer, real, text, blob, null }

    public func storageClass(at index: Int32) -> StorageClass {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: .integer
        case SQLITE_FLOAT: .real
        case SQLITE_TEXT: .text
        case SQLITE_BLOB: .blob
        default: .null
        }
    }

    public func value(at index: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: return .integer(int64(at: index))
        case SQLITE_FLOAT: return .real(double(at: index))
        case SQLITE_TEXT: return .text(string(at: index))
        case SQLITE_BLOB: return .blob(bytes(at: index))
        default: return .null
        }
    }
}
