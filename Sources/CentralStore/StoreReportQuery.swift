import Archiver
import Foundation
import Query

/// `report NAME --from postgresql://…`: a report run on the central store, with the same options as on
/// the archive (`ReportQuery` checks and binds them) and rows written by the same writers.
///
/// The report's PostgreSQL text (`StoreReport`) runs with its named parameters as `$n`, in one read-only
/// snapshot, its rows streamed. An instance is named by its archive and its name, as several archives
/// may each hold a `prod`: `archive` (a pushed archive's id, or a unique prefix of it) reads that archive
/// only and writes the report's own columns, exactly as `report --db` on that archive does; without it,
/// every archive is read and each row starts with the `archive_id` it comes from, as the views do.
public struct StoreReportQuery: Sendable {
    public let query: ReportQuery
    public let dialect: StoreReport
    /// The archive to read, as given; nil for every archive of the store.
    public let archive: String?

    /// - Throws: `QueryInputError` for a report without a PostgreSQL text (one of `--reports-dir`) or an
    ///   archive id that is not hex.
    public init(query: ReportQuery, archive: String? = nil) throws {
        if let archive, archive.isEmpty || !archive.allSatisfy(\.isHexDigit) {
            throw QueryInputError("invalid --archive \(TimeExpression.quoted(archive)): use an archive id as 'status --from' lists it, or its first digits")
        }
        self.query = query
        self.dialect = try StoreReportCatalog.dialect(of: query.report)
        self.archive = archive?.lowercased()
    }

    /// Streams the report's rows into `writer` and returns how many there were.
    @discardableResult
    public func run<W: RowWriter>(on connection: PostgresConnection, into writer: inout W) throws -> Int {
        try CentralSchema.check(connection)
        let archiveID = try archive.map { try Self.resolve(archive: $0, in: connection) }
        try requireKnownInstance(archiveID: archiveID, in: connection)
        guard let statement = dialect.statement(summary: query.summary),
              let columns = query.summary ? query.report.summary?.columns : query.report.columns else {
            throw QueryInputError("report \(query.report.name) has no --summary")
        }
        var bound = query.boundValues
        bound["archive"] = archiveID.map(SQLValue.text) ?? .null
        var values: [String?] = []
        var numbers: [String: Int] = [:]
        let sql = try NamedParameters.substitute(Self.withHelperViews(statement)) { name in
            guard let value = bound[name] else {
                throw QueryInputError("report \(query.report.name): its PostgreSQL text binds :\(name), which no option sets")
            }
            let number = numbers[name] ?? {
                values.append(Self.text(value))
                numbers[name] = values.count
                return values.count
            }()
            return "CAST($\(number) AS \(dialect.sqlType(of: name)))"
        }
        let kinds = columns.map(\.kind)
        let output = (archiveID == nil ? [Column("archive_id")] : []) + columns.map { Column($0.name) }
        let skipped = archiveID == nil ? 0 : 1
        var count = 0
        try connection.transaction {
            try connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            // Unqualified names in the texts are the store's tables, as in the archive.
            try connection.execute("SET LOCAL search_path TO \(CentralSchema.schemaName)")
            var types: [UInt32] = []
            try connection.stream(sql, values, begin: { found in
                guard found.count == kinds.count + 1 else {
                    throw QueryInputError("report \(query.report.name) declares \(kinds.count) columns but its PostgreSQL text "
                                          + "returns \(found.count) (archive_id and the report's)")
                }
                types = found
                try writer.begin(columns: output)
            }, row: { row in
                var cells: [Cell] = skipped == 0 ? [row[0].map(Cell.text) ?? .null] : []
                for (offset, kind) in kinds.enumerated() {
                    cells.append(Self.cell(row[offset + 1], kind: kind, type: types[offset + 1]))
                }
                try writer.write(row: cells)
                count += 1
            })
        }
        try writer.finish()
        return count
    }

    /// A helper view the statement reads (`user_role_changes`) as a common table expression of its own,
    /// so that the run depends on the store's tables only, not on the views the last push created.
    static func withHelperViews(_ statement: String) -> String {
        var statement = statement
        for helper in StoreReportCatalog.helperViews.reversed() where statement.contains(helper.name) {
            let definition = "\(helper.name) AS (\n\(helper.sql)\n)"
            if statement.prefix(5).uppercased() == "WITH " {
                statement = "WITH \(definition),\n" + statement.dropFirst(5)
            } else {
                statement = "WITH \(definition)\n" + statement
            }
        }
        return statement
    }

    /// The full id of the one pushed archive whose id starts with `prefix`.
    static func resolve(archive prefix: String, in connection: PostgresConnection) throws -> String {
        let ids = try connection.query("SELECT archive_id FROM \(CentralSchema.schemaName).store_archives ORDER BY archive_id")
            .rows.compactMap { $0.first ?? nil }
        let matches = ids.filter { $0.hasPrefix(prefix) }
        guard let first = matches.first else {
            throw CentralStoreError(kind: .notPushed, message: "\(connection.target) holds no archive \(prefix): "
                                    + (ids.isEmpty ? "nothing was pushed yet" : "it holds " + ids.joined(separator: ", ")))
        }
        guard matches.count == 1 else {
            throw QueryInputError("--archive \(prefix) is ambiguous: " + matches.joined(separator: ", "))
        }
        return first
    }

    /// As on the archive, an `--instance` that no archive read holds is refused with the names there are.
    private func requireKnownInstance(archiveID: String?, in connection: PostgresConnection) throws {
        guard let instance = query.filter.instance else { return }
        let names = try connection.query("""
            SELECT DISTINCT name FROM \(CentralSchema.schemaName).instances WHERE CAST($1 AS text) IS NULL OR archive_id = $1 ORDER BY name
            """, [archiveID]).rows.compactMap { $0.first ?? nil }
        guard !names.contains(instance) else { return }
        let holder = archiveID.map { "archive \($0)" } ?? "the store"
        throw QueryInputError("unknown instance \(TimeExpression.quoted(instance)): "
                              + (names.isEmpty ? "\(holder) holds no server yet" : "\(holder) holds " + names.joined(separator: ", ")))
    }

    static func text(_ value: SQLValue) -> String? {
        switch value {
        case .integer(let value): String(value)
        case .real(let value): String(value)
        case .text(let value): value
        case .textBytes(let bytes), .blob(let bytes): String(decoding: bytes, as: UTF8.self)
        case .null: nil
        }
    }

    // PostgreSQL's type OIDs (pg_type.dat) of the values a report returns.
    private static let booleanType: UInt32 = 16
    private static let integerTypes: Set<UInt32> = [20, 21, 23]
    private static let realTypes: Set<UInt32> = [700, 701]
    private static let numericType: UInt32 = 1700

    /// A cell as the archive's report writes it (`ReportQuery`): by the column's declared kind, and for
    /// `text` (SQLite's own type there) by PostgreSQL's type of the value.
    static func cell(_ text: String?, kind: ReportColumn.Kind, type: UInt32) -> Cell {
        guard let text else { return .null }
        switch kind {
        case .integer: return Int64(text).map(Cell.integer) ?? .text(text)
        case .time: return Int64(text).map(Cell.time) ?? .text(text)
        case .bool: return .boolean(text == "t" || text == "true" || (Int64(text).map { $0 != 0 } ?? false))
        case .json: return .json(JSONWhitespace.removed(from: Array(text.utf8)))
        case .text:
            if integerTypes.contains(type) || type == numericType, let value = Int64(text) { return .integer(value) }
            if realTypes.contains(type) || type == numericType, let value = Double(text) { return .real(value) }
            if type == booleanType { return .integer(text == "t" ? 1 : 0) }
            return .text(text)
        }
    }
}

/// JSON without the whitespace between its tokens: PostgreSQL's `json` keeps a member's text as received,
/// SQLite's json_extract returns it minified, and a report's JSON column reads the same from both.
enum JSONWhitespace {
    static func removed(from bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var inString = false, escaped = false
        for byte in bytes {
            if inString {
                out.append(byte)
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): continue
            case UInt8(ascii: "\""): inString = true; out.append(byte)
            default: out.append(byte)
            }
        }
        return out
    }
}
