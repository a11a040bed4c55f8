import Archiver
import Client
import CloudronSimulator
import Foundation
import Testing

/// The rows of README's exit-code table that only library tests reached, met through the binary:
/// 1 (verify names the altered record), 3 (a gap, shown by status), 70 (an internal error), and the
/// reading commands' filters given on the command line. 75 on a persistent 429 and 76 on a capped page
/// size are in ServerErrorTests, beside the other server failures.
@Suite("exit codes through the binary: 1 alteration, 3 gap, 70 internal error; filters from the command line")
struct ExitCodeTests {
    /// An event in the middle of the archive, by plain SQL: its row, API id and current version.
    static func someEvent(_ db: String) throws -> (row: Int64, apiID: String, version: Int64) {
        let archive = try Archive(path: db, mode: .readOnly)
        var found: (Int64, String, Int64)?
        try archive.database.forEachRow("""
            SELECT id, api_id, version FROM events ORDER BY id LIMIT 1 OFFSET (SELECT count(*) / 2 FROM events)
            """) { row in found = (row.int64(at: 0), row.string(at: 1), row.int64(at: 2)) }
        guard let found else { throw TestFailure("the archive holds no event") }
        return found
    }

    @Test("verify: one changed byte in an archived event exits 1, naming that event on stderr in one line")
    func verifyNamesTheAlteredRecord() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try await makeDemoArchive(in: folder)
        let intact = try await Command(["verify", "--db", db]).run()
        #expect(intact.status == 0, "verify of an untouched archive: \(intact.stdout) \(intact.stderr)")

        let event = try Self.someEvent(db)
        do {
            let database = try Database(path: db, mode: .readWrite)
            try database.run("UPDATE event_versions SET raw = replace(raw, '\"action\":\"', '\"action\":\" ') WHERE event_id = ? AND version = ?",
                             [.integer(event.row), .integer(event.version)])
        }
        let altered = try await Command(["verify", "--db", db]).run()
        expectFailure(altered, exit: 1, naming: [event.apiID])
    }

    @Test("sync exits 3 when the server pruned events before they were archived; status shows that gap")
    func gapExitsThreeAndStatusShowsIt() async throws {
        let archive = try await ServerErrorTests.GoodArchive.make(seed: 71, events: 300)
        let simulator = archive.simulator
        let newestArchived = try #require(try await simulator.truth().events.map(\.epochSeconds).max())

        // Sixteen days without a sync: the server's retention job has pruned everything archived, and
        // what it held in between; new events arrive while the next sync reads.
        try await simulator.control("POST", "/_sim/clock?advance=\(16 * 86_400)")
        try await simulator.control("POST", "/_sim/prune")
        try await simulator.control("POST", "/_sim/dynamics", body: #"{"newEventsPerListRequest":3}"#)
        let gapped = try await archive.sync(url: simulator.url)
        #expect(gapped.status == 3, "exit \(gapped.status): \(gapped.stderr)")
        expectNoCrashText(gapped)
        try await simulator.control("POST", "/_sim/dynamics", body: "{}")

        // Independently: from the newest event archived before to the oldest event the server still has.
        let oldestServed = try #require(try await simulator.truth().events.map(\.epochSeconds).min())
        #expect(oldestServed > newestArchived)
        let iso = ISO8601DateFormatter()
        iso.timeZone = TimeZone(identifier: "UTC")
        let from = iso.string(from: Date(timeIntervalSince1970: TimeInterval(newestArchived)))
        let to = iso.string(from: Date(timeIntervalSince1970: TimeInterval(oldestServed)))
        let status = try await Command(["status", "--db", archive.db]).run()
        #expect(status.status == 0, "status: \(status.stderr)")
        let gapLines = status.stdout.split(separator: "\n").filter { $0.contains("GAP") }
        #expect(gapLines.count == 1 && gapLines.first?.contains("\(from) → \(to)") == true,
                "status should show the gap \(from) → \(to):\n\(status.stdout)")

        // A gap is reported once: the next sync finds none and exits 0.
        #expect(try await archive.sync(url: simulator.url).status == 0)
        await archive.close()
    }

    @Test("an internal error (the archive refuses a write the sync cannot expect) exits 70 with one line; nothing changes")
    func internalErrorExitsSeventy() async throws {
        let archive = try await ServerErrorTests.GoodArchive.make(seed: 72)
        let db = archive.db
        // A trigger someone added makes every new event version fail with a constraint error, an
        // SQLite failure the archiver has no meaning for.
        do {
            let database = try Database(path: db, mode: .readWrite)
            try database.execute("CREATE TRIGGER refuse BEFORE INSERT ON event_versions BEGIN SELECT RAISE(ABORT, 'refused'); END")
        }
        let moving = try await FakeCloudronProcess(["--seed", "73", "--events", "50"])
        let before = try SyncCrashTests.archivedEvents(db)
        let failed = try await Command(["sync", "--url", moving.url, "--db", db, "--instance", "other", "--quiet"],
                                       environment: ["CLOUDRON_TOKEN": moving.readonlyToken]).run()
        expectFailure(failed, exit: 70, naming: [])
        #expect(try SyncCrashTests.archivedEvents(db) == before)
        await moving.stop()
        await archive.close()
    }

    @Test("events and report with --action, --since and --until from the command line list exactly the server's matching events")
    func filtersFromTheCommandLine() async throws {
        let archive = try await ServerErrorTests.GoodArchive.make(seed: 74, events: 600)
        defer { archive.folder.remove() }
        let db = archive.db
        let truth = try await archive.simulator.truth()
        await archive.simulator.stop()

        // A window of whole seconds in the middle of the events' span, as UTC text and as epoch seconds.
        let times = truth.events.map(\.epochSeconds).sorted()
        let since = times[times.count / 4], until = times[times.count * 3 / 4]
        let iso = ISO8601DateFormatter()
        iso.timeZone = TimeZone(identifier: "UTC")
        let sinceText = iso.string(from: Date(timeIntervalSince1970: TimeInterval(since)))
        let untilText = iso.string(from: Date(timeIntervalSince1970: TimeInterval(until)))
        func action(_ json: String) -> String? {
            (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["action"] as? String
        }
        // The expectation from the server's truth: half-open window, exact action or glob `user.*`.
        let inWindow = truth.events.filter { $0.epochSeconds >= since && $0.epochSeconds < until }
        let logins = Set(inWindow.filter { action($0.json) == "user.login" }.map(\.id))
        let userActions = Set(inWindow.filter { action($0.json)?.hasPrefix("user.") == true }.map(\.id))
        #expect(!logins.isEmpty && userActions.count > logins.count, "the window holds too few events to tell filters apart")

        func listed(_ arguments: [String], key: String) async throws -> [String] {
            let result = try await Command(arguments + ["--db", db, "--format", "ndjson"]).run()
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return result.stdout.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?[key] as? String
            }
        }
        let events = try await listed(["events", "--action", "user.login", "--since", sinceText, "--until", untilText], key: "id")
        #expect(events.count == logins.count && Set(events) == logins)
        let globbed = try await listed(["events", "--action", "user.*", "--since", sinceText, "--until", untilText], key: "id")
        #expect(Set(globbed) == userActions)
        // The logins report lists every version; a quiet server made one per event, and the same window.
        let report = try await listed(["report", "logins", "--since", sinceText, "--until", untilText], key: "eventId")
        let reportable = Set(inWindow.filter { ["user.login", "user.login.ghost", "user.logout", "app.login"].contains(action($0.json) ?? "") }
            .map(\.id))
        #expect(report.count == reportable.count && Set(report) == reportable)
    }
}
