import Archiver
import Foundation

/// `report NAME [filters] [--summary] [--PARAMETER VALUE]`: runs one report, streaming its rows.
///
/// The filters are bound as `:since`, `:until`, `:instance`, `:user`, `:app`, `:ip` (NULL when not
/// given) and `:limit` (-1 for none); each report uses the ones that make sense for it. `--action` is
/// refused (a report chooses its own actions) and the order is the report's own (chronological).
public struct ReportQuery: Sendable {
    public var report: Report
    public var filter: EventFilter
    public var summary: Bool
    /// Report-specific parameter values as the user typed them, by name; defaults fill the rest.
    public var parameters: [String: String]

    public init(report: Report, filter: EventFilter = EventFilter(), summary: Bool = false,
                parameters: [String: String] = [:]) {
        self.report = report
        self.filter = filter
        self.summary = summary
        self.parameters = parameters
    }

    /// Every value bound for this run, by parameter name (for `manifest.json`).
    public func boundValues() throws -> [String: SQLValue] {
        try filter.validate()
        guard filter.actions.isEmpty else {
            throw QueryInputError("--action does not apply to reports: each report chooses its own actions")
        }
        for name in parameters.keys where !report.parameters.contains(where: { $0.name == name }) {
            throw QueryInputError("report \(report.name) has no parameter --\(name)"
                                  + (report.parameters.isEmpty ? "" : " (it has " + report.parameters.map { "--\($0.name)" }.joined(separator: ", ") + ")"))
        }
        var values: [String: SQLValue] = [
            "since": filter.since.map(SQLValue.integer) ?? .null,
            "until": filter.until.map(SQLValue.integer) ?? .null,
            "instance": filter.instance.map(SQLValue.text) ?? .null,
            "user": filter.user.map(SQLValue.text) ?? .null,
            "app": filter.app.map(SQLValue.text) ?? .null,
            "ip": filter.ip.map(SQLValue.text) ?? .null,
            "limit": .integer(Int64(filter.limit ?? -1)),
        ]
        for parameter in report.parameters {
            values[parameter.name] = try parameter.value(parameters[parameter.name] ?? parameter.defaultValue)
        }
        return values
    }

    /// Streams the report's rows into `writer` and returns how many there were.
    @discardableResult
    public func run<W: RowWriter>(on database: Database, into writer: inout W) throws -> Int {
        let values = try boundValues()
        let sql: String, columns: [ReportColumn]
        if summary {
            guard let variant = report.summary else {
                throw QueryInputError("report \(report.name) has no --summary")
            }
            (sql, columns) = variant
        } else {
            (sql, columns) = (report.sql, report.columns)
        }
        let statement = try database.prepare(sql)
        // The connection is read-only already; this names the report instead of a SQLite write error.
        guard statement.isReadOnly else {
            throw QueryInputError("report \(report.name) (\(report.origin)) is not a read-only query: reports may only read the archive")
        }
        guard Int(statement.columnCount) == columns.count else {
            throw QueryInputError("report \(report.name) (\(report.origin)) declares \(columns.count) columns "
                                  + "but its SQL returns \(statement.columnCount)")
        }
        for (name, value) in values {
            for prefix in [":", "@", "$"] {
                if let index = try? statement.parameterIndex(prefix + name) { try statement.bind(value, at: index) }
            }
        }
        try writer.begin(columns: columns.map { Column($0.name) })
        var count = 0
        while try statement.step() {
            var row: [Cell] = []
            row.reserveCapacity(columns.count)
            for (offset, column) in columns.enumerated() {
                let index = Int32(offset)
                switch column.kind {
                case .text: row.append(statement.anyCell(index))
                case .integer: row.append(statement.isNull(at: index) ? .null : .integer(statement.int64(at: index)))
                case .time: row.append(statement.timeCell(index))
                case .json: row.append(statement.jsonCell(index))
                case .bool: row.append(statement.booleanCell(index))
                }
            }
            try writer.write(row: row)
            count += 1
        }
        try writer.finish()
        return count
    }
}
