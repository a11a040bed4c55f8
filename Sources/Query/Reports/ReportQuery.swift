import Archiver
import Foundation

/// `report NAME [filters] [--summary] [--PARAMETER VALUE]`: runs one report, streaming its rows.
///
/// The filters are bound as `:since`, `:until`, `:instance`, `:user`, `:app`, `:ip` (NULL when not
/// given); each report declares the ones it applies (`Report.filters`) and any other one given is
/// refused, as is `--action` (a report chooses its own actions). Every report applies `:limit` (-1 for
/// none) and `:direction` (-1 newest first, 1 oldest first: its ORDER BY multiplies its time by it).
public struct ReportQuery: Sendable {
    public let report: Report
    public let filter: EventFilter
    public let summary: Bool
    /// Every value bound for this run, by parameter name (for `manifest.json`): the filters (NULL when
    /// not given) and each report parameter (its default when not given).
    public let boundValues: [String: SQLValue]
    /// The report's own parameters (`--gap`, `--param`) as the user wrote them, or their defaults.
    public let parameterTexts: [String: String]
    /// The statement run: the report's, or its summary's.
    private let sql: String
    private let columns: [ReportColumn]

    /// - Parameter parameters: report-specific values as the user typed them, by name; defaults fill the rest.
    /// - Throws: `QueryInputError` for an invalid filter, `--action`, an unknown or invalid parameter, or
    ///   `--summary` of a report that has none.
    /// - Parameter result: `--result`: only the rows with this outcome, where the report declares one.
    public init(report: Report, filter: EventFilter = EventFilter(), summary: Bool = false,
                parameters: [String: String] = [:], result: String? = nil) throws {
        try Self.validate(filter)
        try self.init(report: report, validatedFilter: filter, summary: summary, parameters: parameters, result: result)
    }

    /// For a filter passed through `validate(_:)` already: `report --all` checks its filter once for every report.
    init(report: Report, validatedFilter filter: EventFilter, summary: Bool, parameters: [String: String] = [:],
         result: String? = nil) throws {
        for unsupported in ReportFilter.allCases
        where unsupported.isSet(in: filter, result: result) && !report.filters.contains(unsupported) {
            throw QueryInputError("report \(report.name) does not filter by \(unsupported.option): it takes "
                                  + (report.filters.map(\.option) + ["--limit", "--order"]).joined(separator: ", "))
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
            "direction": .integer(filter.order == .newest ? -1 : 1),
        ]
        if report.filters.contains(.result) {
            if let result, !report.results.contains(result) {
                throw QueryInputError("report \(report.name) has no result \(TimeExpression.quoted(result)): use "
                                      + report.results.joined(separator: ", "))
            }
            values["result"] = result.map(SQLValue.text) ?? .null
        }
        var texts: [String: String] = [:]
        for parameter in report.parameters {
            let text = parameters[parameter.name] ?? parameter.defaultValue
            values[parameter.name] = try parameter.value(text)
            texts[parameter.name] = text
        }
        self.parameterTexts = texts
        if summary {
            guard let summaryColumns = report.summary?.columns else {
                throw QueryInputError("report \(report.name) has no --summary")
            }
            columns = summaryColumns
        } else {
            columns = report.columns
        }
        // Both exist: the summary's was checked above.
        sql = report.statement(summary: summary, order: filter.order) ?? report.sql
        self.report = report
        self.filter = filter
        self.summary = summary
        self.boundValues = values
    }

    /// Checks a filter for reports: valid, and without `--action`.
    static func validate(_ filter: EventFilter) throws {
        try filter.validate()
        guard filter.actions.isEmpty else {
            throw QueryInputError("--action does not apply to reports: each report chooses its own actions")
        }
    }

    /// Streams the report's rows into `writer` and returns how many there were.
    @discardableResult
    public func run<W: RowWriter>(on session: ReadSession, into writer: inout W) throws -> Int {
        try ArchivedNames.requireKnownInstance(filter, in: session)
        let statement = try session.prepare(sql)
        // The connection is read-only already; this names the report instead of a SQLite write error.
        guard statement.isReadOnly else {
            throw QueryInputError("report \(report.name) (\(report.origin)) is not a read-only query: reports may only read the archive")
        }
        guard Int(statement.columnCount) == columns.count else {
            throw QueryInputError("report \(report.name) (\(report.origin)) declares \(columns.count) columns "
                                  + "but its SQL returns \(statement.columnCount)")
        }
        for (name, value) in boundValues {
            for prefix in [":", "@", "$"] {
                if let index = try? statement.parameterIndex(prefix + name) { try statement.bind(value, at: index) }
            }
        }
        let kinds = columns.map(\.kind)
        return try RowStreaming.run(statement, columns: columns.map { Column($0.name) }, into: &writer) { statement, writer in
            try writer.write(row: StatementRow(statement, kinds: kinds))
        }
    }
}
