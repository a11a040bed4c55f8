import Archiver
import CentralStore
import Client
import CloudronSimulator
import Foundation
import Query
import ScratchPostgres
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
        let (cluster, uri) = try await newStoreDatabase()
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
            case .duration: variants.append(["--param", "\(parameter.name)=5m", "--since", since])
            case .integer: variants.append(["--param", "\(parameter.name)=2", "--since", since])
            case .text: break
            }
        }
        return variants
    }
}

/// Cases the simulator's data does not hold, in a hand-made archive: a user's role history through logins
/// with and without a role (a ghost login's user object has none), promotions and demotions, a removal
/// whose user object has no role, changed members that are JSON null on one side and missing on the
/// other, numbers written differently, a user with twelve IPs in the window ("(+1 more)": one was seen
/// before it), JSON data with
/// whitespace and escapes, an app.down without an app, an outage never closed, support switched off,
/// an addon killed for memory, a backup whose task id is a number and one without a finish, an
/// administrative event rewritten (two versions).
@Suite(.serialized) struct StoreReportEdgeCaseTests {
    @Test func reportsFromPostgreSQLEqualTheArchivesOnHandMadeEdgeCases() async throws {
        let cluster = try await offThePool { try PostgresCluster.shared() }
        let uri = try await offThePool { try cluster.makeDatabase() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloudron-audit-edge-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/audit.db"
        try await offThePool { try EdgeCaseArchive.write(to: path) }
        let pushed = try await CLI.run(["push", "--db", path, "--to", uri, "--quiet"])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let id = try await offThePool { try Archive(path: path, mode: .readOnly).archiveID() }
        let since = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(EdgeCaseArchive.t0 + 1_000)))
        var rows = 0
        for report in try ReportCatalog.builtIn() {
            for summary in report.summary == nil ? [false] : [false, true] {
                // --user names: one only an impersonation's user object names (support-access), an email in one.
                let users = report.filters.contains(.user) ? [["--user", "erin"], ["--user", "e@x.org"]] : []
                for variant in [[], ["--since", since]] + users {
                    for format in ["ndjson", "csv"] {
                        let arguments = ["report", report.name] + (summary ? ["--summary"] : []) + variant + ["--format", format]
                        async let fromArchive = CLI.run(arguments + ["--db", path])
                        async let fromStore = CLI.run(arguments + ["--from", uri, "--archive", id])
                        let (expected, found) = try await (fromArchive, fromStore)
                        #expect(expected.status == 0 && found.status == 0, "\(arguments): \(expected.stderr) \(found.stderr)")
                        #expect(found.stdout == expected.stdout, "\(arguments.joined(separator: " ")):\n\(found.stdout)\nvs\n\(expected.stdout)")
                        if format == "ndjson" { rows += expected.stdout.split(whereSeparator: \.isNewline).count }
                    }
                }
            }
        }
        let privileges = try await CLI.run(["report", "privileges", "--db", path, "--format", "csv"])
        #expect(privileges.stdout.contains("gained") && privileges.stdout.contains("lost"), "\(privileges.stdout)")
        let changes = try await CLI.run(["report", "user-changes", "--db", path, "--format", "ndjson"])
        // e7 against e6: role added, displayName and quota gone, email and hint JSON null before and gone now.
        #expect(changes.stdout.contains("\"changed\":\"displayName,email,hint,quota,role\"") && changes.stdout.contains("promotion")
                && changes.stdout.contains("demotion"), "\(changes.stdout)")
        let summary = try await CLI.run(["report", "logins", "--summary", "--since", since, "--db", path, "--format", "ndjson"])
        #expect(summary.stdout.contains("(+1 more)"), "\(summary.stdout)")   // eleven new, one seen before --since
        #expect(rows > 60)
    }
}

private enum EdgeCaseArchive {
    static let t0: Int64 = 1_795_132_800   // 2026-11-20T00:00:00Z

    static func write(to path: String) throws {
        let archive = try Archive(path: path)
        let instance = try archive.instanceID(name: "edge", baseURL: "https://edge.example.com")
        let run = try archive.beginRun(instance: instance, streams: ObjectKind.allCases.map(\.streamName), startedAt: t0 + 100_000)
        _ = try archive.ingest(events: events(), instance: instance, run: run, seenAt: t0 + 100_000)
        // m1 rewritten by the server: only its current version is an administrative change.
        _ = try archive.ingest(events: [event("m1", "domain.add", t0 + 1_650, source: actor("alice"), data: "{\"domain\":\"example.org\"}")],
                               instance: instance, run: run, seenAt: t0 + 100_100)
        try archive.addCoverage(instance: instance, stream: ObjectKind.events.streamName, from: t0 - 86_400, to: t0 + 100_000, run: run)
        try archive.finishRun(run, result: .success, finishedAt: t0 + 100_200, counts: RunCounts(), requests: 1, errors: [])
    }

    static func event(_ id: String, _ action: String, _ at: Int64, source: String, data: String) -> Event {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
        let time = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(at)))
        let raw = "{\"id\":\"\(id)\",\"action\":\"\(action)\",\"creationTime\":\"\(time)\",\"source\":\(source),\"data\":\(data)}"
        return Event(id: id, action: action, creationTime: time, epochSeconds: at, raw: Array(raw.utf8))
    }

    static func actor(_ name: String, ip: String = "203.0.113.24") -> String {
        "{\"ip\":\"\(ip)\",\"username\":\"\(name)\",\"userId\":\"uid-\(name)\"}"
    }

    static func events() -> [Event] {
        let erin = "\"id\":\"uid-erin\",\"username\":\"erin\""
        let system = "{\"userId\":null,\"username\":\"cron\"}"
        var events = [
            // erin: added as user, logs in as admin, impersonated (no role), made usermanager, logs in as owner,
            // updated with members changed, removed without a role in the user object.
            event("e1", "user.add", t0 + 100, source: actor("alice"), data: "{\"userId\":\"uid-erin\",\"user\":{\(erin),\"role\":\"user\",\"email\":\"e@x.org\"}}"),
            event("e2", "user.login", t0 + 200, source: actor("erin"), data: "{\"userId\":\"uid-erin\",\"user\":{\(erin),\"role\":\"admin\"}}"),
            event("e3", "user.login.ghost", t0 + 300, source: actor("alice"), data: "{\"userId\":\"uid-erin\",\"user\":{\(erin)}}"),
            event("e4", "user.update", t0 + 1_100, source: actor("alice"),
                  data: "{\"userId\":\"uid-erin\",\"user\":{\(erin),\"role\":\"usermanager\",\"email\":\"e@x.org\",\"quota\":5.0,\"note\":null},\"adminStatusChanged\":true}"),
            event("e5", "user.login", t0 + 1_200, source: actor("erin"), data: "{\"userId\":\"uid-erin\",\"user\":{\(erin),\"role\":\"owner\"}}"),
            event("e6", "user.update", t0 + 1_300, source: actor("alice"),
                  data: "{\"userId\":\"uid-erin\",\"user\":{\(erin),\"email\":null,\"quota\":5,\"displayName\":\"Erin\",\"hint\":null}}"),
            event("e7", "user.update", t0 + 1_400, source: actor("alice"),
                  data: "{\"userId\":\"uid-erin\",\"user\":{\(erin),\"role\":\"user\"},\"adminStatusChanged\":true}"),
            event("e8", "user.remove", t0 + 1_500, source: actor("alice"), data: "{\"userId\":\"uid-erin\",\"user\":{\(erin)}}"),
            // gina: created as admin (gained), made owner (a promotion that is no privilege change).
            event("g1", "user.add", t0 + 1_510, source: actor("alice"),
                  data: "{\"userId\":\"uid-gina\",\"user\":{\"id\":\"uid-gina\",\"username\":\"gina\",\"role\":\"admin\"}}"),
            event("g2", "user.update", t0 + 1_520, source: actor("alice"),
                  data: "{\"userId\":\"uid-gina\",\"user\":{\"id\":\"uid-gina\",\"username\":\"gina\",\"role\":\"owner\"}}"),
            // Whitespace and escapes inside data, as a server may send them.
            event("m1", "domain.add", t0 + 1_600, source: actor("alice"),
                  data: "{ \"domain\" : \"ex\\u00e9mple.net\",\n  \"zone\": [1, 2.50, {\"a\" : \"b\\\"c\"}] }"),
            event("m2", "cloudron.update", t0 + 1_700, source: system, data: "{\"boxUpdateInfo\":{\"version\":\"9.1.0\"}}"),
            event("s1", "support.ssh", t0 + 1_800, source: actor("alice"), data: "{\"enable\":false}"),
            event("s2", "support.ticket", t0 + 1_900, source: actor("alice"), data: "{\"subject\":\"Help, \\\"urgent\\\"\"}"),
            event("d1", "app.down", t0 + 2_000, source: system, data: "{\"appId\":\"app-x\"}"),
            event("d2", "app.down", t0 + 2_100, source: system, data: "{\"app\":{\"id\":\"app-y\",\"fqdn\":\"y.example.com\"}}"),
            event("u1", "app.up", t0 + 2_400, source: system, data: "{\"appId\":\"app-x\"}"),
            event("o1", "app.oom", t0 + 2_500, source: system, data: "{\"containerId\":\"c1\",\"addon\":{\"name\":\"redis\"},\"app\":null}"),
            event("o2", "app.oom", t0 + 2_600, source: system, data: "{\"containerId\":\"c2\"}"),
            event("b1", "backup.start", t0 + 3_000, source: system, data: "{\"taskId\":77}"),
            event("b2", "backup.finish", t0 + 3_300, source: system, data: "{\"taskId\":77,\"errorMessage\":\"\",\"backupId\":\"bk-77\"}"),
            event("b3", "backup.start", t0 + 4_000, source: system, data: "{\"taskId\":78}"),
            event("b4", "app.backup", t0 + 4_100, source: actor("bob"), data: "{\"appId\":\"app-x\",\"taskId\":\"90\"}"),
            event("b5", "app.backup.finish", t0 + 4_200, source: system, data: "{\"appId\":\"app-x\",\"errorMessage\":\"quota\"}"),
            event("a1", "app.update", t0 + 4_300, source: actor("bob"),
                  data: "{\"appId\":\"app-x\",\"fromManifest\":{\"version\":\"1.0\"},\"toManifest\":{\"version\":\"1.1\"}}"),
            event("a2", "app.update.finish", t0 + 4_400, source: system, data: "{\"appId\":\"app-x\",\"errorMessage\":\"\"}"),
        ]
        // frank logs in from twelve IPs in the window, one of them seen before it: eleven new.
        events.append(event("f0", "user.login", t0 + 10, source: actor("frank", ip: "192.0.2.99"), data: "{\"userId\":\"uid-frank\"}"))
        for index in 0 ..< 12 {
            let ip = index == 11 ? "192.0.2.99" : "198.51.100.\(index + 1)"
            events.append(event("f\(index + 1)", "user.login", t0 + 5_000 + Int64(index) * 60, source: actor("frank", ip: ip),
                                data: "{\"userId\":\"uid-frank\"}"))
        }
        return events
    }
}
