import Archiver
import Client
import CloudronSimulator
import Foundation
import Testing

/// Real servers misbehave one object or one endpoint at a time (issue 10): `sync` through the binary
/// archives everything else, says what it skipped, and a later sync completes.
@Suite("sync through the binary: one bad object or endpoint never blocks the rest")
struct RobustnessTests {
    /// A simulator on 127.0.0.1, an archive path in a scratch folder, and the binary's sync.
    struct Setup {
        let simulator: SimulatedCloudron
        let url: String
        let folder: ScratchFolder
        var db: String { folder.file("audit.db") }

        static func start(_ configuration: SimulatorConfiguration) async throws -> Setup {
            let simulator = SimulatedCloudron(configuration: configuration)
            let url = try await simulator.start()
            return Setup(simulator: simulator, url: url, folder: try ScratchFolder())
        }

        func sync(_ extra: [String] = [], token: String? = nil) async throws -> CommandResult {
            try await Command(["sync", "--url", url, "--db", db, "--quiet"] + extra,
                              environment: ["CLOUDRON_TOKEN": token ?? simulator.readonlyToken]).run()
        }

        func run(_ arguments: [String]) async throws -> CommandResult {
            try await Command(arguments + ["--db", db]).run()
        }

        func finish() async {
            await simulator.stop()
            folder.remove()
        }
    }

    /// The current raw JSON of every archived object of one kind, read with plain SQL.
    static func archived(_ db: String, table: String) throws -> [String: String] {
        let versions = String(table.dropLast()) + "_versions"
        let key = String(table.dropLast()) + "_id"
        var objects: [String: String] = [:]
        try Archive(path: db, mode: .readOnly).database.forEachRow("""
            SELECT o.api_id, v.raw FROM \(table) o JOIN \(versions) v ON v.\(key) = o.id AND v.version = o.version
            """) { row in objects[row.string(at: 0)] = row.string(at: 1) }
        return objects
    }

    static func current(_ records: [SimulatorTruth.Record]) -> [String: String] {
        Dictionary(records.map { ($0.id, $0.json) }, uniquingKeysWith: { first, _ in first })
    }

    /// Every current object of `truth` is archived byte for byte, except the given ids, and nothing else is.
    static func expectArchivedAllBut(_ setup: Setup, _ truth: SimulatorTruth, events: [String], notifications: [String],
                                     tasks: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        for (table, records, left) in [("events", truth.events, events), ("notifications", truth.notifications, notifications),
                                       ("tasks", truth.tasks, tasks)] {
            var expected = current(records)
            for id in left { expected[id] = nil }
            #expect(try archived(setup.db, table: table) == expected, "\(table)", sourceLocation: sourceLocation)
        }
    }

    /// The server recovers (its faults cleared): one sync with `extra` exits 0 in silence, and the archive
    /// then holds every current object of the server byte for byte.
    static func expectRecovers(_ setup: Setup, _ extra: [String] = [],
                               sourceLocation: SourceLocation = #_sourceLocation) async throws {
        await setup.simulator.setFaults(.none)
        let recovered = try await setup.sync(extra)
        #expect(recovered.status == 0 && recovered.stderr.isEmpty, "\(recovered.stderr)", sourceLocation: sourceLocation)
        let now = await setup.simulator.truth()
        #expect(try archived(setup.db, table: "events") == current(now.events), sourceLocation: sourceLocation)
        #expect(try archived(setup.db, table: "notifications") == current(now.notifications), sourceLocation: sourceLocation)
        #expect(try archived(setup.db, table: "tasks") == current(now.tasks), sourceLocation: sourceLocation)
    }

    static func expectVerifyClean(_ setup: Setup, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let verify = try await setup.run(["verify"])
        #expect(verify.status == 0, "verify: \(verify.stdout) \(verify.stderr)", sourceLocation: sourceLocation)
    }

    @Test("A server capping per_page at 50 on notifications and tasks loses nothing")
    func cappedNotificationsAndTasks() async throws {
        var configuration = SimulatorConfiguration(seed: 31, eventCount: 6000)
        configuration.maxPerPage = 50
        let setup = try await Setup.start(configuration)
        defer { Task { await setup.finish() } }
        let before = await setup.simulator.truth()
        #expect(before.notifications.count > 150 && before.tasks.count > 50,
                "fewer objects than the cap would hide; the test proves nothing")

        let first = try await setup.sync()
        #expect(first.status == 0, "sync: \(first.stderr)")
        var truth = await setup.simulator.truth()
        #expect(try Self.archived(setup.db, table: "notifications") == Self.current(truth.notifications))
        #expect(try Self.archived(setup.db, table: "tasks") == Self.current(truth.tasks))
        #expect(try Self.archived(setup.db, table: "events") == Self.current(truth.events))

        // While alerts are rewritten, acknowledgements toggle and tasks progress, a capped list still
        // loses no object, and one quiet sync after it brings every current version.
        await setup.simulator.setDynamics(SimulatorDynamics(alertRewrites: true, ackToggles: true, taskProgress: true))
        #expect(try await setup.sync().status == 0)
        await setup.simulator.setDynamics(.quiet)
        #expect(try await setup.sync().status == 0)
        truth = await setup.simulator.truth()
        #expect(try Self.archived(setup.db, table: "notifications") == Self.current(truth.notifications))
        #expect(try Self.archived(setup.db, table: "tasks") == Self.current(truth.tasks))
        try await Self.expectVerifyClean(setup)
    }

    /// Archived task logs, task id → raw lines, read with plain SQL.
    static func archivedLogs(_ db: String) throws -> [String: [String]] {
        var logs: [String: [String]] = [:]
        try Archive(path: db, mode: .readOnly).database.forEachRow("""
            SELECT t.api_id, l.raw FROM task_logs g JOIN tasks t ON t.id = g.task_id
            LEFT JOIN task_log_lines l ON l.log_id = g.id ORDER BY t.api_id, l.line_no
            """) { row in
            logs[row.string(at: 0), default: []] += row.optionalString(at: 1).map { [$0] } ?? []
        }
        return logs
    }

    static func statusJSON(_ setup: Setup) async throws -> [String: Any] {
        let status = try await setup.run(["status", "--format", "json"])
        #expect(status.status == 0, "status: \(status.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8))
        return try #require((object as? [String: Any])?["instances"] as? [[String: Any]]).first ?? [:]
    }

    @Test("Task logs answering 424, 500, oversized or timing out are recorded per task, shown by status, asked again, and never block the others")
    func failingTaskLogs() async throws {
        let setup = try await Setup.start(SimulatorConfiguration(seed: 32, eventCount: 4000))
        defer { Task { await setup.finish() } }
        // The oldest finished tasks whose logs still exist come first in the sync's order: the faults
        // sit exactly where they would block everything behind them.
        let truth = await setup.simulator.truth()
        let finished = truth.tasks.filter { !$0.json.contains("\"active\":true") && !$0.json.contains("\"pending\":true") }
            .filter { truth.now - $0.epochSeconds < 6 * 86_400 }
            .sorted { ($0.epochSeconds, Int($0.id) ?? 0) < ($1.epochSeconds, Int($1.id) ?? 0) }
        #expect(finished.count >= 8, "too few finished tasks with a log; the test proves nothing")
        let faults = Dictionary(uniqueKeysWithValues: zip(finished.prefix(4).map(\.id), TaskLogFault.allCases))
        await setup.simulator.setFaults(SimulatorFaults(taskLogs: faults))

        let first = try await setup.sync(["--task-logs"])
        #expect(first.status == 0 && first.stderr.isEmpty, "sync: \(first.status) \(first.stderr)")
        let client = try CloudronClient(configuration: try ClientConfiguration(
            baseURL: setup.url, token: APIToken(setup.simulator.readonlyToken)))
        var logs = try Self.archivedLogs(setup.db)
        #expect(Set(logs.keys).isDisjoint(with: faults.keys))
        for task in finished.dropFirst(4) {
            let served = try await client.taskLogs(taskId: task.id, lines: -1).lines.map { String(decoding: $0.raw, as: UTF8.self) }
            #expect(logs[task.id] == served, "task \(task.id)'s log")
        }

        // status names each unavailable log with its reason.
        let text = try await setup.run(["status"])
        #expect(text.stdout.contains("4 unavailable:"), "status: \(text.stdout)")
        for (id, fault) in faults {
            let hint = switch fault {
            case .failedDependency: "424"
            case .internalError: "500"
            case .oversized: "exceeds"
            case .timedOut: "Response timeout"
            }
            let line = text.stdout.split(separator: "\n").first { $0.contains("task \(id): ") }
            #expect(line?.contains(hint) == true && line?.contains("1 attempts") == true, "status line for task \(id): \(line ?? "none")")
        }
        var json = try await Self.statusJSON(setup)
        var unavailable = ((json["taskLogs"] as? [String: Any])?["unavailable"] as? [[String: Any]]) ?? []
        #expect(Set(unavailable.compactMap { $0["taskId"] as? String }) == Set(faults.keys))

        // Asked again by the next sync, still failing: one more attempt each.
        #expect(try await setup.sync(["--task-logs"]).status == 0)
        json = try await Self.statusJSON(setup)
        unavailable = ((json["taskLogs"] as? [String: Any])?["unavailable"] as? [[String: Any]]) ?? []
        #expect(unavailable.count == 4 && unavailable.allSatisfy { $0["attempts"] as? Int == 2 })

        // The server recovers: the next sync archives the four logs whole, and the failures are gone.
        await setup.simulator.setFaults(.none)
        #expect(try await setup.sync(["--task-logs"]).status == 0)
        logs = try Self.archivedLogs(setup.db)
        for id in faults.keys {
            let served = try await client.taskLogs(taskId: id, lines: -1).lines.map { String(decoding: $0.raw, as: UTF8.self) }
            #expect(!served.isEmpty && logs[id] == served, "task \(id)'s log after the server recovered")
        }
        json = try await Self.statusJSON(setup)
        #expect(((json["taskLogs"] as? [String: Any])?["unavailable"] as? [Any])?.isEmpty == true)
        try await Self.expectVerifyClean(setup)
    }

    @Test("A task log line that is no log line is quarantined under tasks with its task and place; the log's other lines are archived, not asked again")
    func malformedTaskLogLines() async throws {
        let setup = try await Setup.start(SimulatorConfiguration(seed: 35, eventCount: 600))
        defer { Task { await setup.finish() } }
        let truth = await setup.simulator.truth()
        var served: [String] = []
        var task = ""
        for candidate in truth.tasks where !candidate.json.contains("\"active\":true") && !candidate.json.contains("\"pending\":true") {
            let log = String(decoding: await setup.simulator.taskLog(id: candidate.id) ?? [], as: UTF8.self)
            served = log.split(separator: "\n").map(String.init)
            if served.count >= 5 { task = candidate.id; break }
        }
        #expect(!task.isEmpty, "no finished task with a log of 5 lines; the test proves nothing")
        await setup.simulator.setFaults(SimulatorFaults(malformed: ["tasklogs:\(task):1": .invalidJSON, "tasklogs:\(task):3": .notAnObject]))

        let first = try await setup.sync(["--task-logs"])
        #expect(first.status == 0, "sync: \(first.stderr)")
        #expect(first.errorLines.count == 1 && first.stderr.contains("quarantine") && first.stderr.contains("tasks 2"),
                "one warning line: \(first.stderr)")
        // The log is archived without the two lines, in the order served.
        let logs = try Self.archivedLogs(setup.db)
        #expect(logs[task] == served.enumerated().filter { ![1, 3].contains($0.offset) }.map(\.element))
        // The two lines are kept as served (the simulator's spoiling, written out here), named by task and line.
        let quarantined = Self.quarantined(try await Self.statusJSON(setup), stream: "tasks")
        let expected = ["{\"note\":\"a \\\"]\\\" }\t\",\"size\":-01," + served[1].dropFirst(), "\"object \(task) is not available\""]
        #expect(quarantined.compactMap { $0["raw"] as? String } == expected)
        let reasons = quarantined.compactMap { $0["reason"] as? String }
        #expect(reasons.count == 2 && reasons[0].hasPrefix("line 2 of task \(task)'s log: not JSON")
                && reasons[1].hasPrefix("line 4 of task \(task)'s log: "), "\(reasons)")
        try await Self.expectVerifyClean(setup)

        // The log is stored, so it is not asked again: the same quarantine, the same lines.
        let asked = await setup.simulator.requestCounts()["/api/v1/tasks/{id}/logs"]
        #expect(try await setup.sync(["--task-logs"]).status == 0)
        #expect(await setup.simulator.requestCounts()["/api/v1/tasks/{id}/logs"] == asked)
        #expect(Self.quarantined(try await Self.statusJSON(setup), stream: "tasks").count == 2)
        #expect(try Self.archivedLogs(setup.db)[task] == logs[task])
    }

    @Test("Streams the server lacks (404) or refuses (403, 401 No such token) are skipped with one warning line each; the rest is synced")
    func unavailableStreams() async throws {
        let setup = try await Setup.start(SimulatorConfiguration(seed: 33, eventCount: 800))
        defer { Task { await setup.finish() } }
        let truth = await setup.simulator.truth()

        // A server from before late 2018: no notifications, no tasks.
        await setup.simulator.setFaults(SimulatorFaults(missingStreams: ["notifications", "tasks"]))
        let old = try await setup.sync()
        #expect(old.status == 0, "sync: \(old.stderr)")
        #expect(old.errorLines.count == 2, "one line per missing stream: \(old.stderr)")
        #expect(old.errorLines.contains { $0.contains("notifications not synced") && $0.contains("404") })
        #expect(old.errorLines.contains { $0.contains("tasks not synced") && $0.contains("404") })
        #expect(try Self.archived(setup.db, table: "events") == Self.current(truth.events))
        let json = try await Self.statusJSON(setup)
        let run = try #require(json["lastRun"] as? [String: Any])
        let recorded = (run["unavailableStreams"] as? [[String: Any]])?.compactMap { $0["stream"] as? String }
        #expect(recorded == ["notifications", "tasks"])
        #expect(run["result"] as? String == "success")
        let text = try await setup.run(["status"])
        #expect(text.stdout.contains("not synced: notifications: 404"), "status: \(text.stdout)")

        // A token refused one stream: 403 Missing required scope, and box 9's 401 No such token.
        await setup.simulator.setFaults(SimulatorFaults(forbiddenStreams: ["tasks"], unauthorizedStreams: ["notifications"]))
        let refused = try await setup.sync()
        #expect(refused.status == 0, "sync: \(refused.stderr)")
        #expect(refused.errorLines.count == 2, "\(refused.stderr)")
        #expect(refused.errorLines.contains { $0.contains("tasks not synced") && $0.contains("Missing required scope")
            && $0.contains("admin or owner") })
        #expect(refused.errorLines.contains { $0.contains("notifications not synced") && $0.contains("No such token")
            && $0.contains("admin or owner") })

        // Nothing at all: a distinct exit code when every stream is missing; a token refused everywhere is 77.
        await setup.simulator.setFaults(SimulatorFaults(missingStreams: ["eventlog", "notifications", "tasks"]))
        let nothing = try await setup.sync()
        #expect(nothing.status == 5 && nothing.errorLines.count == 1 && nothing.stderr.contains("nothing synced"),
                "\(nothing.status) \(nothing.stderr)")
        await setup.simulator.setFaults(SimulatorFaults(forbiddenStreams: ["eventlog", "notifications", "tasks"]))
        let forbidden = try await setup.sync()
        #expect(forbidden.status == 77 && forbidden.errorLines.count == 1 && forbidden.stderr.contains("Missing required scope"),
                "\(forbidden.status) \(forbidden.stderr)")

        // The server gains the endpoints: everything is archived, and verify is clean throughout.
        try await Self.expectVerifyClean(setup)
        try await Self.expectRecovers(setup)
        try await Self.expectVerifyClean(setup)
    }

    /// The quarantine list of one stream in `status --format json`.
    static func quarantined(_ instance: [String: Any], stream: String) -> [[String: Any]] {
        let streams = instance["streams"] as? [[String: Any]] ?? []
        return streams.first { $0["name"] as? String == stream }?["quarantined"] as? [[String: Any]] ?? []
    }

    @Test("Malformed objects (no id, unreadable creationTime, not an object) are quarantined, the rest archived; they resolve once well-formed")
    func quarantine() async throws {
        let setup = try await Setup.start(SimulatorConfiguration(seed: 34, eventCount: 1500))
        defer { Task { await setup.finish() } }
        let truth = await setup.simulator.truth()
        // Events at page boundaries (page size 50) and inside a page, a notification and a task.
        let badTime = truth.events[49].id, noID = truth.events[100].id, notObject = truth.events[377].id
        let note = truth.notifications[3].id, task = truth.tasks[2].id
        let faults = SimulatorFaults(malformed: ["eventlog:" + badTime: .badCreationTime, "eventlog:" + noID: .missingID,
                                                 "eventlog:" + notObject: .notAnObject,
                                                 "notifications:" + note: .badCreationTime, "tasks:" + task: .notAnObject])
        await setup.simulator.setFaults(faults)

        let first = try await setup.sync(["--page-size", "50"])
        #expect(first.status == 0, "sync: \(first.stderr)")
        #expect(first.errorLines.count == 1 && first.stderr.contains("quarantine"), "one warning line: \(first.stderr)")
        // Every other object is archived byte for byte: the bad ones' neighbours are no gap.
        try Self.expectArchivedAllBut(setup, truth, events: [badTime, noID, notObject], notifications: [note], tasks: [task])

        // status lists each one with its reason and its bytes as the server sent them.
        var instance = try await Self.statusJSON(setup)
        let eventlog = Self.quarantined(instance, stream: "eventlog")
        #expect(eventlog.count == 3)
        let reasons = eventlog.compactMap { $0["reason"] as? String }
        #expect(reasons.contains { $0.contains("creationTime") } && reasons.contains { $0.contains("without id") }
                && reasons.contains { $0.contains("not a JSON object") }, "\(reasons)")
        let raws = eventlog.compactMap { $0["raw"] as? String }
        #expect(raws.contains("\"object \(notObject) is not available\""))
        #expect(raws.contains { $0.contains("\"creationTime\":\"yesterday\"") && $0.contains(badTime) })
        // Times as ISO 8601, as the text status shows them.
        #expect(eventlog.allSatisfy { ($0["firstSeen"] as? String)?.hasSuffix("Z") == true && ($0["lastSeen"] as? String)?.hasSuffix("Z") == true })
        #expect(Self.quarantined(instance, stream: "notifications").count == 1)
        #expect(Self.quarantined(instance, stream: "tasks").count == 1)
        let text = try await setup.run(["status"])
        #expect(text.stdout.contains("quarantined: 3 malformed objects"), "status: \(text.stdout)")
        try await Self.expectVerifyClean(setup)

        // The quarantine is chained: an altered row fails verify.
        let copy = setup.folder.file("altered.db")
        try FileManager.default.copyItem(atPath: setup.db, toPath: copy)
        try Database(path: copy, mode: .readWrite).execute("UPDATE quarantine SET raw = '\"x\"' WHERE id = (SELECT max(id) FROM quarantine)")
        let altered = try await Command(["verify", "--db", copy]).run()
        #expect(altered.status == 1 && (altered.stdout + altered.stderr).contains("quarantine"),
                "verify: \(altered.stdout) \(altered.stderr)")

        // Seen again: no new entries. Then the server sends them well-formed: archived, and those with an
        // id resolved (the others cannot be told apart from any other object and stay, no longer seen).
        #expect(try await setup.sync(["--page-size", "50"]).status == 0)
        instance = try await Self.statusJSON(setup)
        #expect(Self.quarantined(instance, stream: "eventlog").count == 3)
        // The event too old for an incremental walk is met again too: the walk reaches quarantined places.
        try await Self.expectRecovers(setup, ["--page-size", "50"])
        instance = try await Self.statusJSON(setup)
        let left = Self.quarantined(instance, stream: "eventlog").compactMap { $0["raw"] as? String }
        #expect(left.count == 2 && !left.contains { $0.contains(badTime) }, "\(left)")
        #expect(Self.quarantined(instance, stream: "notifications").isEmpty)
        try await Self.expectVerifyClean(setup)
    }

    @Test("An object that is not JSON inside a well-framed page is quarantined, the rest archived, resolved once well-formed; a complete answer that is not JSON at all is reported at once")
    func invalidJSON() async throws {
        let setup = try await Setup.start(SimulatorConfiguration(seed: 35, eventCount: 1500))
        defer { Task { await setup.finish() } }
        let truth = await setup.simulator.truth()
        // Events at a page boundary (page size 50) and inside a page, a notification and a task.
        let events = [truth.events[49].id, truth.events[200].id]
        let note = truth.notifications[2].id, task = truth.tasks[1].id
        var malformed = ["notifications:" + note: MalformedFault.invalidJSON, "tasks:" + task: .invalidJSON]
        for id in events { malformed["eventlog:" + id] = .invalidJSON }
        await setup.simulator.setFaults(SimulatorFaults(malformed: malformed))

        let first = try await setup.sync(["--page-size", "50"])
        #expect(first.status == 0 && first.errorLines.count == 1 && first.stderr.contains("quarantine"),
                "\(first.status) \(first.stderr)")
        try Self.expectArchivedAllBut(setup, truth, events: events, notifications: [note], tasks: [task])

        // Each kept with its reason and its bytes as served: the fault's invalid member (a raw tab in a
        // string holding a quote and a bracket, then -01) in front of the object.
        func served(_ json: String) -> String { "{\"note\":\"a \\\"]\\\" }\t\",\"size\":-01," + json.dropFirst() }
        var instance = try await Self.statusJSON(setup)
        let eventlog = Self.quarantined(instance, stream: "eventlog")
        #expect(Set(eventlog.compactMap { $0["raw"] as? String }) == Set(events.compactMap { Self.current(truth.events)[$0] }.map(served)))
        #expect(eventlog.count == 2 && eventlog.allSatisfy { ($0["reason"] as? String)?.hasPrefix("not JSON: ") == true },
                "\(eventlog)")
        #expect(Self.quarantined(instance, stream: "notifications").compactMap { $0["raw"] as? String }
                == [served(Self.current(truth.notifications)[note] ?? "")])
        #expect(Self.quarantined(instance, stream: "tasks").compactMap { $0["raw"] as? String }
                == [served(Self.current(truth.tasks)[task] ?? "")])
        try await Self.expectVerifyClean(setup)

        // The server sends them well-formed: archived, and their quarantine entries resolved (the id of an
        // invalid object is read by its structure).
        try await Self.expectRecovers(setup, ["--page-size", "50"])
        instance = try await Self.statusJSON(setup)
        for stream in ["eventlog", "notifications", "tasks"] {
            #expect(Self.quarantined(instance, stream: stream).isEmpty, "\(stream) still in quarantine")
        }
        try await Self.expectVerifyClean(setup)

        // A complete answer (as long as its Content-Length) that is no JSON at all: one line, exit 76, and
        // asked once, not again and again as if the network had cut it.
        await setup.simulator.setFaults(SimulatorFaults(unparsableLists: ["notifications"]))
        let before = await setup.simulator.requestCounts()["/api/v1/notifications"] ?? 0
        let unparsable = try await setup.sync()
        #expect(unparsable.status == 76 && unparsable.errorLines.count == 1 && unparsable.stderr.contains("not JSON"),
                "\(unparsable.status) \(unparsable.stderr)")
        let after = await setup.simulator.requestCounts()["/api/v1/notifications"] ?? 0
        #expect(after - before == 1, "\(after - before) requests for one unparsable answer")
        try await Self.expectVerifyClean(setup)
    }

    @Test("A list answer that is not JSON on one stream stops only that stream: the others are archived, one line names it, exit 76, the run recorded failed; the next sync completes it", arguments: ["eventlog", "notifications", "tasks"])
    func oneUnparsableStreamStopsNoOther(_ stream: String) async throws {
        let setup = try await Setup.start(SimulatorConfiguration(seed: 91, eventCount: 400))
        defer { Task { await setup.finish() } }
        await setup.simulator.setFaults(SimulatorFaults(unparsableLists: [stream]))
        let result = try await setup.sync()
        #expect(result.status == 76, "exit \(result.status): \(result.stderr)")
        #expect(result.errorLines.count == 1 && result.stderr.contains(stream) && result.stderr.contains("not JSON"),
                "one line naming the stream: \(result.stderr)")
        let truth = await setup.simulator.truth()
        for (table, name, records) in [("events", "eventlog", truth.events), ("notifications", "notifications", truth.notifications),
                                       ("tasks", "tasks", truth.tasks)] where name != stream {
            #expect(try Self.archived(setup.db, table: table) == Self.current(records), "\(table) not archived beside a bad \(stream)")
        }
        let status = try await setup.run(["status", "--format", "json"])
        #expect(status.status == 0 && status.stdout.contains("failed"), "the run is not recorded as failed: \(status.stdout)")
        try await Self.expectRecovers(setup)
    }
}

