import Archiver
import Foundation
import Testing
@testable import Query

private func search(_ query: SearchQuery, _ database: ReadSession) throws -> [[String: Any]] {
    try ndjsonObjects { writer in try query.run(on: database, into: &writer) }
}

private func keys(_ rows: [[String: Any]]) -> [String] {
    rows.map { "\($0["kind"] as? String ?? "?"):\($0["instance"] as? String ?? "?")/\($0["id"] as? String ?? "?")" }
}

@Suite struct SearchQueryTests {
    @Test func hostileWordsFindTheLiteralText() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        for (text, expected) in [
            ("O'Brien \"NOT\" (x) 🎉", ["event:main/e09-hostile"]),
            ("NOT", ["event:main/e09-hostile"]),
            ("10.0.0.1", ["event:main/e05-login-bob", "event:main/e04-update-wiki"]),
            ("bob@example.org", ["event:main/e05-login-bob"]),
            ("=cmd|'", ["event:main/e09-hostile"]),
            ("wiki.example.com 1.3.0", ["event:main/e04-update-wiki"]),
            ("healthmo*", ["event:main/e10-down-chat", "event:other/e03-up-wiki", "event:main/e03-up-wiki"]),
            ("username", []),                   // keys are not indexed, values are
        ] {
            let rows = try search(SearchQuery(query: try FTSQuery(words: text)), database)
            #expect(keys(rows) == expected, "\(text)")
        }
    }

    @Test func resultsCarrySnippetAndTheObjectAsReceived() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let rows = try search(SearchQuery(query: try FTSQuery(words: "O'Brien")), database)
        let row = try #require(rows.first)
        #expect(row["summary"] as? String == "mail.box.add")
        #expect((row["snippet"] as? String)?.contains("«O'Brien»") == true, "\(row["snippet"] ?? "")")
        let object = try #require(row["object"] as? [String: Any])
        #expect(object["id"] as? String == "e09-hostile")
        #expect((object["data"] as? [String: Any])?["name"] as? String == "O'Brien \"NOT\" (x) 🎉")
        #expect(Set(row.keys) == Set(SearchQuery.columns.map(\.name)))
    }

    @Test func rawModePassesSyntaxAndReportsErrorsInOneLine() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let either = try search(SearchQuery(query: try FTSQuery(raw: "carol OR ldap NOT bob")), database)
        #expect(keys(either) == ["event:main/e08-applogin"])
        let column = try search(SearchQuery(query: try FTSQuery(raw: "action:ghost")), database)
        #expect(keys(column) == ["event:main/e06-ghost"])
        for bad in ["AND", "\"unbalanced", "nosuchcolumn:x", "(a OR", "NEAR(a b"] {
            let error = #expect(throws: QueryInputError.self) {
                try search(SearchQuery(query: try FTSQuery(raw: bad)), database)
            }
            #expect(error?.message.hasPrefix("invalid search expression") == true, "\(bad)")
            #expect(error?.message.contains("\n") == false)
        }
    }

    @Test func rankOrdersByRelevance() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let chronological = keys(try search(SearchQuery(query: try FTSQuery(words: "wiki")), database))
        let ranked = keys(try search(SearchQuery(query: try FTSQuery(words: "wiki"), rankByRelevance: true), database))
        #expect(Set(chronological) == Set(ranked))
        #expect(chronological.count == 4)
        // bm25 computed independently in SQLite for the same MATCH decides the expected order.
        var expected: [String] = []
        try database.forEachRow("""
            SELECT e.api_id FROM events_fts JOIN events e ON e.id = events_fts.rowid
            WHERE events_fts MATCH '"wiki"' ORDER BY bm25(events_fts), e.creation_epoch DESC, e.id DESC
            """) { expected.append("event:main/" + $0.string(at: 0)) }
        #expect(ranked == expected)
    }

    @Test func notificationsAndTasksToo() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let scopes = try SearchQuery.parseScopes("events,notifications,tasks")
        let rows = try search(SearchQuery(query: try FTSQuery(words: "wiki"), scopes: scopes), database)
        let found = keys(rows)
        #expect(found.contains("notification:main/2"))
        #expect(found.contains("task:main/413"))
        #expect(found.filter { $0.hasPrefix("event:") }.count == 4)
        let chat = try search(SearchQuery(query: try FTSQuery(words: "chat"), scopes: [.notifications]), database)
        #expect(keys(chat) == ["notification:main/1"])
        #expect(chat.first?["summary"] as? String == "App chat is down")
        #expect(throws: QueryInputError.self) { try SearchQuery.parseScopes("events,logs") }
        #expect(throws: QueryInputError.self) {
            try search(SearchQuery(query: try FTSQuery(words: "x"), filter: EventFilter(user: "bob"), scopes: scopes), database)
        }
    }

    @Test func filtersApplyToSearch() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let filter = EventFilter(actions: [try ActionPattern("app.*")], instance: "main", limit: 2, order: .oldest)
        let rows = try search(SearchQuery(query: try FTSQuery(words: "wiki"), filter: filter), database)
        #expect(keys(rows) == ["event:main/e02-install-wiki", "event:main/e03-up-wiki"])
    }
}

@Suite struct ListingQueryTests {
    @Test func notifications() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let rows = try ndjsonObjects { try NotificationQuery().run(on: database, into: &$0) }
        #expect(rows.map { $0["id"] as? String } == ["1", "2"])
        #expect(rows[0]["eventId"] as? String == "e10-down-chat")
        #expect(rows[1]["eventId"] is NSNull)
        #expect(rows[1]["acknowledged"] as? Bool == true)
        #expect(rows[1]["message"] as? String == "Backup of wiki timed out")
        let since = try ndjsonObjects {
            try NotificationQuery(filter: EventFilter(since: fixtureDay + 1000)).run(on: database, into: &$0)
        }
        #expect(since.map { $0["id"] as? String } == ["1"])
        #expect(throws: QueryInputError.self) {
            try ndjsonObjects { try NotificationQuery(filter: EventFilter(user: "bob")).run(on: database, into: &$0) }
        }
    }

    @Test func tasks() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        let rows = try ndjsonObjects { try TaskQuery(filter: EventFilter(order: .oldest)).run(on: database, into: &$0) }
        #expect(rows.map { $0["id"] as? String } == ["412", "413", "414"])
        // JSON formats give each task as received (`error` as sent, `ts`), plus instance.
        #expect((rows[1]["error"] as? [String: Any])?["message"] as? String == "timeout reaching wiki storage")
        #expect(rows[1]["success"] as? Bool == false)
        #expect(rows[0]["error"] is NSNull && rows[0]["errorMessage"] == nil)
        #expect(rows[0]["ts"] as? String != nil && rows[0]["instance"] as? String == "main")
        #expect((rows[0]["result"] as? [String: Any])?["backupId"] as? String == "bk-412")
        #expect(rows[2]["success"] is NSNull)
        #expect(rows[2]["percent"] as? Int == 30)

        // CSV keeps the curated columns: the error's message whatever shape it came in.
        let sink = OutputSink()
        var csv = CSVWriter(sink: sink)
        try TaskQuery(filter: EventFilter(order: .oldest)).run(on: database, into: &csv)
        let csvLines = String(decoding: sink.bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
        #expect(csvLines.first == "id,type,creationTime,percent,active,pending,success,errorMessage,message,result,instance")
        #expect(csvLines.dropFirst(2).first?.contains(",timeout reaching wiki storage,") == true)
    }

    @Test func readOnlyConnectionRefusesWrites() throws {
        let directory = try TemporaryDirectory()
        let database = try openReadOnly(try makeFixtureArchive(in: directory))
        #expect(throws: SQLiteError.self) {
            let statement = try database.prepare("DELETE FROM events")
            _ = try statement.step()
        }
    }
}
