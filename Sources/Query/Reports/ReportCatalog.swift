import Foundation

/// The reports available: the built-in ones embedded from `reports/`, plus a user's own directory.
public enum ReportCatalog {
    /// Built-in report files, in `report --list` order. A test checks that every `reports/*.sql` is here.
    static let builtInFiles: [(name: String, bytes: [UInt8])] = [
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

    /// The built-in reports.
    public static func builtIn() throws -> [Report] {
        try builtInFiles.map { try Report(name: $0.name, text: String(decoding: $0.bytes, as: UTF8.self), origin: "built-in") }
    }

    /// The `*.sql` reports in `directory` (name = file name without `.sql`), sorted by name.
    /// - Throws: `QueryInputError` for an unreadable directory or a malformed file.
    public static func load(directory: String) throws -> [Report] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw QueryInputError("cannot read --reports-dir \(TimeExpression.quoted(directory)): "
                                  + "it must be a readable directory of NAME.sql files")
        }
        return try names.filter { $0.hasSuffix(".sql") }.sorted().map { file in
            let path = (directory as NSString).appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw QueryInputError("cannot read report file \(TimeExpression.quoted(path))")
            }
            return try Report(name: String(file.dropLast(4)), text: String(decoding: data, as: UTF8.self), origin: path)
        }
    }

    /// Built-in reports followed by the user's; a user report may not reuse a built-in name.
    public static func all(userDirectory: String? = nil) throws -> [Report] {
        var reports = try builtIn()
        if let userDirectory {
            for report in try load(directory: userDirectory) {
                guard !reports.contains(where: { $0.name == report.name }) else {
                    throw QueryInputError("report \(report.name) in \(report.origin) has the name of another report: rename the file")
                }
                reports.append(report)
            }
        }
        return reports
    }

    /// The report called `name`.
    /// - Throws: `QueryInputError` listing the available names.
    public static func find(_ name: String, in reports: [Report]) throws -> Report {
        guard let report = reports.first(where: { $0.name == name }) else {
            throw QueryInputError("unknown report \(TimeExpression.quoted(name)): use one of "
                                  + reports.map(\.name).joined(separator: ", "))
        }
        return report
    }
}
