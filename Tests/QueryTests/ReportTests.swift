import Archiver
import Client
import Foundation
import Testing
@testable import Query

// MARK: - Fixture: a day of a server's life, hand-built; the expectations below are computed from these
// lists in Swift, independently of the reports' SQL.

private let t0: Int64 = 1_795_132_800   // 2026-11-20T00:00:00Z

private func login(_ id: String, _ at: Int64, user: String, ip: String, auth: String = "oidc") -> FixtureEvent {
    FixtureEvent(id: id, action: "user.login", epoch: at,
                 source: "{\"authType\":\"\(auth)\",\"ip\":\"\(ip)\",\"username\":\"\(user)\",\"userId\":\"uid-\(user)\"}",
                 data: "{\"userId\":\"uid-\(user)\",\"user\":{\"id\":\"uid-\(user)\",\"username\":\"\(user)\"}}")
}

private func health(_ id: String, _ action: String, _ at: Int64, app: String) -> FixtureEvent {
    FixtureEvent(id: id, action: action, epoch: at, source: "{\"userId\":null,\"username\":\"healthmonitor\"}",
                 data: "{\"app\":\(appJSON(id: "app-\(app)", subdomain: app))}")
}

private func userEvent(_ id: String, _ action: String, _ at: Int64, actor: String, user: String, role: String,
                       email: String, adminStatusChanged: Bool? = nil) -> FixtureEvent {
    let flag = adminStatusChanged.map { ",\"adminStatusChanged\":\($0)" } ?? ""
    return FixtureEvent(id: id, action: action, epoch: at,
                        source: "{\"ip\":\"203.0.113.24\",\"username\":\"\(actor)\",\"userId\":\"uid-\(actor)\"}",
                        data: "{\"userId\":\"uid-\(user)\",\"user\":{\"id\":\"uid-\(user)\",\"username\":\"\(user)\",\"email\":\"\(email)\",\"role\":\"\(role)\"}\(flag)}")
}

private let system = "{\"userId\":null,\"username\":\"cron\"}"

/// (events of the first ingest, upserts ingested later as new versions)
private let reportEvents: [FixtureEvent] = [
    login("l1", t0 + 100, user: "alice", ip: "203.0.113.24"),
    login("l2", t0 + 200, user: "bob", ip: "10.0.0.1", auth: "ldap"),
    login("l3", t0 + 5000, user: "bob", ip: "10.0.0.1", auth: "ldap"),      // 80 min later: new session
    login("l4", t0 + 5600, user: "bob", ip: "10.0.0.1", auth: "ldap"),      // 10 min later: same session
    login("l5", t0 + 90_000, user: "alice", ip: "198.51.100.9"),            // next day, new IP
    FixtureEvent(id: "g1", action: "user.login.ghost", epoch: t0 + 7000,
                 source: "{\"ip\":\"203.0.113.24\",\"username\":\"alice\",\"userId\":\"uid-alice\"}",
                 data: "{\"userId\":\"uid-bob\",\"user\":{\"id\":\"uid-bob\",\"username\":\"bob\"}}"),
    FixtureEvent(id: "al1", action: "app.login", epoch: t0 + 7100,
                 source: "{\"authType\":\"ldap\",\"mailboxId\":\"carol@example.com\",\"appId\":\"app-mail\"}",
                 data: "{\"appId\":\"app-mail\",\"addonId\":\"ldap\"}"),
    FixtureEvent(id: "lo1", action: "user.logout", epoch: t0 + 7200,
                 source: "{\"ip\":\"10.0.0.1\",\"username\":\"bob\",\"userId\":\"uid-bob\"}",
                 data: "{\"userId\":\"uid-bob\",\"user\":{\"id\":\"uid-bob\",\"username\":\"bob\"}}"),
    health("d1", "app.down", t0 + 1000, app: "wiki"),
    health("d2", "app.down", t0 + 1060, app: "wiki"),    // repeated: same outage
    health("u1", "app.up", t0 + 1300, app: "wiki"),
    health("d3", "app.down", t0 + 2000, app: "chat"),    // never comes back: open
    health("d4", "app.down", t0 + 3000, app: "wiki"),
    health("u2", "app.up", t0 + 3030, app: "wiki"),
    FixtureEvent(id: "o1", action: "app.oom", epoch: t0 + 400, source: "{\"userId\":null,\"username\":\"healthmonitor\"}",
                 data: "{\"event\":{\"status\":\"oom\"},\"containerId\":\"c1\",\"addon\":null,\"app\":\(appJSON(id: "app-wiki", subdomain: "wiki"))}"),
    FixtureEvent(id: "o2", action: "app.oom", epoch: t0 + 500, source: "{\"userId\":null,\"username\":\"healthmonitor\"}",
                 data: "{\"event\":{\"status\":\"oom\"},\"containerId\":\"c2\",\"addon\":{\"name\":\"mysql\"},\"app\":null}"),
    FixtureEvent(id: "o3", action: "app.oom", epoch: t0 + 86_500, source: "{\"userId\":null,\"username\":\"healthmonitor\"}",
                 data: "{\"event\":{\"status\":\"oom\"},\"containerId\":\"c3\",\"addon\":null,\"app\":\(appJSON(id: "app-wiki", subdomain: "wiki"))}"),
    FixtureEvent(id: "b1", action: "backup.start", epoch: t0 + 10_000, source: system, data: "{\"taskId\":\"501\"}"),
    FixtureEvent(id: "b2", action: "backup.finish", epoch: t0 + 10_600, source: system,
                 data: "{\"taskId\":\"501\",\"errorMessage\":\"\",\"backupId\":\"bk-1\"}"),
    FixtureEvent(id: "b3", action: "backup.start", epoch: t0 + 20_000, source: system, data: "{\"taskId\":502}"),
    FixtureEvent(id: "b4", action: "backup.finish", epoch: t0 + 20_100, source: system,
                 data: "{\"taskId\":502,\"errorMessage\":\"disk full\",\"backupId\":null}"),
    FixtureEvent(id: "b5", action: "backup.start", epoch: t0 + 30_000, source: system, data: "{\"taskId\":\"503\"}"),
    FixtureEvent(id: "ab1", action: "app.backup", epoch: t0 + 11_000,
                 source: "{\"ip\":\"10.0.0.1\",\"username\":\"bob\",\"userId\":\"uid-bob\"}",
                 data: "{\"appId\":\"app-wiki\",\"app\":\(appJSON(id: "app-wiki", subdomain: "wiki")),\"taskId\":\"601\"}"),
    FixtureEvent(id: "ab2", action: "app.backup.finish", epoch: t0 + 11_090, source: system,
                 data: "{\"appId\":\"app-wiki\",\"app\":\(appJSON(id: "app-wiki", subdomain: "wiki")),\"backupId\":\"bk-app\",\"errorMessage\":\"\"}"),
    userEvent("ua", "user.add", t0 + 300, actor: "alice", user: "dave", role: "user", email: "dave@example.com"),
    userEvent("uu1", "user.update", t0 + 600, actor: "alice", user: "dave", role: "user", email: "dave@example.org"),
    userEvent("uu2", "user.update", t0 + 900, actor: "alice", user: "dave", role: "admin", email: "dave@example.org",
              adminStatusChanged: true),
    userEvent("ur", "user.remove", t0 + 1200, actor: "alice", user: "dave", role: "admin", email: "dave@example.org"),
    FixtureEvent(id: "m1", action: "domain.add", epoch: t0 + 50, source: "{\"ip\":\"203.0.113.24\",\"username\":\"alice\"}",
                 data: "{\"domain\":\"example.net\",\"zoneName\":\"example.net\",\"provider\":\"route53\"}"),
    FixtureEvent(id: "m2", action: "cloudron.update.finish", epoch: t0 + 60, source: system,
                 data: "{\"oldVersion\":\"8.3.0\",\"newVersion\":\"9.0.15\"}"),
    FixtureEvent(id: "m3", action: "mail.box.add", epoch: t0 + 70, source: "{\"username\":\"alice\"}",
                 data: "{\"name\":\"info\",\"domain\":\"example.net\",\"userId\":\"uid-alice\"}"),
    FixtureEvent(id: "s1", action: "support.ssh", epoch: t0 + 80, source: "{\"ip\":\"203.0.113.24\",\"username\":\"alice\"}",
                 data: "{\"enable\":true}"),
]

/// l1 logs in again the same day: box rewrites the row (same id, new time): a second version.
private let reportUpserts: [FixtureEvent] = [login("l1", t0 + 6000, user: "alice", ip: "192.0.2.50")]

private let reportTasks = [
    taskJSON(id: "701", type: "backup", percent: 100, active: false, success: true, error: nil, epoch: t0 + 100),
    taskJSON(id: "702", type: "backup", percent: 40, active: false, success: false, error: "disk full", epoch: t0 + 200),
    taskJSON(id: "703", type: "app", percent: 30, active: false, success: nil, error: nil, epoch: t0 + 300),     // stuck
    taskJSON(id: "704", type: "app", percent: 50, active: true, success: nil, error: nil, epoch: t0 + 400),      // running
]

private func makeReportArchive(_ directory: TemporaryDirectory) throws -> ReadSession {
    let path = directory.file("reports.db")
    do {
        let archive = try Archive(path: path)
        let instance = try archive.instanceID(name: "main", baseURL: "https://my.example.com")
        let run = try archive.beginRun(instance: instance, streams: ObjectKind.allCases.map(\.streamName), startedAt: t0 + 100_000)
        _ = try archive.ingest(events: reportEvents.map(\.event), instance: instance, run: run, seenAt: t0 + 100_000)
        _ = try archive.ingest(events: reportUpserts.map(\.event), instance: instance, run: run, seenAt: t0 + 100_100)
        _ = try archive.ingest(tasks: reportTasks, instance: instance, run: run, seenAt: t0 + 100_000)
        // The event log is held from before the first event on: `logins --summary` can say which IPs are new.
        try archive.addCoverage(instance: instance, stream: ObjectKind.events.streamName, from: t0 - 86_400, to: t0 + 100_000, run: run)
        try archive.finishRun(run, result: .success, finishedAt: t0 + 100_200, counts: RunCounts(), requests: 1, errors: [])
    }
    return try openReadOnly(path)
}

private func runReport(_ name: String, _ database: ReadSession, filter: EventFilter = EventFilter(order: .oldest), summary: Bool = false,
                       parameters: [String: String] = [:]) throws -> [[String: Any]] {
    let report = try ReportCatalog.find(name, in: try ReportCatalog.builtIn())
    return try ndjsonObjects { writer in
        try ReportQuery(report: report, filter: filter, summary: summary, parameters: parameters).run(on: database, into: &writer)
    }
}

private func utc(_ epoch: Int64) -> String {
    var formatter = TimestampFormatter()
    return formatter.string(from: epoch)
}

/// Every login-like version of the fixture: (time, action, user, ip, id).
private var allLoginVersions: [(time: Int64, action: String, user: String, ip: String?, id: String)] {
    (reportEvents + reportUpserts).compactMap { event in
        guard ["user.login", "user.login.ghost", "user.logout", "app.login"].contains(event.action) else { return nil }
        let user = event.value(["user", "username"], in: event.data) ?? event.value(["username"], in: event.source)
            ?? event.value(["mailboxId"], in: event.source) ?? "?"
        return (event.epoch, event.action, user, event.value(["ip"], in: event.source), event.id)
    }.sorted { $0.time < $1.time }
}

@Suite struct ReportTests {
    @Test func everyReportFileIsBuiltInAndParses() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../reports").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }
        #expect(Set(files.map { String($0.dropLast(4)) }) == Set(ReportCatalog.builtInFiles.map(\.name)))
        let reports = try ReportCatalog.builtIn()
        #expect(reports.map(\.name) == ["logins", "login-sessions", "user-changes", "privileges", "app-lifecycle", "oom",
                                        "app-availability", "backups", "admin-changes", "support-access", "failed-tasks"])
        for report in reports {
            #expect(!report.title.isEmpty && !report.description.isEmpty, "\(report.name)")
        }
    }

    /// Every report and summary runs on the fixture and on an empty archive, with the declared columns.
    @Test func everyReportRuns() throws {
        let directory = try TemporaryDirectory()
        let database = try makeReportArchive(directory)
        let empty = try openReadOnly({ let p = directory.file("empty.db"); _ = try Archive(path: p); return p }())
        for report in try ReportCatalog.builtIn() {
            for summary in report.summary == nil ? [false] : [false, true] {
                for db in [database, empty] {
                    let rows = try ndjsonObjects { try ReportQuery(report: report, summary: summary).run(on: db, into: &$0) }
                    let columns = summary ? report.summary?.columns ?? [] : report.columns
                    #expect(rows.allSatisfy { Set($0.keys) == Set(columns.map(\.name)) }, "\(report.name)")
                }
            }
        }
    }

    @Test func loginsIncludeEveryUpsertedVersionAndFlagImpersonation() throws {
        let directory = try TemporaryDirectory()
        let database = try makeReportArchive(directory)
        let rows = try runReport("logins", database)
        let expected = allLoginVersions
        #expect(rows.map { $0["eventId"] as? String ?? "" } == expected.map(\.id))
        #expect(rows.map { $0["time"] as? String ?? "" } == expected.map { utc($0.time) })
        #expect(rows.map { $0["user"] as? String ?? "" } == expected.map(\.user))
        let ghost = try #require(rows.first { $0["action"] as? String == "user.login.ghost" })
        #expect(ghost["flag"] as? String == "impersonation")
        #expect(ghost["user"] as? String == "bob")
        #expect(ghost["impersonatedBy"] as? String == "alice")
        #expect(rows.filter { $0["eventId"] as? String == "l1" }.map { $0["ip"] as? String } == ["203.0.113.24", "192.0.2.50"])
        let window = try runReport("logins", database, filter: EventFilter(since: t0 + 1000, until: t0 + 7150, user: "bob", order: .oldest))
        #expect(window.map { $0["eventId"] as? String ?? "" } == ["l3", "l4", "g1"])
    }

    @Test func loginSummaryCountsAndNewIPs() throws {
        let directory = try TemporaryDirectory()
        let database = try makeReportArchive(directory)
        let since = t0 + 3000
        let rows = try runReport("logins", database, filter: EventFilter(since: since, order: .oldest), summary: true)
        let logins = allLoginVersions.filter { $0.action != "user.logout" }
        let inWindow = logins.filter { $0.time >= since }
        let users = Set(inWindow.map(\.user)).sorted()
        #expect(rows.map { $0["user"] as? String ?? "" }.sorted() == users)
        // Oldest first: by each user's last login.
        #expect(rows.map { $0["lastSeen"] as? String ?? "" } == rows.map { $0["lastSeen"] as? String ?? "" }.sorted())
        for row in rows {
            let user = row["user"] as? String ?? ""
            let mine = inWindow.filter { $0.user == user }
            #expect(row["logins"] as? Int == mine.count)
            #expect(row["firstSeen"] as? String == utc(mine.map(\.time).min() ?? 0))
            #expect(row["lastSeen"] as? String == utc(mine.map(\.time).max() ?? 0))
            #expect(row["distinctIPs"] as? Int == Set(mine.compactMap(\.ip)).count)
            let before = Set(logins.filter { $0.user == user && $0.time < since }.compactMap(\.ip))
            let new = Set(mine.compactMap(\.ip)).subtracting(before).sorted().joined(separator: " ")
            #expect((row["newIPs"] as? String ?? "") == new, "\(user)")
        }
        // alice logged in before from 203.0.113.24; 192.0.2.50 and 198.51.100.9 are new in the window.
        #expect(rows.first { $0["user"] as? String == "alice" }?["newIPs"] as? String == "192.0.2.50 198.51.100.9")
    }

    @Test func loginSessionsSplitAtTheGap() throws {
        let directory = try TemporaryDirectory()
        let database = try makeReportArchive(directory)
        for (gapText, gap) in [("30m", Int64(1800)), ("2h", Int64(7200))] {
            let rows = try runReport("login-sessions", database, parameters: ["gap": gapText])
            // Independent grouping: per user+ip, consecutive logins less than `gap` apart.
            var sessions: [(user: String, ip: String, start: Int64, end: Int64, count: Int)] = []
            let logins = allLoginVersions.filter { $0.action == "user.login" || $0.action == "user.login.ghost" }
            for key in Set(logins.map { "\($0.user)|\($0.ip ?? "")" }) {
                let mine = logins.filter { "\($0.user)|\($0.ip ?? "")" == key }
                for login in mine {
                    if let last = sessions.last, "\(last.user)|\(last.ip)" == key, login.time - last.end < gap {
                        sessions[sessions.count - 1].end = login.time
                        sessions[sessions.count - 1].count += 1
                    } else {
                        sessions.append((login.user, login.ip ?? "", login.time, login.time, 1))
                    }
                }
            }
            sessions.sort { ($0.start, $0.user, $0.ip) < ($1.start, $1.user, $1.ip) }
            #expect(rows.map { "\($0["user"] as? String ?? "")@\($0["ip"] as? String ?? "") \($0["start"] as? String ?? "")-\($0["end"] as? String ?? "") x\($0["logins"] as? Int ?? 0)" }
                    == sessions.map { "\($0.user)@\($0.ip) \(utc($0.start))-\(utc($0.end)) x\($0.count)" }, "\(gapText)")
        }
        let bob30 = try runReport("login-sessions", database, filter: EventFilter(user: "uid-bob", order: .oldest), parameters: ["gap": "30m"])
        #expect(bob30.filter { $0["ip"] as? String == "10.0.0.1" }.map { $0["logins"] as? Int } == [1, 2])
        #expect(throws: QueryInputError.self) { try runReport("login-sessions", database, parameters: ["gap": "soon"]) }
        #expect(throws: QueryInputError.self) { try runReport("login-sessions", database, parameters: ["nope": "1"]) }
    }

    @Test func userChangesNameTheFieldsAndFlagRoleChanges() throws {
        let directory = try TemporaryDirectory()
        let database = try makeReportArchive(directory)
        let rows = try runReport("user-changes", database)
        #expect(rows.map { $0["eventId"] as? String ?? "" } == ["ua", "uu1", "uu2", "ur"])
        #expect(rows.map { $0["changed"] as? String ?? "" } == ["", "email", "role", ""])
        #expect(rows.map { $0["flag"] as? String ?? "" } == ["", "", "promotion", "removed admin"])
        #expect(rows.map { "\($0["roleBefore"] as? String ?? "-")→\($0["roleAfter"] as? String ?? "-")" }
                == ["-→user", "user→user", "user→admin", "admin→-"])
        #expect(rows.allSatisfy { $0["actor"] as? String == "alice" && $0["username"] as? String == "dave" })
    }

    @Test func appAvailabilityPairsOutages() throws {
        let directory = try TemporaryDirectory()
        let database = try makeReportArchive(directory)
        let rows = try runReport("app-availability", database)
        let summary = rows.map { "\($0["app"] as? String ?? "") \($0["down"] as? String ?? "") \($0["seconds"] as? Int ?? -1) \($0["flag"] as? String ?? "")" }
        #expect(summary == ["wiki.example.com \(utc(t0 + 1000)) 300 ",
                            "chat.example.com \(utc(t0 + 2000)) -1 open",
                            "wiki.example.com \(utc(t0 + 3000)) 30 "])
        #expect(rows[1]["up"] is NSNull)
    }

    @Test func oomPerVictimAndPerDay() throws {
        let directory = try TemporaryDirectory()
        let database = try makeReportArchive(directory)
        let rows = try runReport("oom", database)
        #expect(rows.map { "\($0["kind"] as? String ?? "")/\($0["victim"] as? String ?? "")" }
                == ["app/wiki.example.com", "addon/mysql", "app/wiki.example.com"])
        func summary(_ rows: [[String: Any]]) -> [String] {
            rows.map { "\($0["period"] as? String ?? "") \($0["victim"] as? String ?? "") \($0["count"] as? Int ?? 0)" }
        }
        // Oldest first: by each victim's last kill.
        #expect(summary(try runReport("oom", database, summary: true)) == ["window mysql 1", "window wiki.example.com 2"])
        #expect(summary(try runReport("oom", database, summary: true, parameters: ["by": "day"]))
                == ["2026-11-20 mysql 1", "2026-11-20 wiki.example.com 1", "2026-11-21 wiki.example.com 1"])
        #expect(throws: QueryInputError.self) { try runReport("oom", database, summary: true, parameters: ["by": "week"]) }
    }

    @Test func backupsPairStartAndFinish() throws {
        let directory = try TemporaryDirectory()
        let database = try makeReportArchive(directory)
        let rows = try runReport("backups", database)
        let summary = rows.map {
            "\($0["kind"] as? String ?? "") \($0["taskId"] as? String ?? "-") \($0["seconds"] as? Int ?? -1) \($0["result"] as? String ?? "") \($0["error"] as? String ?? "-") \($0["backupId"] as? String ?? "-")"
        }
        #expect(summary == ["full 501 600 success - bk-1", "app 601 90 success - bk-app",
                            "full 502 100 failed disk full -", "full 503 -1 unfinished - -"])
    }

    @Test func adminChangesAndSupportAccess() throws {
        let directory = try TemporaryDirectory()
        let database = try makeReportArchive(directory)
        let admin = try runReport("admin-changes", database)
        #expect(admin.map { "\($0["action"] as? String ?? "") \($0["subject"] as? String ?? "")" }
                == ["domain.add example.net", "cloudron.update.finish 9.0.15", "mail.box.add example.net"])
        #expect((admin[0]["data"] as? [String: Any])?["provider"] as? String == "route53")
        let support = try runReport("support-access", database)
        #expect(support.map { "\($0["action"] as? String ?? "") \($0["subject"] as? String ?? "")" }
                == ["support.ssh enabled", "user.login.ghost bob"])
    }

    @Test func failedTasksIncludeStuckOnes() throws {
        let directory = try TemporaryDirectory()
        let database = try makeReportArchive(directory)
        let rows = try runReport("failed-tasks", database)
        #expect(rows.map { "\($0["id"] as? String ?? "") \($0["status"] as? String ?? "")" } == ["702 error", "703 stuck"])
        #expect(rows[0]["errorMessage"] as? String == "disk full")
    }

    @Test func reportCSVReadsBackInPython() throws {
        let directory = try TemporaryDirectory()
        let database = try makeReportArchive(directory)
        let report = try ReportCatalog.find("logins", in: try ReportCatalog.builtIn())
        let path = directory.file("logins.csv")
        let count = try AtomicOutputFile.write(to: path) { sink in
            var writer = CSVWriter(sink: sink)
            return try ReportQuery(report: report, filter: EventFilter(order: .oldest)).run(on: database, into: &writer)
        }
        let json = try runPython("""
            import csv, json, sys
            print(json.dumps(list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8'), strict=True))))
            """, [path])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String]])
        #expect(rows.count == count + 1)
        #expect(rows[0] == report.columns.map(\.name))
        #expect(rows.dropFirst().map { $0[10] } == allLoginVersions.map(\.id))
    }

    @Test func userReportsDirectory() throws {
        let directory = try TemporaryDirectory()
        let database = try makeReportArchive(directory)
        let folder = directory.file("mine")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        try """
            -- title: Actions per day
            -- description: How many events of each action per UTC day.
            -- columns: day, action, count:integer
            -- parameter: minimum integer 1 Only actions with at least this many events.
            SELECT date(creation_epoch, 'unixepoch') AS day, action, COUNT(*) AS count FROM events
            WHERE (:since IS NULL OR creation_epoch >= :since)
            GROUP BY day, action HAVING COUNT(*) >= :minimum ORDER BY day, action LIMIT :limit
            """.write(toFile: folder + "/per-day.sql", atomically: false, encoding: .utf8)
        let reports = try ReportCatalog.all(userDirectory: folder)
        let mine = try ReportCatalog.find("per-day", in: reports)
        let rows = try ndjsonObjects {
            try ReportQuery(report: mine, parameters: ["minimum": "3"]).run(on: database, into: &$0)
        }
        var counts: [String: Int] = [:]
        for event in reportEvents { counts[String(utc(event.epoch).prefix(10)) + " " + event.action, default: 0] += 1 }
        #expect(rows.map { "\($0["day"] as? String ?? "") \($0["action"] as? String ?? "")" }
                == counts.filter { $0.value >= 3 }.keys.sorted())
        // A user report cannot write: refused before it runs (and the connection is read-only anyway).
        try "-- title: x\n-- description: y\n-- columns: n\nDELETE FROM events RETURNING id"
            .write(toFile: folder + "/evil.sql", atomically: false, encoding: .utf8)
        let evil = try ReportCatalog.find("evil", in: try ReportCatalog.all(userDirectory: folder))
        let refusal = #expect(throws: QueryInputError.self) { try ndjsonObjects { try ReportQuery(report: evil).run(on: database, into: &$0) } }
        #expect(refusal?.message.contains("not a read-only query") == true)
        // Name clashes and malformed headers are one-line errors.
        try "-- title: x\n-- columns: n\nSELECT 1".write(toFile: folder + "/logins.sql", atomically: false, encoding: .utf8)
        #expect(throws: QueryInputError.self) { try ReportCatalog.all(userDirectory: folder) }
        try FileManager.default.removeItem(atPath: folder + "/logins.sql")
        try "SELECT 1".write(toFile: folder + "/bad.sql", atomically: false, encoding: .utf8)
        let error = #expect(throws: QueryInputError.self) { try ReportCatalog.all(userDirectory: folder) }
        #expect(error?.message.contains("missing `-- title:`") == true)
        #expect(throws: QueryInputError.self) { try ReportCatalog.find("nope", in: reports) }
        #expect(throws: QueryInputError.self) { try ReportCatalog.load(directory: directory.file("missing")) }
    }

    @Test func actionFilterIsRefused() throws {
        let directory = try TemporaryDirectory()
        let database = try makeReportArchive(directory)
        #expect(throws: QueryInputError.self) {
            try runReport("logins", database, filter: EventFilter(actions: [try ActionPattern("user.*")]))
        }
        #expect(throws: QueryInputError.self) { try runReport("backups", database, summary: true) }
    }
}

@Suite struct ReportExportTests {
    @Test func appLifecycleListsChangesWithVersions() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let rows = try ndjsonObjects {
            try ReportQuery(report: try ReportCatalog.find("app-lifecycle", in: try ReportCatalog.builtIn()),
                            filter: EventFilter(order: .oldest))
                .run(on: database, into: &$0)
        }
        #expect(rows.map { "\($0["eventId"] as? String ?? "") \($0["app"] as? String ?? "-") \($0["fromVersion"] as? String ?? "-")→\($0["toVersion"] as? String ?? "-") \($0["result"] as? String ?? "")" }
                == ["e02-install-wiki wiki.example.com -→1.2.0 ", "e04-update-wiki wiki.example.com 1.2.0→1.3.0 ",
                    "e07-finish wiki.example.com -→- success"])
        #expect(rows.map { $0["actor"] as? String ?? "-" } == ["alice", "bob", "apptask"])
    }

    @Test func allReportsWithManifest() throws {
        let directory = try TemporaryDirectory()
        let path = try makeFixtureArchive(in: directory)
        do {
            let archive = try Archive(path: path)
            let main = try archive.instanceID(name: "main", baseURL: "https://my.example.com")
            let run = try archive.beginRun(instance: main, streams: ["eventlog"], startedAt: fixtureDay + 95_000)
            try archive.addCoverage(instance: main, stream: "eventlog", from: fixtureDay - 86_400, to: fixtureDay + 90_000, run: run)
            try archive.recordGap(instance: main, stream: "eventlog", from: fixtureDay - 200_000, to: fixtureDay - 100_000,
                                  reason: "pruned before archived", run: run)
        }
        let database = try openReadOnly(path)
        let output = directory.file("out/daily")
        let export = try ReportExport(reports: try ReportCatalog.builtIn(), filter: EventFilter(since: fixtureDay, until: fixtureDay + 86_400),
                                  formats: try ReportExport.parseFormats("csv,ndjson"), toolVersion: "1.2.3", archivePath: path)
        let manifest = try export.run(on: database, outputDirectory: output, now: fixtureDay + 100_000)
        let files = try FileManager.default.contentsOfDirectory(atPath: output).sorted()
        // 11 reports + 2 summaries, two formats each, plus the manifest; no temporary files.
        #expect(files.count == 13 * 2 + 1)
        #expect(files.contains("manifest.json") && files.contains("logins-summary.csv") && files.contains("oom.ndjson"))
        // The manifest on disk says what the returned value says; hashes and row counts checked by Python.
        let onDisk = try JSONDecoder().decode(ReportManifest.self, from: Data(contentsOf: URL(fileURLWithPath: output + "/manifest.json")))
        #expect(onDisk == manifest)
        #expect(manifest.toolVersion == "1.2.3")
        #expect(manifest.window.since == "2026-11-20T00:00:00Z" && manifest.window.until == "2026-11-21T00:00:00Z")
        #expect(manifest.coverage.map { "\($0.instance) \($0.stream) \($0.from) \($0.to)" }
                == ["main eventlog 2026-11-20T00:00:00Z 2026-11-20T23:59:59Z"])   // clipped; ranges are inclusive
        #expect(manifest.gaps.isEmpty)                // the gap lies before the window
        let checked = try runPython("""
            import hashlib, json, sys, os
            d = sys.argv[1]
            m = json.load(open(os.path.join(d, 'manifest.json')))
            out = []
            for r in m['reports']:
                for f in r['files']:
                    data = open(os.path.join(d, f['file']), 'rb').read()
                    lines = data.count(b'\\n') - (1 if f['format'] == 'csv' else 0)
                    out.append([f['file'], hashlib.sha256(data).hexdigest() == f['sha256'], lines == f['rows']])
            print(json.dumps(out))
            """, [output])
        let results = try #require(try JSONSerialization.jsonObject(with: Data(checked.utf8)) as? [[Any]])
        #expect(results.count == 26)
        for result in results {
            #expect(result[1] as? Bool == true, "sha256 of \(result[0])")
            #expect(result[2] as? Bool == true, "rows of \(result[0])")   // fixture values hold no line breaks
        }
        // Row counts from the fixture, worked by hand for 2026-11-20 (every version is a row of logins):
        // logins: e01 v1 (+100), o01 (+150, other), e05 (+400), e06 ghost (+500), e01 v2 (+650), e08 app.login (+700);
        // its summary per instance and user: main/alice, main/bob (e05, e06), main/carol@example.com, other/alice;
        // failed-tasks: 413 (success false), 414 (inactive at 30 %); oom: no app.oom in the fixture.
        let rows = Dictionary(uniqueKeysWithValues: manifest.reports.flatMap { $0.files.map { ($0.file, $0.rows) } })
        for format in ["csv", "ndjson"] {
            #expect(rows["logins.\(format)"] == 6)
            #expect(rows["logins-summary.\(format)"] == 4)
            #expect(rows["failed-tasks.\(format)"] == 2)
            #expect(rows["oom.\(format)"] == 0)
        }
        let logins = try #require(manifest.reports.first { $0.name == "logins" })
        // In the user's terms: an ISO time, not epoch seconds; no limit is null, not -1.
        #expect(logins.filters["since"] == .some("2026-11-20T00:00:00Z"))
        #expect(logins.filters["user"] == .some(nil))
        #expect(logins.filters["limit"] == .some(nil))
        #expect(logins.filters["order"] == .some("newest"))
        let sessions = try #require(manifest.reports.first { $0.name == "login-sessions" })
        #expect(sessions.parameters["gap"] == "30m")
        #expect(throws: QueryInputError.self) { try ReportExport.parseFormats("csv,pdf") }

        // A window that contains the recorded gap (2026-11-17T16:26:40Z to 2026-11-18T20:13:20Z) names it.
        let wide = try ReportExport(reports: try ReportCatalog.builtIn(), filter: EventFilter(since: fixtureDay - 300_000, until: fixtureDay + 86_400),
                                formats: try ReportExport.parseFormats("csv"), toolVersion: "1.2.3", archivePath: path)
        let gapped = try wide.run(on: database, outputDirectory: directory.file("out/wide"), now: fixtureDay + 100_000)
        #expect(gapped.gaps.map { "\($0.instance) \($0.stream) \($0.from) \($0.to)" }
                == ["main eventlog 2026-11-17T16:26:40Z 2026-11-18T20:13:20Z"])
        #expect(gapped.gaps.first?.reason == "pruned before archived")
        // Everything archived lies after the gap: the wider window holds the same rows.
        let wideRows = Dictionary(uniqueKeysWithValues: gapped.reports.flatMap { $0.files.map { ($0.file, $0.rows) } })
        #expect(wideRows["logins.csv"] == 6 && wideRows["failed-tasks.csv"] == 2)
    }
}
