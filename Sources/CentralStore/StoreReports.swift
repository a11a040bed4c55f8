import Archiver
import Crypto
import Foundation
import Query

/// A report's PostgreSQL dialect (`reports/postgresql/NAME.sql`), paired with the report itself.
///
/// The report stays defined once: its header (title, columns, filters, parameters) is read from the
/// SQLite file only; the dialect file holds the statement and its `-- summary` statement, with the same
/// named parameters plus `:archive` (NULL for every archive of the store), and one more column in front,
/// `archive_id`. Instances are named by archive and name together: several archives may each hold an
/// instance called `prod`.
public struct StoreReport: Sendable {
    public let report: Report
    public let sql: String
    public let summarySQL: String?

    /// The view of this report (`cloudron_audit.login_sessions`): SQL identifiers take no hyphen unquoted.
    public var viewName: String { report.name.replacingOccurrences(of: "-", with: "_") }
    public var summaryViewName: String { viewName + "_summary" }

    /// The statement of the report, or of its summary.
    public func statement(summary: Bool) -> String? { summary ? summarySQL : sql }

    /// The type PostgreSQL gets for a named parameter: it cannot infer one from `$1 IS NULL`.
    func sqlType(of name: String) -> String {
        if let parameter = report.parameters.first(where: { $0.name == name }) {
            return parameter.kind == .integer || parameter.kind == .duration ? "bigint" : "text"
        }
        return ["since", "until", "limit", "direction"].contains(name) ? "bigint" : "text"
    }
}

/// The built-in reports' PostgreSQL texts, and the helper views they read.
public enum StoreReportCatalog {
    /// The dialect file of each built-in report; a test checks that every report has one and every file is listed.
    static let dialectFiles: [(name: String, bytes: [UInt8])] = [
        ("logins", PackageResources.logins_sql),
        ("login-sessions", PackageResources.login_sessions_sql),
        ("user-changes", PackageResources.user_changes_sql),
        ("privileges", PackageResources.privileges_sql),
        ("app-lifecycle", PackageResources.app_lifecycle_sql),
        ("oom", PackageResources.oom_sql),
        ("app-availability", PackageResources.app_availability_sql),
        ("backups", PackageResources.backups_sql),
        ("admin-changes", PackageResources.admin_changes_sql),
        ("support-access", PackageResources.support_access_sql),
        ("failed-tasks", PackageResources.failed_tasks_sql),
    ]

    /// Views that reports read: the archive's own (SQLite's `user_role_changes`) in PostgreSQL's dialect,
    /// and `event_details`, the join of an event version's fields, event, JSON and instance that several
    /// dialect texts share. Created by push beside the report views (`events --from` reads
    /// user_role_changes there too), and put in front of a report's statement by `report --from` so that a
    /// run never depends on which cloudron-audit pushed last.
    public static let helperViews: [(name: String, sql: String)] = [
        ("user_role_changes", text(PackageResources.user_role_changes_sql)),
        ("event_details", text(PackageResources.event_details_sql)),
    ]

    /// Every file name of reports/postgresql, as the catalog test compares them with the folder.
    public static var fileNames: [String] {
        dialectFiles.map { $0.name + ".sql" } + helperViews.map { $0.name + ".sql" }
    }

    /// The dialect of every built-in report, in `report --list` order.
    public static func builtIn() throws -> [StoreReport] {
        try ReportCatalog.builtIn().map(dialect)
    }

    /// The dialect of `report`.
    /// - Throws: `QueryInputError` for a report of `--reports-dir`, which has no PostgreSQL text.
    public static func dialect(of report: Report) throws -> StoreReport {
        guard report.origin == "built-in", let file = dialectFiles.first(where: { $0.name == report.name }) else {
            throw QueryInputError("report \(report.name) (\(report.origin)) has no PostgreSQL text: only the built-in reports run with --from")
        }
        var main: [Substring] = [], summary: [Substring] = []
        var inSummary = false
        for line in text(file.bytes).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces) == "-- summary" { inSummary = true; continue }
            if inSummary { summary.append(line) } else { main.append(line) }
        }
        let summarySQL = summary.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        // The file's leading comment says what it is; the statement starts after it (`WITH …` or `SELECT …`).
        let statement = main.drop { $0.hasPrefix("--") || $0.trimmingCharacters(in: .whitespaces).isEmpty }
        return StoreReport(report: report, sql: statement.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines),
                           summarySQL: summarySQL.isEmpty ? nil : summarySQL)
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}

/// The report catalog as views in the store: `cloudron_audit.logins`, `.logins_summary`, … (a report's
/// statement with every filter NULL and its parameters at their defaults, columns `archive_id` and the
/// report's own), and the helper views they read, for psql, Grafana or Metabase.
///
/// Kept in step with the binary without triggers: push compares the SHA-256 of every view's definition
/// with the one recorded in `store_info` (`report_views`) and, when they differ, drops the views it
/// recorded there (`report_view_names`) and creates this binary's, in the push's schema transaction.
enum StoreReportViews {
    static let digestKey = "report_views"
    static let namesKey = "report_view_names"

    /// The CREATE VIEW statements, helpers first, and the views' names.
    static func definitions() throws -> [(name: String, sql: String)] {
        var definitions = StoreReportCatalog.helperViews.map { helper in
            (helper.name, "CREATE VIEW \(CentralSchema.qualified(helper.name)) AS\n" + helper.sql)
        }
        for dialect in try StoreReportCatalog.builtIn() {
            for summary in dialect.summarySQL == nil ? [false] : [false, true] {
                guard let statement = dialect.statement(summary: summary) else { continue }
                let columns = summary ? dialect.report.summary?.columns ?? [] : dialect.report.columns
                let name = summary ? dialect.summaryViewName : dialect.viewName
                let body = try NamedParameters.substitute(statement) { try literal(for: $0, in: dialect) }
                let columnList = (["archive_id"] + columns.map(\.name)).map(CentralSchema.quoted).joined(separator: ", ")
                definitions.append((name, "CREATE VIEW \(CentralSchema.qualified(name)) (\(columnList)) AS\n" + body))
            }
        }
        return definitions
    }

    /// What a view puts for a parameter: NULL for a filter (every row), -1 for `direction` (newest first,
    /// as `report` orders by default), a parameter's default.
    private static func literal(for name: String, in dialect: StoreReport) throws -> String {
        let type = dialect.sqlType(of: name)
        if name == "direction" { return "CAST(-1 AS bigint)" }
        if let parameter = dialect.report.parameters.first(where: { $0.name == name }) {
            switch try parameter.value(parameter.defaultValue) {
            case .integer(let value): return "CAST(\(value) AS bigint)"
            case .text(let value): return "CAST('\(value.replacingOccurrences(of: "'", with: "''"))' AS text)"
            default: break
            }
        }
        return "CAST(NULL AS \(type))"
    }

    static func digest(_ definitions: [(name: String, sql: String)]) -> String {
        var hasher = SHA256()
        for definition in definitions { hasher.update(data: Array(definition.sql.utf8) + [0]) }
        return Hex.string(hasher.finalize())
    }

    /// The `event_fields` columns the views read that archives before schema 9 lack.
    static let requiredEventFieldColumns = ["user_object", "user_role", "user_email", "admin_status_changed"]

    /// Replaces the views when the store's differ from this binary's; inside the caller's transaction,
    /// which holds the schema's advisory lock. Until an archive of schema 9 or later was pushed, the
    /// store's tables lack columns the views read: then there are none yet, and a later push creates them.
    static func install(_ connection: PostgresConnection) throws {
        let present = try connection.scalar("""
            SELECT count(*) FROM information_schema.columns
            WHERE table_schema = $1 AND table_name = 'event_fields' AND column_name = ANY(string_to_array($2, ','))
            """, [CentralSchema.schemaName, requiredEventFieldColumns.joined(separator: ",")])
        guard present == String(requiredEventFieldColumns.count) else { return }
        let definitions = try definitions()
        let digest = digest(definitions)
        let info = "\(CentralSchema.schemaName).store_info"
        guard try connection.scalar("SELECT value FROM \(info) WHERE key = $1", [digestKey]) != digest else { return }
        let recorded = try connection.scalar("SELECT value FROM \(info) WHERE key = $1", [namesKey]) ?? ""
        for name in Set(recorded.split(separator: ",").map(String.init) + definitions.map(\.name)) {
            try connection.execute("DROP VIEW IF EXISTS \(CentralSchema.qualified(name)) CASCADE")
        }
        // Unqualified names in the texts are the store's tables, as in the archive.
        try connection.execute("SET LOCAL search_path TO \(CentralSchema.schemaName)")
        for definition in definitions { try connection.execute(definition.sql) }
        try connection.execute("SET LOCAL search_path TO DEFAULT")
        for (key, value) in [(digestKey, digest), (namesKey, definitions.map(\.name).joined(separator: ","))] {
            try connection.query("INSERT INTO \(info) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])
        }
    }
}
