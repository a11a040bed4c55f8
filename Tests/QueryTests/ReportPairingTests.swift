import Archiver
import Foundation
@testable import Query
import Testing

/// Runs built-in report `name`, oldest first, over the window, on an archive holding just `events` (instance "main"),
/// then `rewritten`: later versions of some of them, as box rewrites an event in place.
func runReportOldestFirst(_ name: String, on events: [FixtureEvent], rewritten: [FixtureEvent] = [], since: Int64? = nil, until: Int64? = nil,
                          summary: Bool = false) throws -> [[String: Any]] {
    let directory = try TemporaryDirectory()
    let path = directory.file("report.db")
    do {
        let archive = try Archive(path: path)
        let instance = try archive.instanceID(name: "main", baseURL: "https://my.example.com")
        let run = try archive.beginRun(instance: instance, streams: ObjectKind.allCases.map(\.streamName), startedAt: fixtureDay + 5000)
        _ = try archive.ingest(events: events.map(\.event), instance: instance, run: run, seenAt: fixtureDay + 5000)
        _ = try archive.ingest(events: rewritten.map(\.event), instance: instance, run: run, seenAt: fixtureDay + 6000)
    }
    let session = try ReadSession(path: path)
    let report = try ReportCatalog.find(name, in: try ReportCatalog.builtIn())
    return try ndjsonObjects {
        try ReportQuery(report: report, filter: EventFilter(since: since, until: until, order: .oldest), summary: summary).run(on: session, into: &$0)
    }
}

/// Starts paired with the right end: box reuses task ids, and a run that never finished must not take the
/// next run's finish. Expected rows are worked out by hand from the events below.
@Suite struct ReportPairingTests {
    static let t0 = fixtureDay

    static func event(_ id: String, _ action: String, _ offset: Int64, _ data: String) -> FixtureEvent {
        FixtureEvent(id: id, action: action, epoch: t0 + offset, source: "{\"username\":\"admin\"}", data: data)
    }

    static let events = [
        event("b1-start", "backup.start", 0, "{\"taskId\":\"7\"}"),
        event("b1-finish", "backup.finish", 100, "{\"taskId\":\"7\",\"backupId\":\"bk-1\",\"errorMessage\":\"\"}"),
        event("b2-start", "backup.start", 1000, "{\"taskId\":\"7\"}"),                         // never finished
        event("b3-start", "backup.start", 2000, "{\"taskId\":\"7\"}"),
        event("b3-finish", "backup.finish", 2300, "{\"taskId\":\"7\",\"backupId\":\"bk-3\",\"errorMessage\":\"disk full\"}"),
        event("a1-start", "app.backup", 10, "{\"appId\":\"app-wiki\",\"app\":\(appJSON(id: "app-wiki", subdomain: "wiki"))}"),
        event("a2-start", "app.backup", 500, "{\"appId\":\"app-wiki\",\"app\":\(appJSON(id: "app-wiki", subdomain: "wiki"))}"),
        event("a2-finish", "app.backup.finish", 600, "{\"appId\":\"app-wiki\",\"backupId\":\"bk-a2\"}"),
    ]

    @Test("backups: each start takes the first finish of its task or app before the next start; never a negative duration")
    func backups() throws {
        let rows = try runReportOldestFirst("backups", on: Self.events)
        let seen = rows.map { row in
            [row["kind"], row["seconds"], row["result"], row["backupId"]].map { $0.map { "\($0)" } ?? "nil" }.joined(separator: " ")
        }
        #expect(seen == ["full 100 success bk-1", "app <null> unfinished <null>", "app 100 success bk-a2",
                         "full <null> unfinished <null>", "full 300 failed bk-3"])
    }

    /// Each start, next start and finish is its event's current version: an earlier version of a rewritten event
    /// is neither a start, nor the bound of one, nor its finish (schema 0015 tells the current one by the index
    /// of later versions, no longer by the events row).
    @Test("backups and oom --summary: a rewritten event counts once, as its last version says")
    func rewrittenEvents() throws {
        let events = [
            Self.event("r1-start", "backup.start", 0, "{\"taskId\":\"9\"}"),
            Self.event("r2-start", "backup.start", 50, "{\"taskId\":\"9\"}"),           // rewritten to 1200: no bound of r1
            Self.event("r1-finish", "backup.finish", 100, "{\"taskId\":\"9\",\"backupId\":\"bk-r1\",\"errorMessage\":\"\"}"),
            Self.event("s1-start", "app.backup", 10, "{\"appId\":\"app-wiki\",\"app\":\(appJSON(id: "app-wiki", subdomain: "wiki"))}"),
            Self.event("s1-finish", "app.backup.finish", 600, "{\"appId\":\"app-wiki\",\"backupId\":\"bk-s1\"}"),
        ]
        let rewritten = [
            Self.event("r2-start", "backup.start", 1200, "{\"taskId\":\"9\"}"),
            Self.event("r1-finish", "backup.finish", 150, "{\"taskId\":\"9\",\"backupId\":null,\"errorMessage\":\"disk full\"}"),
            Self.event("s1-finish", "app.backup.finish", 700, "{\"appId\":\"app-wiki\",\"backupId\":\"bk-s1b\"}"),
        ]
        let seen = try runReportOldestFirst("backups", on: events, rewritten: rewritten).map { row in
            [row["kind"], row["seconds"], row["result"], row["backupId"]].map { $0.map { "\($0)" } ?? "nil" }.joined(separator: " ")
        }
        #expect(seen == ["full 150 failed <null>", "app 690 success bk-s1b", "full <null> unfinished <null>"])

        let mysql = "{\"containerId\":\"c1\",\"addon\":{\"name\":\"mysql\"},\"app\":null}"
        let wiki = "{\"containerId\":\"c1\",\"addon\":null,\"app\":\(appJSON(id: "app-wiki", subdomain: "wiki"))}"
        let ooms = [Self.event("o1", "app.oom", 400, mysql), Self.event("o2", "app.oom", 500, wiki)]
        for summary in [false, true] {
            let rows = try runReportOldestFirst("oom", on: ooms, rewritten: [Self.event("o1", "app.oom", 450, wiki)], summary: summary)
            #expect(rows.map { "\($0["kind"] ?? "") \($0["victim"] ?? "") \($0["count"] ?? "-")" }
                    == (summary ? ["app wiki.example.com 2"] : ["app wiki.example.com -", "app wiki.example.com -"]))
        }
    }
}

/// A report of a window reads the window's backup starts and app.down events, and looks up through the indexes
/// of schema 0012 what they pair with outside the window: the next start and the finish after --until, the
/// app's previous health event before --since. Expected rows are worked out by hand from the events.
@Suite struct WindowedPairingTests {
    static let t0 = fixtureDay
    static let wiki = "{\"app\":\(appJSON(id: "app-wiki", subdomain: "wiki"))}"
    static let chat = "{\"app\":\(appJSON(id: "app-chat", subdomain: "chat"))}"
    static let health = [
        ReportPairingTests.event("wiki-down", "app.down", 0, wiki),
        ReportPairingTests.event("wiki-down-again", "app.down", 100, wiki),   // the same outage
        ReportPairingTests.event("wiki-up", "app.up", 200, wiki),
        ReportPairingTests.event("chat-down", "app.down", 300, chat),
        ReportPairingTests.event("chat-up", "app.up", 400, chat),
    ]

    @Test("backups until a time: a start before it takes no finish from after the next start, which lies after it")
    func backupsUntil() throws {
        let rows = try runReportOldestFirst("backups", on: ReportPairingTests.events, until: Self.t0 + 1500)
        let seen = rows.map { row in
            [row["kind"], row["seconds"], row["result"], row["backupId"]].map { $0.map { "\($0)" } ?? "nil" }.joined(separator: " ")
        }
        #expect(seen == ["full 100 success bk-1", "app <null> unfinished <null>", "app 100 success bk-a2",
                         "full <null> unfinished <null>"])
    }

    @Test("app-availability of a window: a repeated app.down continues the outage begun before it; an app.up after it ends one")
    func availabilityWindow() throws {
        func seen(since: Int64?, until: Int64?) throws -> [String] {
            try runReportOldestFirst("app-availability", on: Self.health, since: since, until: until).map { row in
                "\(row["app"] as? String ?? "?") \(row["seconds"] as? Int ?? -1) \(row["flag"] as? String ?? "?")"
            }
        }
        #expect(try seen(since: nil, until: nil) == ["wiki.example.com 200 ", "chat.example.com 100 "])
        #expect(try seen(since: Self.t0 + 50, until: nil) == ["chat.example.com 100 "])
        #expect(try seen(since: Self.t0 + 50, until: Self.t0 + 350) == ["chat.example.com 100 "])
    }
}

/// Privilege changes: the role before a change comes from the archive's earlier events of that user, a
/// login included; promotions, demotions and users created as admin or owner are told apart.
@Suite struct PrivilegeReportTests {
    static let t0 = fixtureDay

    static func user(_ name: String, role: String) -> String {
        "{\"id\":\"uid-\(name)\",\"username\":\"\(name)\",\"email\":\"\(name)@example.com\",\"role\":\"\(role)\",\"active\":true}"
    }

    static func event(_ id: String, _ action: String, _ offset: Int64, _ name: String, role: String, by: String = "owner1",
                      adminStatusChanged: Bool? = nil) -> FixtureEvent {
        let extra = adminStatusChanged.map { ",\"adminStatusChanged\":\($0)" } ?? ""
        return FixtureEvent(id: id, action: action, epoch: t0 + offset,
                            source: "{\"ip\":\"198.51.100.7\",\"username\":\"\(by)\",\"userId\":\"uid-\(by)\"}",
                            data: "{\"userId\":\"uid-\(name)\",\"user\":\(user(name, role: role))\(extra)}")
    }

    static let events = [
        // erin is only known from a login as admin, then demoted: the role before is the login's.
        FixtureEvent(id: "l1", action: "user.login", epoch: t0 + 10, source: "{\"ip\":\"198.51.100.9\",\"authType\":\"password\"}",
                     data: "{\"userId\":\"uid-erin\",\"user\":\(user("erin", role: "admin"))}"),
        event("u1", "user.update", 100, "erin", role: "user", adminStatusChanged: true),
        event("u2", "user.add", 200, "frank", role: "owner"),
        event("u3", "user.update", 300, "frank", role: "usermanager"),                  // owner → usermanager: demotion
        event("u4", "user.add", 400, "gina", role: "user"),
        event("u5", "user.update", 500, "gina", role: "mailmanager"),                   // a role change, not a privilege
        event("u6", "user.update", 600, "gina", role: "admin", adminStatusChanged: true),
    ]

    func rows(_ name: String) throws -> [[String: Any]] {
        try runReportOldestFirst(name, on: Self.events)
    }

    static func text(_ row: [String: Any], _ keys: String...) -> String {
        keys.map { row[$0] as? String ?? "-" }.joined(separator: " ")
    }

    @Test("user-changes: role before and after, promotion, demotion, created as owner, other role changes")
    func userChanges() throws {
        let rows = try rows("user-changes")
        #expect(rows.map { Self.text($0, "eventId", "roleBefore", "roleAfter", "flag") } == [
            "u1 admin user demotion", "u2 - owner created as owner", "u3 owner usermanager demotion",
            "u4 - user ", "u5 user mailmanager role change", "u6 mailmanager admin promotion",
        ])
        #expect(rows.map { $0["changed"] as? String ?? "-" } == ["role", "", "role", "", "role", "role"])
    }

    @Test("privileges: who gained or lost admin or owner rights, when, by whom")
    func privileges() throws {
        let rows = try rows("privileges")
        #expect(rows.map { Self.text($0, "eventId", "user", "change", "roleBefore", "roleAfter", "by") } == [
            "u1 erin lost admin user owner1", "u2 frank gained - owner owner1", "u3 frank lost owner usermanager owner1",
            "u6 gina gained mailmanager admin owner1",
        ])
    }
}
