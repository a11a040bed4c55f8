import Archiver
import Foundation

/// One report: a SQL statement over the archive with a title, a description, typed columns, and
/// parameters. Defined in a `reports/NAME.sql` file (see reports/README.md for the format).
public struct Report: Sendable, Hashable {
    public var name: String
    public var title: String
    public var description: String
    public var columns: [ReportColumn]
    /// The filters the report applies (`-- filters:`); any other filter given is refused. Without the
    /// line (a user's older report), the filters its SQL binds.
    public var filters: [ReportFilter]
    /// The values `--result` accepts, when the report filters on its result (`result(a|b|c)` in `-- filters:`).
    public var results: [String]
    public var parameters: [ReportParameter]
    public var sql: String
    /// The `--summary` variant, when the report has one.
    public var summary: (sql: String, columns: [ReportColumn])? {
        guard let summarySQL, let summaryColumns else { return nil }
        return (summarySQL, summaryColumns)
    }
    var summarySQL: String?
    var summaryColumns: [ReportColumn]?
    /// How the statements apply `--order` (`-- direction:`).
    public var direction: DirectionSpelling = .factor
    /// Where the definition came from (`built-in` or a file path), for messages.
    public var origin: String

    /// Parses a report file.
    /// - Throws: `QueryInputError` naming the file and the problem, in one line.
    public init(name: String, text: String, origin: String) throws {
        self.name = name
        self.origin = origin
        var title: String?, description = "", columns: [ReportColumn]?, summaryColumns: [ReportColumn]?
        var filters: [ReportFilter]?
        var results: [String] = []
        var parameters: [ReportParameter] = []
        var main: [Substring] = [], summary: [Substring] = []
        var inSummary = false
        func fail(_ message: String) -> QueryInputError {
            QueryInputError("report \(name) (\(origin)): \(message)")
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == "-- summary" { inSummary = true; continue }
            if trimmed.hasPrefix("-- "), let colon = trimmed.firstIndex(of: ":") {
                let key = trimmed[trimmed.index(trimmed.startIndex, offsetBy: 3)..<colon]
                let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                switch key {
                case "title": title = value; continue
                case "description": description = value; continue
                case "columns": columns = try ReportColumn.parseList(value).get(or: fail); continue
                case "summary-columns": summaryColumns = try ReportColumn.parseList(value).get(or: fail); continue
                case "parameter": parameters.append(try ReportParameter.parse(value).get(or: fail)); continue
                case "filters": (filters, results) = try ReportFilter.parseList(value).get(or: fail); continue
                case "direction":
                    guard let spelling = DirectionSpelling(rawValue: value) else {
                        throw fail("unknown direction \(value) (use " + DirectionSpelling.allCases.map(\.rawValue).joined(separator: ", ") + ")")
                    }
                    self.direction = spelling
                    continue
                default: break
                }
            }
            if inSummary { summary.append(line) } else { main.append(line) }
        }
        guard let title else { throw fail("missing `-- title:` line") }
        guard let columns, !columns.isEmpty else { throw fail("missing `-- columns:` line") }
        let mainSQL = main.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !mainSQL.isEmpty else { throw fail("no SQL statement") }
        let summarySQL = summary.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        if !summarySQL.isEmpty && summaryColumns == nil { throw fail("a summary needs a `-- summary-columns:` line") }
        self.title = title
        self.description = description
        self.columns = columns
        self.filters = filters ?? ReportFilter.allCases.filter { filter in
            [mainSQL, summarySQL].contains { $0.contains(":" + filter.rawValue) }
        }
        if self.filters.contains(.result) && results.isEmpty {
            throw fail("the result filter lists the values it accepts: result(value|value…)")
        }
        self.results = results
        self.parameters = parameters
        self.sql = mainSQL
        self.summarySQL = summarySQL.isEmpty ? nil : summarySQL
        self.summaryColumns = summarySQL.isEmpty ? nil : summaryColumns
    }

    /// The statement run for `--order` (the summary's with `summary`): each `* :direction` becomes the
    /// keyword `DESC` or `ASC` where the report spells its direction as a keyword.
    func statement(summary: Bool, order: ResultOrder) -> String? {
        guard let text = summary ? summarySQL : sql else { return nil }
        switch direction {
        case .factor: return text
        case .keyword: return text.replacingOccurrences(of: "* :direction", with: order == .newest ? "DESC" : "ASC")
        }
    }

    public static func == (lhs: Report, rhs: Report) -> Bool {
        lhs.name == rhs.name && lhs.origin == rhs.origin && lhs.sql == rhs.sql && lhs.summarySQL == rhs.summarySQL
            && lhs.direction == rhs.direction
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(origin)
    }
}

/// How a report's statements apply `--order` (`-- direction:` in its header).
///
/// `factor`, the default: `:direction` is bound as -1 (newest first) or 1 and the ORDER BY multiplies the
/// report's time by it. SQLite cannot read `time * :direction` from an index in order, so it sorts every row
/// in a temporary B-tree; a report whose rows can come straight from an index walk says `keyword`: each
/// `* :direction` of its statements is written as `DESC` (newest first) or `ASC`. Only for terms that are never
/// NULL: `DESC` puts NULLs last, `NULL * -1` sorts first.
public enum DirectionSpelling: String, Sendable, Hashable, CaseIterable {
    case factor, keyword
}

/// A filter a report can apply, bound as `:name` (NULL when not given). `--limit` and `--order` are not
/// among them: every report applies those (`:limit`, `:direction`).
///
/// `result` is a report's own outcome column (a backup's success, failed or unfinished): the report
/// declares the values it takes, `result(success|failed|unfinished)`, and compares its column with `:result`.
public enum ReportFilter: String, Sendable, Hashable, CaseIterable {
    case since, until, instance, user, app, ip, result

    /// The option that sets it.
    public var option: String { "--" + rawValue }

    /// Whether `filter` (and the `--result` value) sets this one.
    func isSet(in filter: EventFilter, result: String?) -> Bool {
        switch self {
        case .since: filter.since != nil
        case .until: filter.until != nil
        case .instance: filter.instance != nil
        case .user: filter.user != nil
        case .app: filter.app != nil
        case .ip: filter.ip != nil
        case .result: result != nil
        }
    }

    /// This filter's value in `filter` as the user writes it (times in ISO 8601, per `times`); nil when unset.
    func userValue(in filter: EventFilter, times: inout TimestampFormatter) -> String? {
        switch self {
        case .since: filter.since.map { times.string(from: $0) }
        case .until: filter.until.map { times.string(from: $0) }
        case .instance: filter.instance
        case .user: filter.user
        case .app: filter.app
        case .ip: filter.ip
        // The result is not an event filter: ReportQuery holds it.
        case .result: nil
        }
    }

    /// `since, until, result(a|b)`: the filters, and the values the result filter accepts.
    static func parseList(_ text: String) -> Result<([ReportFilter], [String]), ParseFailure> {
        var filters: [ReportFilter] = []
        var results: [String] = []
        for item in text.split(separator: ",") {
            var name = item.trimmingCharacters(in: .whitespaces)
            if let values = name.alternatives(after: ReportFilter.result.rawValue) {
                results = values.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                name = ReportFilter.result.rawValue
            }
            guard let filter = ReportFilter(rawValue: name) else {
                return .failure(ParseFailure("unknown filter \(name) (use "
                                             + allCases.map(\.rawValue).joined(separator: ", ") + ")"))
            }
            if !filters.contains(filter) { filters.append(filter) }
        }
        return .success((filters, results))
    }
}

/// A report column: its name and how its values are written.
public struct ReportColumn: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Whatever SQLite returns (text, integer, real, NULL).
        case text
        case integer
        /// Epoch seconds, formatted per `--tz`.
        case time
        /// JSON text, kept as JSON in json/ndjson.
        case json
        case bool
    }

    public var name: String
    public var kind: Kind

    static func parseList(_ text: String) -> Result<[ReportColumn], ParseFailure> {
        var columns: [ReportColumn] = []
        for item in text.split(separator: ",") {
            let parts = item.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let name = parts.first, !name.isEmpty else { return .failure(ParseFailure("empty column name")) }
            let kindName = parts.count > 1 ? parts[1] : "text"
            guard let kind = Kind(rawValue: kindName) else {
                return .failure(ParseFailure("column \(name) has unknown kind \(kindName) (use "
                                             + Kind.allCases.map(\.rawValue).joined(separator: ", ") + ")"))
            }
            columns.append(ReportColumn(name: name, kind: kind))
        }
        return .success(columns)
    }
}

/// A report-specific parameter (`--gap 30m`), bound as `:name`.
public struct ReportParameter: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        case integer
        /// A duration such as `30m`, bound as seconds.
        case duration
        case text
        /// One of the words listed with it, `choice(window|day)`, bound as text.
        case choice
    }

    public var name: String
    public var kind: Kind
    /// The words a `choice` takes.
    public var choices: [String] = []
    public var defaultValue: String
    public var description: String

    /// `name kind default description…`
    static func parse(_ text: String) -> Result<ReportParameter, ParseFailure> {
        let parts = text.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true).map(String.init)
        var kindName = parts.count > 1 ? parts[1] : ""
        var choices: [String] = []
        if let words = kindName.alternatives(after: Kind.choice.rawValue) {
            choices = words.map(String.init)
            kindName = Kind.choice.rawValue
        }
        guard parts.count >= 3, let kind = Kind(rawValue: kindName), kind != .choice || !choices.isEmpty else {
            return .failure(ParseFailure("a parameter line reads `name kind default description`, kind one of "
                                         + Kind.allCases.map(\.rawValue).joined(separator: ", ") + " (choice(a|b|…))"))
        }
        let parameter = ReportParameter(name: parts[0], kind: kind, choices: choices, defaultValue: parts[2],
                                        description: parts.count > 3 ? parts[3] : "")
        if case .failure(let error) = Result(catching: { try parameter.value(parts[2]) }) {
            return .failure(ParseFailure("default of \(parts[0]): \(error)"))
        }
        return .success(parameter)
    }

    /// The value to bind for user text (or the default).
    /// - Throws: `QueryInputError` naming the parameter.
    public func value(_ text: String) throws -> SQLValue {
        switch kind {
        case .text:
            return .text(text)
        case .choice:
            guard choices.contains(text) else {
                throw QueryInputError("invalid --\(name) \(TimeExpression.quoted(text)): use "
                                      + choices.joined(separator: ", "))
            }
            return .text(text)
        case .integer:
            guard let value = Int64(text.trimmingCharacters(in: .whitespaces)) else {
                throw QueryInputError("invalid --\(name) \(TimeExpression.quoted(text)): use a whole number")
            }
            return .integer(value)
        case .duration:
            do {
                return .integer(try TimeExpression.parseDuration(text))
            } catch {
                throw QueryInputError("invalid --\(name) \(TimeExpression.quoted(text)): use a duration such as 30m, 2h or 1d")
            }
        }
    }
}

struct ParseFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Result where Failure == ParseFailure {
    func get(or wrap: (String) -> QueryInputError) throws -> Success {
        switch self {
        case .success(let value): return value
        case .failure(let failure): throw wrap(failure.description)
        }
    }
}

extension String {
    /// The alternatives of `word(a|b|…)`, as a report header writes a result filter (`result(success|failed)`)
    /// and a choice parameter (`choice(app|day)`); nil when the text is not `word` with a list.
    func alternatives(after word: String) -> [Substring]? {
        guard hasPrefix(word + "("), hasSuffix(")") else { return nil }
        return dropFirst(word.count + 1).dropLast().split(separator: "|")
    }
}
