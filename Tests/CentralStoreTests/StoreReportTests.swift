import Archiver
import CentralStore
import CloudronSimulator
import Foundation
import Query
import Testing

/// The PostgreSQL dialect of the reports (reports/postgresql) against their SQLite definitions.
@Suite struct StoreReportCatalogTests {
    @Test func everyBuiltInReportHasAPostgreSQLTextBindingTheSameParameters() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../reports/postgresql").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }
        #expect(Set(files) == Set(StoreReportCatalog.fileNames))
        let dialects = try StoreReportCatalog.builtIn()
        #expect(dialects.map(\.report.name) == (try ReportCatalog.builtIn()).map(\.name))
        for dialect in dialects {
            let report = dialect.report
            #expect((dialect.summarySQL == nil) == (report.summary == nil), "\(report.name): a summary in one dialect only")
            for (sqlite, postgres) in [(report.sql, dialect.sql), (report.summary?.sql, dialect.summarySQL)] {
                guard let sqlite else { continue }
                // The same parameters, and :archive, which chooses one archive of the store.
                #expect(NamedParameters.names(in: postgres ?? "").sorted() == (NamedParameters.names(in: sqlite) + ["archive"]).sorted(),
                        "\(report.name)")
            }
        }
    }

    @Test func namedParametersAreFoundOutsideStringsCommentsAndCasts() {
        let sql = "SELECT ':no', \"x:y\", a::text, 'it''s :no' || :one -- :two\nFROM t WHERE b = :one AND c = :three_3"
        #expect(NamedParameters.names(in: sql) == ["one", "three_3"])
        #expect(NamedParameters.substitute(sql) { "$" + $0 }
                == "SELECT ':no', \"x:y\", a::text, 'it''s :no' || $one -- :two\nFROM t WHERE b = $one AND c = $three_3")
    }
}

/// Every built-in report from PostgreSQL against the same report from the SQLite archive: two archives
/// synced over HTTP from simulated servers (both name their server `demo`), pushed into one store.
@Suite(.serialized) struct StoreReportTests {
    @Test func everyReportFromPostgreSQLEqualsTheArchivesRowForRow() async throws {
        let (cluster, uri) = try await offThePool { let cluster = try PostgresCluster.shared(); return (cluster, try cluster.makeDatabase()) }
        _ = cluster
        // Seeds whose servers promote or demote someone (the privileges report has rows in both).
        let first = try await SyncedArchive.make(seed: 6, events: 1_200)
        defer { first.finish() }
        let second = try await SyncedArchive.make(seed: 3, events: 600)
        defer { second.finish() }
        for archive in [first, second] {
            let pushed = try await CLI.run(["push", "--db", archive.path, "--to", uri, "--quiet"])
            #expect(pushed.status == 0, "\(pushed.stderr)")
        }
        let reports = try StoreReportCatalog.builtIn().map(\.report)
        // The first archive: every variant in NDJSON and CSV. The second (whose server has the same name): the
        // reports without a filter and per instance, enough to show that one archive's rows never mix with the other's.
        var comparisons: [Comparison] = []
        for (archive, isFirst) in [(first, true), (second, false)] {
            let id = try await offThePool { try archive.open().archiveID() }
            let values = await FilterValues.fromTruth(seed: archive.seed, events: archive.events)
            for report in reports {
                for summary in report.summary == nil ? [false] : [false, true] {
                    for variant in isFirst ? values.variants(of: report, summary: summary) : [[], ["--instance", "demo"]] {
                        for format in isFirst ? ["ndjson", "csv"] : ["ndjson"] {
                            let arguments = ["report", report.name] + (summary ? ["--summary"] : []) + variant + ["--format", format]
                            comparisons.append(Comparison(arguments: arguments, archivePath: archive.path, archiveID: String(id.prefix(8)),
                                                          mustHaveRows: variant.isEmpty))
                        }
                    }
                }
            }
        }
        // A few at a time: each is two short processes that mostly wait for the machine's two cores.
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = comparisons[...]
            for _ in 0 ..< 3 {
                guard let next = pending.popFirst() else { break }
                group.addTask { try await next.run(uri: uri) }
            }
            while try await group.next() != nil {
                if let next = pending.popFirst() { group.addTask { try await next.run(uri: uri) } }
            }
        }
        for archive in [first, second] {
            let id = try await offThePool { try archive.open().archiveID() }
            for problem in try await viewsDifferingFromReports(uri: uri, archive: archive, archiveID: id, reports: reports) {
                Issue.record(Comment(rawValue: problem))
            }
        }
        // The other formats, on one report.
        let id = try await offThePool { try first.open().archiveID() }
        for format in ["json", "table"] {
            async let fromArchive = CLI.run(["report", "logins", "--limit", "40", "--db", first.path, "--format", format])
            async let fromStore = CLI.run(["report", "logins", "--limit", "40", "--from", uri, "--archive", id, "--format", format])
            let (expected, found) = try await (fromArchive, fromStore)
            #expect(expected.status == 0 && found.status == 0 && found.stdout == expected.stdout, "\(format): \(found.stderr)")
        }

        // Without --archive: every archive, each row starting with the archive it comes from (both name their server demo).
        let everyArchive = try await CLI.run(["report", "logins", "--from", uri, "--format", "ndjson"])
        #expect(everyArchive.status == 0, "\(everyArchive.stderr)")
        var perArchive: [String: Int] = [:]
        for line in everyArchive.stdout.split(whereSeparator: \.isNewline) {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            #expect(object["instance"] as? String == "demo")
            perArchive[object["archive_id"] as? String ?? "?", default: 0] += 1
        }
        for archive in [first, second] {
            let archiveID = try await offThePool { try archive.open().archiveID() }
            let own = try await CLI.run(["report", "logins", "--db", archive.path, "--format", "ndjson"])
            #expect(perArchive[archiveID] == own.stdout.split(whereSeparator: \.isNewline).count, "\(archiveID): \(perArchive)")
        }
        #expect(perArchive.count == 2)
    }

    @Test func reportFromFailsInOneLineWithTheDocumentedExitCodes() async throws {
        let cluster = try await offThePool { try PostgresCluster.shared() }
        let synced = try await SyncedArchive.make(seed: 73, events: 60)
        defer { synced.finish() }
        let uri = try await offThePool { try cluster.makeDatabase() }
        let pushed = try await CLI.run(["push", "--db", synced.path, "--to", uri, "--quiet"])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let foreign = try await offThePool { () -> String in
            let uri = try cluster.makeDatabase()
            _ = try cluster.psql(uri, "CREATE SCHEMA cloudron_audit; CREATE TABLE cloudron_audit.events (id int)")
            return uri
        }
        let newer = try await offThePool { () -> String in
            let uri = try cluster.makeDatabase()
            _ = try cluster.psql(uri, "CREATE SCHEMA cloudron_audit; CREATE TABLE cloudron_audit.store_info (key text PRIMARY KEY, value text NOT NULL);"
                                 + "INSERT INTO cloudron_audit.store_info VALUES ('application', 'cloudron-audit'), ('format', '99')")
            return uri
        }
        let empty = try await offThePool { try cluster.makeDatabase() }
        let userReports = (synced.path as NSString).deletingLastPathComponent + "/my-reports"
        try FileManager.default.createDirectory(atPath: userReports, withIntermediateDirectories: true)
        try "-- title: Mine\n-- columns: n:integer\nSELECT count(*) FROM events LIMIT :limit\n"
            .write(toFile: userReports + "/mine.sql", atomically: true, encoding: .utf8)
        let cases: [(arguments: [String], status: Int32, says: String)] = [
            (["logins", "--from", "postgresql://auditor:pw@127.0.0.1:\(cluster.port)/postgres"], 64, "PGPASSWORD"),
            (["logins", "--from", "https://example.org/db"], 64, "not a PostgreSQL connection URI"),
            (["logins", "--from", "postgresql://auditor@127.0.0.1:1/postgres"], 69, "cannot connect"),
            (["logins", "--from", "postgresql://auditor@127.0.0.1:\(cluster.port)/postgres?passfile=/nonexistent"], 77, "password"),
            (["logins", "--from", foreign], 65, "belongs to another program"),
            (["logins", "--from", newer], 65, "newer"),
            (["logins", "--from", empty], 66, "run 'cloudron-audit push' first"),
            (["logins", "--from", uri, "--archive", "0123abcd"], 66, "holds no archive 0123abcd"),
            (["logins", "--from", uri, "--archive", "xyz"], 64, "invalid --archive"),
            (["logins", "--from", uri, "--instance", "nope"], 64, "unknown instance \"nope\""),
            (["logins", "--from", uri, "--action", "user.login"], 64, "--action"),
            (["backups", "--from", uri, "--result", "lost"], 64, "has no result"),
            (["mine", "--reports-dir", userReports, "--from", uri], 64, "has no PostgreSQL text"),
            (["--all", "--output-dir", userReports + "/bundle", "--from", uri], 64, "one report at a time"),
            (["logins", "--archive", "0123abcd"], 64, "goes with --from"),
        ]
        for item in cases {
            let result = try await CLI.run(["report"] + item.arguments)
            #expect(result.status == item.status, "\(item.arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty && result.stderr.split(whereSeparator: \.isNewline).count == 1 && result.stderr.contains(item.says),
                    "\(item.arguments): \(result.stderr)")
            #expect(!result.stderr.contains(":pw@"), "the password is never printed")
        }
    }

    @Test func pushRecreatesTheViewsWhenTheirDefinitionsDiffer() async throws {
        let cluster = try await offThePool { try PostgresCluster.shared() }
        let synced = try await SyncedArchive.make(seed: 74, events: 60)
        defer { synced.finish() }
        let uri = try await offThePool { try cluster.makeDatabase() }
        let views = try StoreReportCatalog.builtIn().flatMap { [$0.viewName] + ($0.summarySQL == nil ? [] : [$0.summaryViewName]) }
            + StoreReportCatalog.helperViews.map(\.name)
        let listViews: @Sendable () throws -> [String] = { try cluster.psql(uri, "SELECT table_name FROM information_schema.views WHERE table_schema = 'cloudron_audit' ORDER BY 1")
            .split(whereSeparator: \.isNewline).map(String.init) }
        #expect(try await CLI.run(["push", "--db", synced.path, "--to", uri, "--quiet"]).status == 0)
        #expect(try await offThePool(listViews) == views.sorted())
        // An older binary's views: one of today's missing, one it had that this one does not, another digest.
        try await offThePool {
            _ = try cluster.psql(uri, """
                DROP VIEW cloudron_audit.oom_summary; CREATE VIEW cloudron_audit.retired_report AS SELECT 1 AS one;
                UPDATE cloudron_audit.store_info SET value = 'older' WHERE key = 'report_views';
                UPDATE cloudron_audit.store_info SET value = value || ',retired_report' WHERE key = 'report_view_names'
                """)
        }
        #expect(try await CLI.run(["push", "--db", synced.path, "--to", uri, "--quiet"]).status == 0)
        #expect(try await offThePool(listViews) == views.sorted())
        // Same digest: left alone (a view dropped by hand stays dropped until the definitions change).
        try await offThePool { _ = try cluster.psql(uri, "DROP VIEW cloudron_audit.oom_summary") }
        #expect(try await CLI.run(["push", "--db", synced.path, "--to", uri, "--quiet"]).status == 0)
        #expect(try await offThePool(listViews) == views.filter { $0 != "oom_summary" }.sorted())
    }
}

/// One report run through the binary on the archive and on the store (that archive of it): the same bytes.
private struct Comparison: Sendable {
    var arguments: [String]
    var archivePath: String
    var archiveID: String
    /// Without a filter a report has rows on these archives: an empty answer would prove nothing.
    var mustHaveRows: Bool

    func run(uri: String) async throws {
        async let fromArchive = CLI.run(arguments + ["--db", archivePath])
        async let fromStore = CLI.run(arguments + ["--from", uri, "--archive", archiveID])
        let (expected, found) = try await (fromArchive, fromStore)
        let label = arguments.joined(separator: " ")
        #expect(expected.status == 0, "\(label): \(expected.stderr)")
        #expect(found.status == 0 && found.stderr.isEmpty, "\(label) --from: \(found.stderr)")
        if mustHaveRows {
            #expect(expected.stdout.split(whereSeparator: \.isNewline).count > (arguments.last == "csv" ? 1 : 0), "\(label): no rows")
        }
        guard found.stdout != expected.stdout else { return }
        let expectedLines = expected.stdout.split(whereSeparator: \.isNewline), foundLines = found.stdout.split(whereSeparator: \.isNewline)
        let index = Array(zip(expectedLines, foundLines)).firstIndex { $0.0 != $0.1 } ?? min(expectedLines.count, foundLines.count)
        let foundLine = index < foundLines.count ? String(foundLines[index]) : "-"
        let expectedLine = index < expectedLines.count ? String(expectedLines[index]) : "-"
        Issue.record("\(label): \(foundLines.count) lines from PostgreSQL, \(expectedLines.count) from the archive; line \(index): \(foundLine) vs \(expectedLine)")
    }
}

/// Each view (`SELECT * FROM cloudron_audit.NAME` for one archive) holds the rows of the report without a
/// filter on that archive, as a multiset: values compared as text (times as epoch seconds), JSON parsed.
/// Returns what differs (recorded by the caller: an issue recorded on another thread belongs to no test).
private func viewsDifferingFromReports(uri: String, archive: SyncedArchive, archiveID: String, reports: [Report]) async throws -> [String] {
    try await offThePool {
        let connection = try PostgresConnection(uri: uri)
        let session = try archive.session()
        var problems: [String] = []
        for report in reports {
            for summary in report.summary == nil ? [false] : [false, true] {
                let columns = summary ? report.summary?.columns ?? [] : report.columns
                var collected = CollectedRows()
                try ReportQuery(report: report, summary: summary).run(on: session, into: &collected)
                let expected = collected.rows.map { row in
                    zip(row, columns).map { cell, column in RowKey.text(of: cell, json: column.kind == .json) }
                }
                let view = report.name.replacingOccurrences(of: "-", with: "_") + (summary ? "_summary" : "")
                let found = try connection.query("SELECT * FROM cloudron_audit.\(view) WHERE archive_id = $1", [archiveID]).rows.map { row in
                    zip(row.dropFirst(), columns).map { value, column in column.kind == .json ? value.map(RowKey.canonicalJSON) : value }
                }
                if expected.isEmpty { problems.append("\(view) of \(archive.path): no rows, the comparison would prove nothing") }
                if RowKey.sorted(found) != RowKey.sorted(expected) {
                    problems.append("view \(view): \(found.count) rows, report \(expected.count), or other rows")
                }
            }
        }
        return problems
    }
}

/// Rows in one comparable form.
private enum RowKey {
    static func text(of cell: Cell, json: Bool) -> String? {
        switch cell {
        case .null: nil
        case .text(let text): json ? canonicalJSON(text) : text
        case .integer(let value), .time(let value), .receivedTime(let value, _): String(value)
        case .real(let value): String(value)
        case .boolean(let value): value ? "1" : "0"
        case .json(let bytes): canonicalJSON(String(decoding: bytes, as: UTF8.self))
        }
    }

    static func canonicalJSON(_ text: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed]) else {
            return "not JSON: " + text
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func sorted(_ rows: [[String?]]) -> [String] {
        rows.map { $0.map { $0 ?? "\u{0}NULL" }.joined(separator: "\u{1F}") }.sorted()
    }
}

private struct CollectedRows: RowWriter {
    var rows: [[Cell]] = []
    mutating func begin(columns: [Column]) throws {}
    mutating func write(row: [Cell]) throws { rows.append(row) }
    mutating func finish() throws {}
}

/// Filter values taken from the simulated server's own data (its truth for the seed the archive was
/// synced from): its most frequent login user and IP, a user whose account changed, an app killed for
/// memory, and a window over the middle of its event log.
private struct FilterValues {
    var users: [String]
    var ip: String
    var app: String
    var since: String
    var until: String

    static func fromTruth(seed: UInt64, events: Int) async -> FilterValues {
        let truth = await SimulatedCloudron(configuration: SimulatorConfiguration(seed: seed, eventCount: events)).truth()
        var loginUsers: [String: Int] = [:], changedUsers: [String: Int] = [:], ips: [String: Int] = [:], apps: [String: Int] = [:]
        for record in truth.events {
            guard let event = try? JSONSerialization.jsonObject(with: Data(record.bytes)) as? [String: Any] else { continue }
            let source = event["source"] as? [String: Any] ?? [:], data = event["data"] as? [String: Any] ?? [:]
            switch event["action"] as? String {
            case "user.login":
                if let user = source["username"] as? String { loginUsers[user, default: 0] += 1 }
                if let ip = source["ip"] as? String { ips[ip, default: 0] += 1 }
            case "user.update":
                if let user = (data["user"] as? [String: Any])?["username"] as? String { changedUsers[user, default: 0] += 1 }
            case "app.oom":
                if let app = (data["app"] as? [String: Any])?["id"] as? String { apps[app, default: 0] += 1 }
            default: break
            }
        }
        func mostFrequent(_ counts: [String: Int]) -> String {
            counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? "none"
        }
        let times = truth.events.map(\.epochSeconds).sorted()
        let iso = ISO8601DateFormatter()
        func time(_ fraction: Double) -> String {
            iso.string(from: Date(timeIntervalSince1970: TimeInterval(times.isEmpty ? 0 : times[Int(Double(times.count - 1) * fraction)])))
        }
        return FilterValues(users: [mostFrequent(loginUsers), mostFrequent(changedUsers)], ip: mostFrequent(ips),
                            app: mostFrequent(apps), since: time(0.4), until: time(0.8))
    }

    /// No filter, each filter the report declares alone, a window, oldest first with a limit, and each
    /// parameter at another value.
    func variants(of report: Report, summary: Bool) -> [[String]] {
        var variants: [[String]] = [[]]
        for filter in report.filters {
            switch filter {
            case .since: variants.append(["--since", since])
            case .until: variants.append(["--until", until])
            case .instance: variants.append(["--instance", "demo"])
            case .user: variants += users.map { ["--user", $0] }
            case .app: variants.append(["--app", app])
            case .ip: variants.append(["--ip", ip])
            case .result: variants += report.results.map { ["--result", $0] }
            }
        }
        if report.filters.contains(.since) && report.filters.contains(.until) {
            variants.append(["--since", since, "--until", until])
        }
        variants.append(["--order", "oldest", "--limit", "7"])
        for parameter in report.parameters {
            switch parameter.kind {
            case .choice: variants += parameter.choices.filter { $0 != parameter.defaultValue }.map { ["--param", "\(parameter.name)=\($0)", "--since", since] }
            case .duration: variants.append(["--param", "\(parameter.name)=5m"])
            case .integer: variants.append(["--param", "\(parameter.name)=2"])
            case .text: break
            }
        }
        return variants
    }
}
