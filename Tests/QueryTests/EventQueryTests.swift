import Archiver
import Foundation
import Testing
@testable import Query

/// The current state of the main instance's fixture, as the test itself defines it.
private var mainCurrent: [FixtureEvent] {
    fixtureEvents.map { $0.id == upsertedLogin.id ? upsertedLogin : $0 }
}

/// Events of both instances with their instance names: the independent expectation.
private var allCurrent: [(event: FixtureEvent, instance: String)] {
    mainCurrent.map { ($0, "main") } + otherInstanceEvents.map { ($0, "other") }
}

/// The expected order, computed from the fixture alone: by time, ties by archive insertion order (the
/// order `rows` lists them in, as the fixture ingests them: main's list, then other's; an upsert keeps
/// its row), all of it reversed for newest first.
private func expectedOrder(_ rows: [(event: FixtureEvent, instance: String)], newestFirst: Bool) -> [String] {
    let oldestFirst = rows.enumerated().sorted { a, b in
        a.element.event.epoch != b.element.event.epoch ? a.element.event.epoch < b.element.event.epoch : a.offset < b.offset
    }.map { "\($0.element.instance)/\($0.element.event.id)" }
    return newestFirst ? oldestFirst.reversed() : oldestFirst
}

private func ids(_ objects: [[String: Any]]) -> [String] {
    objects.map { "\($0["instance"] as? String ?? "?")/\($0["id"] as? String ?? "?")" }
}

private func run(_ query: EventQuery, _ database: ReadSession) throws -> [[String: Any]] {
    try ndjsonObjects { writer in try query.run(on: database, into: &writer) }
}

@Suite struct EventQueryTests {
    @Test func ndjsonHasTheAPIFieldsWithSourceAndDataAsReceived() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let sink = OutputSink()
        var writer = NDJSONWriter(sink: sink)
        let count = try EventQuery().run(on: database, into: &writer)
        #expect(count == allCurrent.count)
        let lines = sink.bytes.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
        for (event, instance) in allCurrent {
            let prefix = "{\"id\":\"\(event.id)\",\"action\":\"\(event.action)\","
            let line = try #require(lines.first { $0.hasPrefix(prefix) && $0.hasSuffix("\"instance\":\"\(instance)\"}") })
            // creationTime, source and data are the received bytes verbatim; the keys are exactly the API's
            // plus instance.
            #expect(line == prefix + "\"creationTime\":\"\(event.creationTime)\","
                    + "\"source\":\(event.source),\"data\":\(event.data),\"instance\":\"\(instance)\"}")
        }
    }

    @Test func creationTimeFollowsTzAndIsFormattedInCSV() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let berlin = try TimeZoneOption.parse("Europe/Berlin")
        let query = try EventQuery(filter: EventFilter(instance: "main", limit: 1, order: .oldest))
        let sink = OutputSink()
        var zoned = NDJSONWriter(sink: sink, times: TimestampFormatter(zone: berlin))
        try query.run(on: database, into: &zoned)
        let first = try #require(allCurrent.filter { $0.1 == "main" }.map(\.0).min { $0.epoch < $1.epoch })
        var berlinTimes = TimestampFormatter(zone: berlin)
        #expect(String(decoding: sink.bytes, as: UTF8.self)
            .contains("\"creationTime\":\"\(berlinTimes.string(from: first.epoch))\""))
        let csv = OutputSink()
        var writer = CSVWriter(sink: csv)
        try query.run(on: database, into: &writer)
        var utc = TimestampFormatter()
        #expect(String(decoding: csv.bytes, as: UTF8.self).contains(",\(utc.string(from: first.epoch)),"))
    }

    @Test func defaultOrderIsNewestFirstAndOldestReverses() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        // The fixture has a tie (e03 and e04 in one second), so the tie rule is part of the expectation.
        #expect(allCurrent.filter { $0.event.epoch == fixtureDay + 300 }.count == 2)
        #expect(ids(try run(EventQuery(), database)) == expectedOrder(allCurrent, newestFirst: true))
        #expect(ids(try run(EventQuery(filter: EventFilter(order: .oldest)), database))
                == expectedOrder(allCurrent, newestFirst: false))
    }

    @Test func actionPatternsAreExactOrGlob() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        for (patterns, predicate) in [
            (["app.up"], { (a: String) in a == "app.up" }),
            (["app.*"], { (a: String) in a.hasPrefix("app.") }),
            (["user.login", "app.update*"], { (a: String) in a == "user.login" || a.hasPrefix("app.update") }),
            (["user.login?ghost"], { (a: String) in a == "user.login.ghost" }),
            (["*.finish"], { (a: String) in a.hasSuffix(".finish") }),
        ] as [([String], (String) -> Bool)] {
            let filter = EventFilter(actions: try patterns.map(ActionPattern.init))
            let found = Set(ids(try run(EventQuery(filter: filter), database)))
            let expected = Set(allCurrent.filter { predicate($0.event.action) }.map { "\($0.instance)/\($0.event.id)" })
            #expect(found == expected, "\(patterns)")
            #expect(!expected.isEmpty)
        }
    }

    @Test func timeWindowIsHalfOpen() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let filter = EventFilter(since: fixtureDay + 300, until: fixtureDay + 600)
        let found = Set(ids(try run(EventQuery(filter: filter), database)))
        let expected = Set(allCurrent.filter { $0.event.epoch >= fixtureDay + 300 && $0.event.epoch < fixtureDay + 600 }
            .map { "\($0.instance)/\($0.event.id)" })
        #expect(found == expected)
        #expect(found.contains("main/e03-up-wiki") && !found.contains("main/e07-finish"))
    }

    @Test func userMatchesActorOrSubjectByNameOrId() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        for user in ["bob", "uid-bob", "alice", "uid-alice2", "=cmd|' /C calc'!A0", "nobody"] {
            let found = Set(ids(try run(EventQuery(filter: EventFilter(user: user)), database)))
            let expected = Set(allCurrent.filter { row in
                let e = row.event
                return [e.value(["username"], in: e.source), e.value(["userId"], in: e.source),
                        e.value(["userId"], in: e.data), e.value(["user", "id"], in: e.data),
                        e.value(["user", "username"], in: e.data)].contains(user)
            }.map { "\($0.instance)/\($0.event.id)" })
            #expect(found == expected, "\(user)")
        }
        // The ghost login names alice as actor and bob as subject: both find it.
        #expect(Set(ids(try run(EventQuery(filter: EventFilter(user: "bob")), database))).contains("main/e06-ghost"))
        #expect(Set(ids(try run(EventQuery(filter: EventFilter(user: "alice")), database))).contains("main/e06-ghost"))
    }

    @Test func appMatchesIdSubdomainOrFqdn() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let wiki: Set<String> = ["main/e02-install-wiki", "main/e03-up-wiki", "main/e04-update-wiki", "main/e07-finish"]
        for value in ["app-wiki", "wiki", "wiki.example.com"] {
            #expect(Set(ids(try run(EventQuery(filter: EventFilter(app: value)), database))) == wiki, "\(value)")
        }
        #expect(ids(try run(EventQuery(filter: EventFilter(app: "app-mail")), database)) == ["main/e08-applogin"])
        #expect(ids(try run(EventQuery(filter: EventFilter(app: "chat.example.org")), database)) == ["main/e10-down-chat"])
        #expect(ids(try run(EventQuery(filter: EventFilter(app: "wiki.example")), database)).isEmpty)   // exact only
    }

    @Test func ipInstanceAndLimit() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        #expect(Set(ids(try run(EventQuery(filter: EventFilter(ip: "10.0.0.1")), database)))
                == ["main/e04-update-wiki", "main/e05-login-bob"])                       // not 10.0.0.12
        let other = ids(try run(EventQuery(filter: EventFilter(instance: "other")), database))
        #expect(Set(other) == ["other/o01-login-alice", "other/e03-up-wiki"])
        #expect(ids(try run(EventQuery(filter: EventFilter(limit: 3)), database))
                == Array(expectedOrder(allCurrent, newestFirst: true).prefix(3)))
        // A limit that cuts through the tied second takes the row inserted first.
        let main = allCurrent.filter { $0.instance == "main" }
        #expect(ids(try run(EventQuery(filter: EventFilter(instance: "main", limit: 2, order: .oldest)), database))
                == ["main/e02-install-wiki", "main/e03-up-wiki"])
        #expect(ids(try run(EventQuery(filter: EventFilter(instance: "main", limit: 2, order: .oldest)), database))
                == Array(expectedOrder(main, newestFirst: false).prefix(2)))
        let unknown = #expect(throws: QueryInputError.self) { try run(EventQuery(filter: EventFilter(instance: "nope")), database) }
        #expect(unknown?.message == "unknown instance \"nope\": the archive holds main, other")
    }

    @Test func historyListsEveryVersion() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let filter = EventFilter(actions: [try ActionPattern("user.login")], instance: "main", order: .oldest)
        let rows = try run(EventQuery(filter: filter, history: true), database)
        let summary = rows.map { "\($0["id"] as? String ?? "")#\($0["version"] as? Int ?? 0)" }
        #expect(summary == ["e01-login-alice#1", "e05-login-bob#1", "e01-login-alice#2"])
        var formatter = TimestampFormatter()
        #expect(rows[2]["creationTime"] as? String == upsertedLogin.creationTime)   // as received
        #expect(rows[2]["firstSeen"] as? String == formatter.string(from: fixtureDay + 90_100))
        #expect((rows[2]["data"] as? [String: Any])?["n"] as? Int == 2)
        #expect((rows[0]["data"] as? [String: Any])?["n"] == nil)
        // Without history only the current version.
        let current = try run(EventQuery(filter: filter), database)
        #expect(current.map { $0["id"] as? String ?? "" } == ["e05-login-bob", "e01-login-alice"])
    }

    @Test func aroundListsTheSameInstanceWithinTheWindow() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let query = try EventQuery(filter: EventFilter(order: .oldest), around: ("e05-login-bob", 100))
        let found = ids(try run(query, database))
        let window = allCurrent.filter { $0.instance == "main" && abs($0.event.epoch - (fixtureDay + 400)) <= 100 }
        #expect(window.count == 4)
        #expect(found == expectedOrder(window, newestFirst: false))
        // e03-up-wiki exists on both instances: ambiguous without --instance.
        let ambiguous = #expect(throws: QueryInputError.self) {
            try run(EventQuery(around: ("e03-up-wiki", 60)), database)
        }
        #expect(ambiguous?.message.contains("main, other") == true)
        let other = ids(try run(EventQuery(filter: EventFilter(instance: "other"), around: ("e03-up-wiki", 200)), database))
        #expect(Set(other) == ["other/o01-login-alice", "other/e03-up-wiki"])
        #expect(throws: QueryInputError.self) { try run(EventQuery(around: ("no-such-event", 60)), database) }
    }

    @Test func invalidFiltersAreRejectedBeforeSQL() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        #expect(throws: QueryInputError.self) { try run(EventQuery(filter: EventFilter(since: 10, until: 5)), database) }
        #expect(throws: QueryInputError.self) { try run(EventQuery(filter: EventFilter(limit: 0)), database) }
    }

    @Test func csvOfEventsGuardsHostileUsernames() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let path = directory.file("events.csv")
        try AtomicOutputFile.write(to: path) { sink in
            var writer = CSVWriter(sink: sink)
            try EventQuery(filter: EventFilter(user: "uid-evil")).run(on: database, into: &writer)
        }
        let json = try runPython("""
            import csv, json, sys
            print(json.dumps(list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8'), strict=True))))
            """, [path])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String]])
        #expect(rows.count == 2)
        #expect(rows[0] == ["id", "action", "creationTime", "source", "data", "instance"])
        #expect(rows[1][3].contains("=cmd|"))    // JSON text starting with `{` is not a formula
        #expect(rows[1][0] == "e09-hostile")
    }
}
