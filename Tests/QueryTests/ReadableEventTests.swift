import Archiver
import Client
import CloudronSimulator
import Foundation
import Testing
@testable import Query

/// One simulator event as the test reads it: its JSON parsed by Foundation, independently of the archive.
private struct ParsedEvent {
    let id: String
    let action: String
    let source: [String: Any]
    let data: [String: Any]

    init(_ json: [UInt8]) throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        id = try #require(object["id"] as? String)
        action = try #require(object["action"] as? String)
        source = object["source"] as? [String: Any] ?? [:]
        data = object["data"] as? [String: Any] ?? [:]
    }

    func string(_ object: [String: Any], _ path: String...) -> String? {
        var current: Any? = object
        for key in path { current = (current as? [String: Any])?[key] }
        if let text = current as? String { return text }
        if let number = current as? NSNumber { return number.stringValue }
        return nil
    }

    var user: String? { string(data, "user", "username") ?? string(data, "userId") ?? string(data, "user", "id") }
    var appFromData: String? {
        string(data, "app", "fqdn") ?? string(data, "newApp", "fqdn") ?? string(data, "app", "subdomain")
    }
    var appID: String? { string(data, "appId") ?? string(data, "app", "id") ?? string(source, "appId") }
    var isLogin: Bool { action == "user.login" || action == "user.logout" }
    var actor: String? {
        if isLogin { return string(source, "username") ?? user }
        return string(source, "username") ?? string(source, "mailboxId") ?? string(source, "userId")
    }
    var error: String? { string(data, "errorMessage").flatMap { $0.isEmpty ? nil : $0 } }
    var failed: Bool { (data["success"] as? Bool) == false || error != nil }
    var task: String? { string(data, "taskId") }
    var backup: String? { string(data, "backupId") }
}

/// The summary the test expects for each action the simulator emits, written out by hand. `earlierRole`
/// is the role the user had in the archive's earlier events.
private func expectedSummary(_ e: ParsedEvent, app: String?, earlierRole: String?) -> String {
    let actor = e.actor ?? "?", user = e.user ?? "?", app = app ?? "?", task = e.task ?? "?"
    let role = e.string(e.data, "user", "role")
    switch e.action {
    case "app.clone": return "\(actor) cloned \(app)"
    case "app.configure": return "\(actor) reconfigured \(app)"
    case "app.repair": return "\(actor) repaired \(app)"
    case "app.install": return "\(actor) installed \(app)"
    case "app.restore": return "\(actor) restored \(app) from backup \(e.backup ?? "?")"
    case "app.import": return "\(actor) imported \(app)"
    case "app.uninstall": return "\(actor) uninstalled \(app)"
    case "app.update": return "\(actor) started updating \(app)"
    case "app.update.finish": return e.failed ? "update of \(app) failed" : "\(app) updated"
    case "app.backup": return "\(actor) started a backup of \(app) (task \(task))"
    case "app.backup.finish":
        return e.failed ? "backup of \(app) failed: \(e.error ?? "?")" : "backup of \(app) finished: \(e.backup ?? "?")"
    case "app.login": return "\(actor) logged in to \(app)"
    case "app.oom": return e.appFromData == nil ? "a service ran out of memory" : "\(app) ran out of memory"
    case "app.up": return "\(app) is up again"
    case "app.down": return "\(app) is down"
    case "app.start": return "\(actor) started \(app)"
    case "app.stop": return "\(actor) stopped \(app)"
    case "app.restart": return "\(actor) restarted \(app)"
    case "app.task.start": return "\(actor) started task \(task) of \(app)"
    case "app.task.crash": return "task \(task) of \(app) crashed"
    case "app.task.success": return "task \(task) of \(app) succeeded"
    case "backup.start": return "\(actor) started a backup (task \(task))"
    case "backup.finish": return e.failed ? "backup failed: \(e.error ?? "?")" : "backup \(e.backup ?? "?") finished"
    case "backup.cleanup.start": return "\(actor) started a backup cleanup (task \(task))"
    case "backup.cleanup.finish": return e.failed ? "backup cleanup failed: \(e.error ?? "?")" : "backup cleanup finished"
    case "certificate.new":
        return e.failed ? "certificate could not be obtained: \(e.error ?? "?")" : "new certificate obtained"
    case "certificate.renew": return e.failed ? "certificate renewal failed: \(e.error ?? "?")" : "certificate renewed"
    case "certificate.cleanup": return "expired certificates removed"
    case "cloudron.activate": return "\(actor) activated the Cloudron"
    case "cloudron.provision": return "\(actor) provisioned the Cloudron"
    case "cloudron.install.finish": return "Cloudron installation finished"
    case "cloudron.start": return "Cloudron started"
    case "cloudron.update": return "\(actor) started a Cloudron update (task \(task))"
    case "cloudron.update.finish": return "Cloudron update finished"
    case "dashboard.domain.update": return "\(actor) changed the dashboard domain"
    case "domain.add": return "\(actor) added a domain"
    case "domain.update": return "\(actor) changed a domain"
    case "domain.remove": return "\(actor) removed a domain"
    case "dyndns.update": return "dynamic DNS updated"
    case "mail.location": return "\(actor) moved the mail server"
    case "mail.enabled": return "\(actor) enabled mail for a domain"
    case "mail.disabled": return "\(actor) disabled mail for a domain"
    case "mail.box.add": return "\(actor) added a mailbox for \(user)"
    case "mail.box.remove": return "\(actor) removed a mailbox of \(user)"
    case "mail.box.update": return "\(actor) changed a mailbox of \(user)"
    case "mail.list.add": return "\(actor) added a mailing list"
    case "mail.list.remove": return "\(actor) removed a mailing list"
    case "mail.list.update": return "\(actor) changed a mailing list"
    case "service.configure": return "\(actor) reconfigured a service"
    case "service.rebuild": return "\(actor) rebuilt a service"
    case "service.restart": return "\(actor) restarted a service"
    case "user.add": return role.map { "\(actor) added \(user) as \($0)" } ?? "\(actor) added \(user)"
    case "user.login": return "\(actor) logged in (\(e.string(e.source, "authType") ?? "?"))"
    case "user.login.ghost": return "\(actor) logged in as \(user) (impersonation)"
    case "user.logout": return "\(actor) logged out"
    case "user.remove": return (role ?? earlierRole).map { "\(actor) removed \(user) (\($0))" } ?? "\(actor) removed \(user)"
    case "user.update":
        if let earlierRole, let role, earlierRole != role { return "\(actor) changed \(user)'s role: \(earlierRole) → \(role)" }
        return "\(actor) changed \(user)"
    case "user.transfer": return "\(actor) transferred the data of \(user)"
    case "volume.add": return "\(actor) added a volume"
    case "volume.update": return "\(actor) changed a volume"
    case "volume.remount": return "\(actor) remounted a volume"
    case "volume.remove": return "\(actor) removed a volume"
    case "support.ticket": return "\(actor) opened a support ticket"
    case "support.ssh": return "\(actor) changed support SSH access"
    case "system.crash": return "a system process crashed"
    default: return "no expectation for \(e.action)"
    }
}

/// Parses CSV with Python's csv module (the independent reader) into rows of cells.
private func csvRows(_ bytes: [UInt8], in directory: TemporaryDirectory) throws -> [[String]] {
    let path = directory.file("rows-\(UUID().uuidString).csv")
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let json = try runPython("""
        import csv, json, sys
        print(json.dumps(list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8'), strict=True))))
        """, [path])
    return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String]])
}

@Suite struct ReadableEventTests {
    /// An archive of the simulator's sample events: every action it emits, then a random mix.
    private static func sampleArchive(in directory: TemporaryDirectory) throws -> (path: String, events: [ParsedEvent]) {
        let path = directory.file("sample.db")
        let archive = try Archive(path: path)
        let instance = try archive.instanceID(name: "main", baseURL: "https://my.example.com")
        let run = try archive.beginRun(instance: instance, streams: ["eventlog"], startedAt: fixtureDay)
        var stream = SampleEventStream(seed: 3, count: 1_500, days: 2, now: fixtureDay)
        var events: [Event] = []
        var parsed: [ParsedEvent] = []
        while let event = stream.next() {
            events.append(Event(id: event.id, action: event.action, creationTime: event.creationTime,
                                epochSeconds: event.epochSeconds, raw: event.json))
            parsed.append(try ParsedEvent(event.json))
        }
        _ = try archive.ingest(events: events, instance: instance, run: run, seenAt: fixtureDay)
        try archive.finishRun(run, result: .success, finishedAt: fixtureDay + 1, counts: RunCounts(), requests: 1, errors: [])
        return (path, parsed)
    }

    @Test func everyActionTheSimulatorEmitsReadsAsItsHandWrittenSentence() throws {
        let directory = try TemporaryDirectory()
        let (path, events) = try Self.sampleArchive(in: directory)
        let sink = OutputSink()
        var writer = CSVWriter(sink: sink)
        try EventQuery(layout: .readable(shortIDs: false)).run(on: try openReadOnly(path), into: &writer)
        let rows = try csvRows(sink.bytes, in: directory)
        #expect(rows.first == ["time", "instance", "action", "actor", "subject", "ip", "app", "summary", "id"])
        let byID = Dictionary(events.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        // An app named only by id in an event (a login, a task) is named as other events of the archive name it.
        var appNames: [String: String] = [:]
        for event in events {
            if let id = event.string(event.data, "app", "id"), let name = event.appFromData { appNames[id] = name }
        }
        // Each user's role as of each event, from the events before it (the stream is oldest first).
        var knownRole: [String: String] = [:]
        var earlierRole: [String: String] = [:]
        for event in events {
            guard let id = event.string(event.data, "user", "id") else { continue }
            earlierRole[event.id] = knownRole[id]
            if let role = event.string(event.data, "user", "role") { knownRole[id] = role }
        }
        var actions: Set<String> = []
        for row in rows.dropFirst() {
            let event = try #require(byID[row[8]], "row id \(row[8]) is a sample event")
            actions.insert(event.action)
            let app = event.appFromData ?? event.appID.map { appNames[$0] ?? $0 }
            #expect(row[2] == event.action)
            #expect(row[7] == expectedSummary(event, app: app, earlierRole: earlierRole[event.id]), "\(event.action)")
            #expect(row[3] == (event.actor ?? ""), "actor of \(event.action)")
            #expect(row[4] == (event.user ?? app ?? ""), "subject of \(event.action)")
            #expect(row[5] == (event.string(event.source, "ip") ?? ""), "ip of \(event.action)")
            #expect(row[6] == (app ?? ""), "app of \(event.action)")
        }
        // Every action of cloudron-api.md, as the simulator lists them, was seen and checked.
        #expect(actions.count == 65)
        #expect(rows.count == events.count + 1)
        // The failure wording was exercised as well as the success one.
        #expect(rows.contains { $0[7].hasPrefix("backup failed: ") || $0[7].contains(" failed: ") })
    }

    @Test func userEventsSayTheRoleBeforeAndAfter() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("roles.db")
        let archive = try Archive(path: path)
        let instance = try archive.instanceID(name: "main", baseURL: "https://my.example.com")
        let run = try archive.beginRun(instance: instance, streams: ["eventlog"], startedAt: fixtureDay)
        func user(_ name: String, _ role: String) -> String {
            "{\"userId\":\"uid-\(name)\",\"user\":{\"id\":\"uid-\(name)\",\"username\":\"\(name)\",\"role\":\"\(role)\"}}"
        }
        let alice = "{\"ip\":\"203.0.113.9\",\"username\":\"alice\",\"userId\":\"uid-alice\"}"
        let events = [
            FixtureEvent(id: "r1", action: "user.login", epoch: fixtureDay + 10, source: "{\"authType\":\"ldap\",\"ip\":\"10.0.0.1\"}",
                         data: user("bob", "user")),
            FixtureEvent(id: "r2", action: "user.update", epoch: fixtureDay + 20, source: alice, data: user("bob", "admin")),
            FixtureEvent(id: "r3", action: "user.add", epoch: fixtureDay + 30, source: alice, data: user("carol", "admin")),
            FixtureEvent(id: "r4", action: "user.update", epoch: fixtureDay + 40, source: alice, data: user("carol", "admin")),
            FixtureEvent(id: "r5", action: "user.remove", epoch: fixtureDay + 50, source: alice, data: user("bob", "admin")),
            FixtureEvent(id: "r6", action: "user.update", epoch: fixtureDay + 60, source: alice,
                         data: "{\"userId\":\"uid-dave\",\"user\":{\"id\":\"uid-dave\",\"username\":\"dave\",\"role\":\"owner\"}}"),
        ]
        _ = try archive.ingest(events: events.map(\.event), instance: instance, run: run, seenAt: fixtureDay + 100)
        try archive.finishRun(run, result: .success, finishedAt: fixtureDay + 101, counts: RunCounts(), requests: 1, errors: [])
        let sink = OutputSink()
        var writer = CSVWriter(sink: sink)
        try EventQuery(filter: EventFilter(order: .oldest), layout: .readable(shortIDs: false)).run(on: try openReadOnly(path), into: &writer)
        let summaries = try csvRows(sink.bytes, in: directory).dropFirst().map { [$0[8], $0[7]] }
        #expect(summaries == [["r1", "bob logged in (ldap)"],
                              ["r2", "alice changed bob's role: user → admin"],
                              ["r3", "alice added carol as admin"],
                              ["r4", "alice changed carol"],          // admin before and after
                              ["r5", "alice removed bob (admin)"],
                              ["r6", "alice changed dave"]])          // no earlier role known
    }

    @Test func aTemplateForEveryActionAndAnUnknownActionStillReads() throws {
        #expect(EventSummary.text(of: EventFacts(action: "app.teleport", actorName: "alice")) == "alice: app.teleport")
        #expect(EventSummary.text(of: EventFacts(action: "app.teleport")) == "app.teleport")
        // A fact missing from every candidate shows as "?", never as a template's braces.
        #expect(EventSummary.text(of: EventFacts(action: "app.install")) == "? installed ?")
        #expect(EventSummary.text(of: EventFacts(action: "backup.finish", errorMessage: "disk full")) == "backup failed: disk full")
        #expect(EventSummary.text(of: EventFacts(action: "backup.finish", success: false)) == "backup failed")
        #expect(EventSummary.text(of: EventFacts(action: "backup.finish", backupID: "b1", errorMessage: "")) == "backup b1 finished")
    }

    @Test func tablesShowShortIDsThatIDAndAroundAcceptAsPrefixes() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let sink = OutputSink()
        var writer = TableWriter(sink: sink)
        try EventQuery(filter: EventFilter(instance: "main"), layout: .readable(shortIDs: true)).run(on: database, into: &writer)
        let lines = String(decoding: sink.bytes, as: UTF8.self).split(separator: "\n")
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true)
                == ["time", "instance", "action", "actor", "subject", "ip", "app", "summary", "id"])
        // "e05-login-bob" is cut to its first 8 characters.
        let bob = try #require(lines.first { $0.contains("bob logged in (ldap)") })
        #expect(bob.hasSuffix("  e05-logi"))
        #expect(!String(decoding: sink.bytes, as: UTF8.self).contains("e05-login-bob"))
        // The short id finds the event; a shorter, shared prefix is refused with the candidates.
        let found = try ndjsonObjects { try EventQuery(eventID: "e05-logi").run(on: database, into: &$0) }
        #expect(found.map { $0["id"] as? String } == ["e05-login-bob"])
        let ambiguous = #expect(throws: QueryInputError.self) {
            _ = try ndjsonObjects { try EventQuery(eventID: "e0").run(on: database, into: &$0) }
        }
        #expect(ambiguous?.message.contains("ambiguous") == true)
        #expect(ambiguous?.message.contains("e01-login-alice (main)") == true)
        #expect(ambiguous?.message.contains("e05-login-bob (main)") == true)
        let around = try ndjsonObjects {
            try EventQuery(filter: EventFilter(order: .oldest), around: ("e05-l", 100)).run(on: database, into: &$0)
        }
        #expect(around.filter { $0["offset"] as? String == "anchor" }.map { $0["id"] as? String } == ["e05-login-bob"])
        #expect(throws: QueryInputError.self) {
            _ = try ndjsonObjects { try EventQuery(eventID: "zz").run(on: database, into: &$0) }
        }
    }

    @Test func aroundMarksTheAnchorWithEachRowsOffsetAndRefusesSinceAndUntil() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let sink = OutputSink()
        var writer = CSVWriter(sink: sink)
        try EventQuery(filter: EventFilter(order: .oldest), around: ("e05-login-bob", 100), layout: .readable(shortIDs: false))
            .run(on: database, into: &writer)
        let rows = try csvRows(sink.bytes, in: directory)
        #expect(rows.first?.first == "offset")
        // Hand-computed from the fixture: e03 and e04 at +300 s, e05 at +400 s, e06 at +500 s of the day.
        #expect(rows.dropFirst().map { [$0[0], $0[9]] } == [["1m40s before", "e03-up-wiki"], ["1m40s before", "e04-update-wiki"],
                                                              ["anchor", "e05-login-bob"], ["1m40s after", "e06-ghost"]])
        for (since, until) in [(Int64(0), Int64?.none), (nil, fixtureDay + 900)] as [(Int64?, Int64?)] {
            let refused = #expect(throws: QueryInputError.self) {
                try EventQuery(filter: EventFilter(since: since, until: until), around: ("e05-login-bob", 100))
            }
            #expect(refused?.message.contains("--since") == true)
        }
        #expect(EventQuery.offsetText(3723) == "1h02m03s after")
        #expect(EventQuery.offsetText(-45) == "45s before")
        #expect(EventQuery.offsetText(0) == "same second")
    }

    @Test func outputFileExtensionsNameTheirFormat() throws {
        #expect(try OutputFormat(extensionOf: "x.csv") == .csv)
        #expect(try OutputFormat(extensionOf: "dir.v2/Out.JSON") == .json)
        #expect(try OutputFormat(extensionOf: "x.ndjson") == .ndjson)
        #expect(try OutputFormat(extensionOf: "x.jsonl") == .ndjson)
        #expect(try OutputFormat(extensionOf: "x.txt") == .table)
        #expect(try OutputFormat(extensionOf: "/dev/stdout") == nil)
        #expect(try OutputFormat(extensionOf: ".hidden") == nil)
        #expect(throws: QueryInputError.self) { try OutputFormat(extensionOf: "x.pdf") }
    }
}
