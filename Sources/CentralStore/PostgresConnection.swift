import CLibPQ
import Foundation

/// A connection to PostgreSQL: our own thin layer over libpq, as `Database` is over SQLite.
///
/// Text protocol only: parameters and results travel as PostgreSQL's text forms, which keeps every
/// value exactly as the server prints it (bigint, bytea as `\x…` hex) and needs no type OIDs.
///
/// Thread safety: every method runs under one lock, so a connection can be handed between threads;
/// its blocking calls belong off Swift's cooperative pool, like SQLite's.
public final class PostgresConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    private let lock = NSRecursiveLock()
    /// Where it is connected, for messages (never the password: libpq does not echo it).
    public let target: String

    /// Connects to a libpq connection URI (`postgresql://USER@HOST:PORT/DBNAME`).
    ///
    /// The password comes only from PGPASSWORD or ~/.pgpass, as libpq reads them: one written into the
    /// URI would sit in shell history and `ps` for every user to read, so it is refused before any
    /// connection is tried.
    public init(uri: String) throws {
        if let failure = clibpq_load() {
            throw CentralStoreError(kind: .unavailable, message: "cannot load libpq, which push and --from need ("
                                    + String(cString: failure) + "): install Debian's libpq5 package")
        }
        let target = try Self.validate(uri: uri)
        guard let connection = PQconnectdb(uri) else {
            throw CentralStoreError(kind: .unavailable, message: "cannot connect to \(target): out of memory")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.firstLine(PQerrorMessage(connection).map { String(cString: $0) } ?? "")
            let needsPassword = PQconnectionNeedsPassword(connection) == 1
            PQfinish(connection)
            throw CentralStoreError(kind: Self.classifyConnectionFailure(message, needsPassword: needsPassword),
                                    message: "cannot connect to \(target): \(message)")
        }
        handle = connection
        self.target = target
        // One encoding for everything we send and read, whatever the database's locale.
        try execute("SET client_encoding = 'UTF8'")
        try execute("SET client_min_messages = warning")
    }

    deinit { PQfinish(handle) }

    /// Checks the URI with libpq's own parser and returns "HOST:PORT/DBNAME" for messages.
    static func validate(uri: String) throws -> String {
        guard uri.hasPrefix("postgresql://") || uri.hasPrefix("postgres://") else {
            throw CentralStoreError(kind: .badURL, message: "not a PostgreSQL connection URI: expected postgresql://USER@HOST:PORT/DBNAME")
        }
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(uri, &errorMessage) else {
            let detail = errorMessage.map { String(cString: $0) } ?? "cannot parse it"
            if let errorMessage { PQfreemem(errorMessage) }
            throw CentralStoreError(kind: .badURL, message: "bad PostgreSQL URI: \(firstLine(detail))")
        }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { values[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        if values["password"] != nil {
            throw CentralStoreError(kind: .badURL,
                                    message: "the PostgreSQL URI holds a password, which 'ps' and shell history show to others: remove it and use PGPASSWORD or ~/.pgpass")
        }
        let host = values["host"] ?? values["hostaddr"] ?? "localhost"
        return "\(host)\(values["port"].map { ":\($0)" } ?? "")/\(values["dbname"] ?? values["user"] ?? "")"
    }

    /// libpq reports every connection failure as text; these are the phrases of its C-locale messages.
    static func classifyConnectionFailure(_ message: String, needsPassword: Bool) -> CentralStoreError.Kind {
        if needsPassword || message.contains("authentication failed") || message.contains("no password supplied")
            || message.contains("no pg_hba.conf entry") || (message.contains("role \"") && message.contains("does not exist")) {
            return .permissionDenied
        }
        if message.contains("database \"") && message.contains("does not exist") { return .badTarget }
        return .unavailable
    }

    static func firstLine(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return String(trimmed.split(whereSeparator: \.isNewline).first ?? Substring(trimmed))
            .replacingOccurrences(of: "\t", with: " ")
    }

    private func serialized<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: Statements

    /// Runs SQL without parameters (several statements allowed) and discards any rows.
    public func execute(_ sql: String) throws {
        try serialized {
            let result = PQexec(handle, sql)
            defer { PQclear(result) }
            try check(result, sql: sql)
        }
    }

    /// Runs one statement with text parameters ($1, $2, …; nil is NULL) and returns its rows as text.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> PostgresRows {
        try serialized {
            let result = withParameterPointers(parameters) { pointers in
                PQexecParams(handle, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
            }
            defer { PQclear(result) }
            try check(result, sql: sql)
            return PostgresRows(result)
        }
    }

    /// Runs one statement and hands its rows to `body` one at a time as they arrive (libpq's single-row
    /// mode), so an export of a million events never sits in memory whole. The first row is read before
    /// `body` is called; an error the server reports midway is thrown after the rows before it.
    public func forEachRow(_ sql: String, _ parameters: [String?] = [], _ body: ([String?]) throws -> Void) throws {
        try stream(sql, parameters, begin: { _ in }, row: body)
    }

    /// Runs one statement with text parameters and hands over its rows one at a time as they arrive
    /// (libpq's single-row mode), so that a report of millions of rows never sits in memory whole.
    /// `begin` gets the result's column type OIDs before the first row (also for no row at all), so a
    /// statement that fails before its first row has written nothing.
    public func stream(_ sql: String, _ parameters: [String?], begin: ([UInt32]) throws -> Void,
                       row: ([String?]) throws -> Void) throws {
        try serialized {
            let sent = withParameterPointers(parameters) { pointers in
                PQsendQueryParams(handle, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
            }
            guard sent == 1 else {
                throw CentralStoreError(kind: .unavailable, message: "lost the connection to \(target): \(currentErrorMessage())")
            }
            PQsetSingleRowMode(handle)
            var failure: Error?
            var begun = false
            // Every result is read to the end (libpq takes no other command before); after a failure here
            // (the reader closed the pipe), the server is asked to stop sending.
            while let result = PQgetResult(handle) {
                defer { PQclear(result) }
                guard failure == nil else { continue }
                let status = PQresultStatus(result)
                guard status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK else {
                    do { try check(result, sql: sql) } catch { failure = error }
                    continue
                }
                let fields = PQnfields(result)
                do {
                    if !begun {
                        begun = true
                        try begin((0..<fields).map { UInt32(PQftype(result, $0)) })
                    }
                    for index in 0..<PQntuples(result) {
                        try row((0..<fields).map { field in
                            PQgetisnull(result, index, field) == 1 ? nil : String(cString: PQgetvalue(result, index, field))
                        })
                    }
                } catch {
                    failure = error
                    if let cancel = PQgetCancel(handle) {
                        var message = [CChar](repeating: 0, count: 256)
                        _ = PQcancel(cancel, &message, Int32(message.count))
                        PQfreeCancel(cancel)
                    }
                }
            }
            if let failure { throw failure }
        }
    }

    /// The first column of the first row, or nil when there is no row or it is NULL.
    public func scalar(_ sql: String, _ parameters: [String?] = []) throws -> String? {
        try query(sql, parameters).rows.first?.first ?? nil
    }

    /// Runs `body` in one transaction: COMMIT when it returns, ROLLBACK when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try serialized {
            try execute("BEGIN")
            do {
                let result = try body()
                try execute("COMMIT")
                return result
            } catch {
                try? execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Streams rows into `COPY … FROM STDIN` (text format): `write` encodes them into the buffer, which
    /// sends them to the server in large chunks. Returns the number of rows sent.
    public func copyIn(_ sql: String, _ write: (inout CopyBuffer) throws -> Void) throws -> Int {
        try serialized {
            let start = PQexec(handle, sql)
            let status = PQresultStatus(start)
            guard status == PGRES_COPY_IN else {
                defer { PQclear(start) }
                try check(start, sql: sql)
                throw CentralStoreError(kind: .server, message: "\(sql) did not start a COPY")
            }
            PQclear(start)
            var buffer = CopyBuffer(flush: { [handle] bytes in
                let rc = bytes.withUnsafeBufferPointer { pointer in
                    pointer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: pointer.count) {
                        PQputCopyData(handle, $0, Int32(pointer.count))
                    }
                }
                return rc == 1
            })
            var failure: Error?
            do { try write(&buffer) } catch { failure = error }
            if failure == nil, !buffer.flushRemaining() {
                failure = CentralStoreError(kind: .server, message: "COPY failed: \(currentErrorMessage())")
            }
            PQputCopyEnd(handle, failure == nil ? nil : "aborted by cloudron-audit")
            // Drain every result (the COPY's own, then the end of the command).
            var serverError: Error?
            while let result = PQgetResult(handle) {
                do { try check(result, sql: sql) } catch { serverError = serverError ?? error }
                PQclear(result)
            }
            if let failure { throw failure }
            if let serverError { throw serverError }
            return buffer.rows
        }
    }

    /// Sends rows already encoded by a collecting `CopyBuffer`.
    public func copyIn(_ sql: String, encoded: [UInt8]) throws {
        _ = try copyIn(sql) { buffer in buffer.appendEncoded(encoded) }
    }

    private func currentErrorMessage() -> String {
        Self.firstLine(PQerrorMessage(handle).map { String(cString: $0) } ?? "")
    }

    private func check(_ result: OpaquePointer?, sql: String) throws {
        guard let result else {
            throw CentralStoreError(kind: .unavailable, message: "lost the connection to \(target): \(currentErrorMessage())")
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_COPY_IN, PGRES_EMPTY_QUERY: return
        default:
            let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            let message = Self.firstLine(PQresultErrorMessage(result).map { String(cString: $0) } ?? "")
            if PQstatus(handle) != CONNECTION_OK {
                throw CentralStoreError(kind: .unavailable, message: "lost the connection to \(target): \(message)")
            }
            throw CentralStoreError(kind: CentralStoreError.Kind(sqlState: sqlState), message: message, sqlState: sqlState)
        }
    }

    private func withParameterPointers<T>(_ parameters: [String?],
                                          _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
        let copies = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        return body(copies.map { $0.map { UnsafePointer($0) } })
    }
}

/// The rows of one result, every value as PostgreSQL's text form (nil for NULL).
public struct PostgresRows: Sendable {
    public let columns: [String]
    public let rows: [[String?]]

    init(_ result: OpaquePointer?) {
        guard let result else { columns = []; rows = []; return }
        let fieldCount = PQnfields(result)
        columns = (0..<fieldCount).map { String(cString: PQfname(result, $0)) }
        rows = (0..<PQntuples(result)).map { row in
            (0..<fieldCount).map { field in
                PQgetisnull(result, row, field) == 1 ? nil : String(cString: PQgetvalue(result, row, field))
            }
        }
    }
}

/// Rows for `COPY … FROM STDIN` in PostgreSQL's text format (tab-separated, `\N` for NULL,
/// backslash escapes), encoded straight into the buffer and sent in chunks of about 1 MiB.
public struct CopyBuffer {
    private var bytes: [UInt8] = []
    /// Sends a chunk to the server; nil keeps every byte (`encoded`), to hash a table before sending it.
    private let flush: (([UInt8]) -> Bool)?
    private var failed = false
    private var atRowStart = true
    public private(set) var rows = 0
    private static let chunk = 1 << 20
    private static let hexDigits = Array("0123456789abcdef".utf8)

    init(flush: @escaping ([UInt8]) -> Bool) {
        self.flush = flush
        bytes.reserveCapacity(Self.chunk + 65_536)
    }

    /// A buffer that sends nothing and keeps the encoded rows.
    public init() { flush = nil }

    /// Everything encoded so far (a collecting buffer only).
    public var encoded: [UInt8] { bytes }

    private mutating func separate() {
        if !atRowStart { bytes.append(UInt8(ascii: "\t")) }
        atRowStart = false
    }

    public mutating func appendNull() {
        separate()
        bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
    }

    public mutating func appendInteger(_ value: Int64) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func appendReal(_ value: Double) {
        separate()
        bytes.append(contentsOf: "\(value)".utf8)
    }

    /// UTF-8 text, with the four bytes COPY gives a meaning (backslash, tab, newline, return) escaped.
    public mutating func appendText(_ text: UnsafeRawBufferPointer) {
        separate()
        for byte in text {
            switch byte {
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "\t"): bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            case UInt8(ascii: "\n"): bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            default: bytes.append(byte)
            }
        }
    }

    public mutating func appendText(_ text: String) {
        var text = text
        text.withUTF8 { appendText(UnsafeRawBufferPointer($0)) }
    }

    /// bytea in hex form; the backslash of `\x` is itself escaped for COPY.
    public mutating func appendBytea(_ blob: UnsafeRawBufferPointer) {
        separate()
        bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")])
        for byte in blob {
            bytes.append(Self.hexDigits[Int(byte >> 4)])
            bytes.append(Self.hexDigits[Int(byte & 0x0F)])
        }
    }

    mutating func appendEncoded(_ rows: [UInt8]) {
        bytes.append(contentsOf: rows)
        if flush != nil, bytes.count >= Self.chunk { _ = flushRemaining() }
    }

    /// Ends the current row.
    public mutating func endRow() {
        bytes.append(UInt8(ascii: "\n"))
        atRowStart = true
        rows += 1
        if flush != nil, bytes.count >= Self.chunk { _ = flushRemaining() }
    }

    /// Sends what is buffered; false once the server refused data.
    mutating func flushRemaining() -> Bool {
        guard !failed else { return false }
        guard !bytes.isEmpty, let flush else { return true }
        failed = !flush(bytes)
        bytes.removeAll(keepingCapacity: true)
        return !failed
    }
}
