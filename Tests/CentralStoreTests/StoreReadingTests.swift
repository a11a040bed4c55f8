import Archiver
import CentralStore
import CloudronSimulator
import Foundation
import ScratchPostgres
import Testing

/// `events --from` and `search --from` against the archive they were pushed from: a simulated server
/// synced over HTTP into SQLite (`cloudron-audit demo`), pushed into a real PostgreSQL, then the same
/// command with `--db` and with `--from` must print the same bytes (NDJSON and CSV), exit the same way
/// and say the same one line when it fails. Search words come from the simulator's own data.
@Suite(.serialized) struct StoreReadingTests {
    static let seed: UInt64 = 73
    static let events = 600

    /// Values the simulator put into events (its truth for the seed, the data the demo's first sync reads).
    struct Words {
        var ip: String
        var user: String
        var otherUser: String
        var app: String
        var nonASCII: String
        var eventID: String
        /// A login's `source.authType`: the first token of its `source_text` column, right after the
        /// action's last token in the index (`user login` | `oidc …`).
        var authType: String
    }

    static func words() async throws -> Words {
        let truth = await SimulatedCloudron(configuration: SimulatorConfiguration(seed: seed, eventCount: events)).truth()
        var ips: [String] = [], users: [String] = [], apps: [String] = [], names: [String] = [], authTypes: [String] = []
        for record in truth.events {
            guard let object = try JSONSerialization.jsonObject(with: Data(record.bytes)) as? [String: Any] else { continue }
            let source = object["source"] as? [String: Any] ?? [:]
            let data = object["data"] as? [String: Any] ?? [:]
            if let ip = source["ip"] as? String { ips.append(ip) }
            if object["action"] as? String == "user.login", let type = source["authType"] as? String { authTypes.append(type) }
            if object["action"] as? String == "user.login", let name = (data["user"] as? [String: Any])?["username"] as? String { users.append(name) }
            if let fqdn = (data["app"] as? [String: Any])?["fqdn"] as? String { apps.append(fqdn) }
            if let name = (data["user"] as? [String: Any])?["displayName"] as? String, name.unicodeScalars.contains(where: { $0.value > 0x7F }) {
                names.append(name)
            }
        }
        let distinctUsers = Array(Set(users)).sorted().filter { $0.count >= 4 }
        let nonASCIIWord = names.lazy.flatMap { $0.split(separator: " ") }.first { word in
            word.unicodeScalars.contains { $0.value > 0x7F } && word.unicodeScalars.allSatisfy { CharacterSet.letters.contains($0) }
        }
        guard let ip = ips.first, distinctUsers.count >= 2, let app = apps.first(where: { $0.contains(".") }),
              let nonASCII = nonASCIIWord, let authType = authTypes.first, let eventID = truth.events.dropFirst(truth.events.count / 2).first?.id else {
            throw CLI.Failure(description: "the simulator's data lacks an ip, two users, an app, a non-ASCII name or events")
        }
        return Words(ip: ip, user: distinctUsers[0], otherUser: distinctUsers[1], app: app, nonASCII: String(nonASCII), eventID: eventID,
                     authType: authType)
    }

    /// `arguments` with --db and with --from print the same NDJSON and CSV, with the same exit status and stderr.
    static func expectSameAnswer(_ arguments: [String], archive: String, store: String, expectRows: Bool? = true,
                                 sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for format in ["ndjson", "csv"] {
            let fromArchive = try await CLI.run(arguments + ["--db", archive, "--format", format])
            let fromStore = try await CLI.run(arguments + ["--from", store, "--format", format])
            let shown = (arguments + ["--format", format]).joined(separator: " ")
            #expect(fromStore.status == fromArchive.status, "\(shown): exit \(fromStore.status) from the store, \(fromArchive.status) from the archive: \(fromStore.stderr)",
                    sourceLocation: sourceLocation)
            #expect(fromStore.stdout == fromArchive.stdout, "\(shown): the store printed\n\(fromStore.stdout.prefix(3_000))\nthe archive\n\(fromArchive.stdout.prefix(3_000))",
                    sourceLocation: sourceLocation)
            if fromArchive.status != 0 {
                #expect(fromStore.stderr == fromArchive.stderr && fromStore.stderr.split(separator: "\n").count == 1,
                        "\(shown): \(fromStore.stderr) vs \(fromArchive.stderr)", sourceLocation: sourceLocation)
            }
            if let expectRows, fromArchive.status == 0 {
                let rows = fromArchive.stdout.split(whereSeparator: \.isNewline).count - (format == "csv" ? 1 : 0)
                #expect(expectRows ? rows > 0 : rows == 0, "\(shown): \(rows) rows", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func eventsAndSearchFromTheStoreEqualTheArchive() async throws {
        let uri = try await offThePool { try PostgresCluster.shared().makeDatabase() }
        let synced = try await SyncedArchive.make(seed: Self.seed, events: Self.events)
        defer { synced.finish() }
        let pushed = try await CLI.run(["push", "--db", synced.path, "--to", uri, "--quiet"])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let words = try await Self.words()
        let archive = synced.path

        let eventQueries: [[String]] = [
            ["events"],
            ["events", "--history"],
            ["events", "--action", "user.*", "--limit", "40"],
            ["events", "--action", "app.*", "--action", "!app.login", "--order", "oldest", "--limit", "30"],
            ["events", "--user", words.user],
            ["events", "--app", words.app, "--history"],
            ["events", "--ip", words.ip],
            ["events", "--since", "3d", "--until", "1d", "--tz", "Europe/Berlin"],
            ["events", "--instance", "demo", "--limit", "7"],
            ["events", "--id", String(words.eventID.prefix(8)), "--history"],
            ["events", "--around", String(words.eventID.prefix(8)), "--window", "30m"],
        ]
        for arguments in eventQueries {
            try await Self.expectSameAnswer(arguments, archive: archive, store: uri)
        }
        // Mistakes: one line and the same exit status as on the archive.
        for arguments in [["events", "--instance", "nosuch.example.com"], ["events", "--id", "zzzz-no-such-event"]] {
            try await Self.expectSameAnswer(arguments, archive: archive, store: uri, expectRows: nil)
        }

        let searches: [(arguments: [String], hits: Bool?)] = [
            (["search", "login"], true),                                           // a word
            (["search", words.ip], true),                                          // an IP: a phrase of four numbers
            (["search", words.app], true),                                         // an fqdn
            (["search", words.nonASCII], true),                                    // folded as FTS5 folds it
            (["search", String(words.user.prefix(3)) + "*"], true),                // a prefix
            (["search", "--raw", "\"\(words.app)\""], true),                       // a phrase
            (["search", "--raw", "login AND \(words.user)"], true),
            (["search", "--raw", "\(words.user) OR \(words.otherUser)", "--limit", "25"], true),
            (["search", "--raw", "login NOT \(words.user)"], true),
            (["search", "--raw", "action:login OR data_text:\(words.otherUser)*"], true),     // column filters
            (["search", "--raw", "\"login \(words.authType)\""], false),            // no phrase across two columns
            (["search", "--raw", "login + \(words.authType)"], false),
            (["search", "--raw", "(backup OR update) AND NOT finish"], nil),
            (["search", "--raw", "app + update NOT \".\" OR \"\""], true),          // a phrase without tokens
            (["search", "backup", "--in", "events,notifications,tasks", "--order", "oldest"], true),
            (["search", "zzqqxxnothing"], false),                                  // no hit
            (["search", "--raw", "login AND"], nil),                               // invalid syntax
            (["search", "--raw", "nosuchcolumn:login"], nil),
        ]
        for search in searches {
            try await Self.expectSameAnswer(search.arguments, archive: archive, store: uri, expectRows: search.hits)
        }
        // --rank: PostgreSQL's ranking, not bm25: the same hits, perhaps in another order.
        let ranked = try await CLI.run(["search", "login", "--rank", "--from", uri, "--format", "ndjson"])
        let rankedHere = try await CLI.run(["search", "login", "--rank", "--db", archive, "--format", "ndjson"])
        #expect(ranked.status == 0 && !ranked.stdout.isEmpty, "\(ranked.stderr)")
        #expect(ranked.stdout.split(separator: "\n").sorted() == rankedHere.stdout.split(separator: "\n").sorted())
        // NEAR and ^ have no tsquery form: refused in one line, as a usage error.
        for expression in ["NEAR(login \(words.user))", "^login"] {
            let refused = try await CLI.run(["search", "--raw", expression, "--from", uri])
            #expect(refused.status == 64 && refused.stdout.isEmpty && refused.stderr.split(separator: "\n").count == 1
                    && refused.stderr.contains("no PostgreSQL form"), "\(refused.stderr)")
        }
    }

    @Test func aStoreFromBeforeSearchDocumentsGetsThemOnTheNextPush() async throws {
        let cluster = try await offThePool { try PostgresCluster.shared() }
        let uri = try await offThePool { try cluster.makeDatabase() }
        let synced = try await SyncedArchive.make(seed: 74, events: 200)
        defer { synced.finish() }
        let first = try await CLI.run(["push", "--db", synced.path, "--to", uri, "--quiet"])
        #expect(first.status == 0, "\(first.stderr)")
        // What a store written before the search documents existed holds: no such tables, no record of them.
        _ = try await offThePool {
            try cluster.psql(uri, """
                DROP TABLE cloudron_audit.events_search, cloudron_audit.notifications_search, cloudron_audit.tasks_search;
                DELETE FROM cloudron_audit.store_tables WHERE table_name LIKE '%\\_search'
                """)
        }
        let again = try await CLI.run(["push", "--db", synced.path, "--to", uri])
        #expect(again.status == 0 && again.stdout.contains("events_search"), "\(again.stdout) \(again.stderr)")
        let documents = try await offThePool { try cluster.psql(uri, "SELECT count(*) FROM cloudron_audit.events_search") }
        let events = try await offThePool { try String(synced.open().database.scalarInt("SELECT count(*) FROM events") ?? -1) }
        #expect(documents == events)
        try await Self.expectSameAnswer(["search", "login"], archive: synced.path, store: uri)
        let third = try await CLI.run(["push", "--db", synced.path, "--to", uri])
        #expect(third.stdout.hasPrefix("nothing to push"), "\(third.stdout)")
    }

    @Test func readingFailuresAreOneLineWithStatusCodes() async throws {
        let cluster = try await offThePool { try PostgresCluster.shared() }
        let foreign = try await offThePool { try cluster.makeDatabase() }
        _ = try await offThePool { try cluster.psql(foreign, "CREATE SCHEMA cloudron_audit; CREATE TABLE cloudron_audit.things (id int)") }
        let newer = try await offThePool { try cluster.makeDatabase() }
        let synced = try await SyncedArchive.make(seed: 75, events: 50)
        defer { synced.finish() }
        let pushed = try await CLI.run(["push", "--db", synced.path, "--to", newer, "--quiet"])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        _ = try await offThePool { try cluster.psql(newer, "UPDATE cloudron_audit.store_info SET value = '99' WHERE key = 'format'") }
        let empty = try await offThePool { try cluster.makeDatabase() }
        let cases: [(uri: String, status: Int32, says: String)] = [
            ("https://example.org/db", 64, "not a PostgreSQL connection URI"),
            ("postgresql://auditor@127.0.0.1:1/postgres", 69, "cannot connect"),
            ("postgresql://auditor@127.0.0.1:\(cluster.port)/postgres?passfile=/nonexistent", 77, "password"),
            (foreign, 65, "belongs to another program"),
            (newer, 65, "newer"),
            (empty, 66, "run 'cloudron-audit push' first"),
        ]
        for item in cases {
            for command in [["events"], ["search", "login"]] {
                let result = try await CLI.run(command + ["--from", item.uri])
                let status = try await CLI.run(["status", "--from", item.uri])
                #expect(result.status == item.status && result.status == status.status, "\(command) \(item.uri): \(result.stderr)")
                #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains(item.says), "\(result.stderr)")
                #expect(result.stdout.isEmpty)
            }
        }
    }
}
