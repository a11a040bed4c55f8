import CloudronSimulator
import Foundation
import Testing

/// Issue 10, items 5 and 8: what the archive holds reads back as the server sent it, checked through the
/// binary against the simulators' own record of what they served.
@Suite("objects and task logs read back as received")
struct ReadBackTests {
    /// Two servers in one archive: a current one whose notifications and tasks change between syncs, and a
    /// 2019 one (`userId` on notifications, `errorMessage` on tasks, no `success`/`pending`).
    struct TwoServers {
        let current: SimulatedCloudron
        let legacy: SimulatedCloudron
        let urls: [String: String]
        let folder: ScratchFolder
        var db: String { folder.file("audit.db") }

        static func start() async throws -> TwoServers {
            let current = SimulatedCloudron(configuration: SimulatorConfiguration(seed: 41, eventCount: 600))
            var legacyConfiguration = SimulatorConfiguration(seed: 42, eventCount: 400)
            legacyConfiguration.legacy2019 = true
            let legacy = SimulatedCloudron(configuration: legacyConfiguration)
            let urls = ["current": try await current.start(), "legacy": try await legacy.start()]
            return TwoServers(current: current, legacy: legacy, urls: urls, folder: try ScratchFolder())
        }

        func simulator(_ instance: String) -> SimulatedCloudron { instance == "current" ? current : legacy }

        func sync(_ instance: String) async throws {
            let result = try await Command(["sync", "--url", urls[instance] ?? "", "--db", db, "--instance", instance,
                                            "--task-logs", "--quiet"],
                                           environment: ["CLOUDRON_TOKEN": simulator(instance).readonlyToken]).run()
            #expect(result.status == 0, "sync \(instance): \(result.stderr)")
        }

        func run(_ arguments: [String]) async throws -> CommandResult {
            try await Command(arguments + ["--db", db]).run()
        }

        func finish() async {
            await current.stop()
            await legacy.stop()
            folder.remove()
        }
    }

    /// The bytes the server served with the archive's `instance` member spliced in before the closing
    /// brace: what one NDJSON line must be, byte for byte.
    static func expectedLine(_ record: SimulatorTruth.Record, instance: String) -> String {
        String(record.json.dropLast()) + #","instance":"\#(instance)"}"#
    }

    static func lines(_ output: String) -> [String] {
        output.split(whereSeparator: \.isNewline).map(String.init)
    }

    /// The same lines, in any order; on failure the first line missing and the first one too many.
    static func expectSameLines(_ actual: [String], _ expected: [String], _ what: String,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        let missing = Set(expected).subtracting(actual), extra = Set(actual).subtracting(expected)
        #expect(actual.count == expected.count && missing.isEmpty && extra.isEmpty,
                "\(what): \(actual.count) lines for \(expected.count); missing \(missing.min() ?? "none"); extra \(extra.min() ?? "none")",
                sourceLocation: sourceLocation)
    }

    @Test("tasks and notifications --format ndjson equal the servers' objects, every member as sent, plus instance")
    func objectsAsReceived() async throws {
        let servers = try await TwoServers.start()
        defer { Task { await servers.finish() } }
        try await servers.sync("current")
        try await servers.sync("legacy")
        // Alerts rewritten, acknowledgements toggled and tasks progressed: the current versions are read back.
        await servers.current.setDynamics(SimulatorDynamics(alertRewrites: true, ackToggles: true, taskProgress: true))
        try await servers.sync("current")
        await servers.current.setDynamics(.quiet)
        try await servers.sync("current")

        var expectedTasks: [String] = [], expectedNotifications: [String] = []
        for instance in ["current", "legacy"] {
            let truth = await servers.simulator(instance).truth()
            expectedTasks += truth.tasks.map { Self.expectedLine($0, instance: instance) }
            expectedNotifications += truth.notifications.map { Self.expectedLine($0, instance: instance) }
        }
        #expect(expectedTasks.contains { $0.contains(#""ts":"#) } && expectedTasks.contains { $0.contains(#""errorMessage":"#) }
                && expectedNotifications.contains { $0.contains(#""userId":"#) },
                "the servers sent none of the members a projection drops; the test proves nothing")

        let tasks = try await servers.run(["tasks", "--format", "ndjson"])
        #expect(tasks.status == 0 && tasks.stderr.isEmpty, "\(tasks.stderr)")
        Self.expectSameLines(Self.lines(tasks.stdout), expectedTasks, "tasks")
        let notifications = try await servers.run(["notifications", "--format", "ndjson"])
        #expect(notifications.status == 0 && notifications.stderr.isEmpty, "\(notifications.stderr)")
        Self.expectSameLines(Self.lines(notifications.stdout), expectedNotifications, "notifications")

        // JSON is the same objects in one array; --instance narrows to one server's.
        let json = try await servers.run(["tasks", "--format", "json", "--instance", "legacy"])
        let array = Self.lines(json.stdout)
        #expect(array.first == "[" && array.last == "]")
        let objects = array.dropFirst().dropLast().map { $0.hasSuffix(",") ? String($0.dropLast()) : $0 }
        let legacyTruth = await servers.legacy.truth()
        Self.expectSameLines(objects, legacyTruth.tasks.map { Self.expectedLine($0, instance: "legacy") }, "tasks --format json")

        // Tables and CSV keep their curated columns.
        let csv = try await servers.run(["tasks", "--format", "csv", "--limit", "1"])
        #expect(Self.lines(csv.stdout).first
                == "id,type,creationTime,percent,active,pending,success,errorMessage,message,result,instance")
        let notificationsCSV = try await servers.run(["notifications", "--format", "csv", "--limit", "1"])
        #expect(Self.lines(notificationsCSV.stdout).first == "id,eventId,title,message,creationTime,acknowledged,instance")
    }

    /// What `tasks --log` prints for a task of one server, run through the binary.
    static func log(_ servers: TwoServers, _ id: String, instance: String?, _ extra: [String] = []) async throws -> CommandResult {
        try await servers.run(["tasks", "--log", id] + (instance.map { ["--instance", $0] } ?? []) + extra)
    }

    @Test("tasks --log ID --format ndjson equals the server's whole log, line for line; a log not archived exits 66 saying why")
    func taskLogsAsReceived() async throws {
        let servers = try await TwoServers.start()
        defer { Task { await servers.finish() } }
        // A finished task whose log the server fails to give (500) while everything else syncs.
        let initial = await servers.current.truth()
        var failing: String?
        for task in initial.tasks where !task.json.contains(#""active":true"#) && !task.json.contains(#""pending":true"#) {
            if let log = await servers.current.taskLog(id: task.id), !log.isEmpty { failing = task.id; break }
        }
        let failingID = try #require(failing, "no finished task with a log; the test proves nothing")
        await servers.current.setFaults(SimulatorFaults(taskLogs: [failingID: .internalError]))
        try await servers.sync("current")
        try await servers.sync("legacy")
        await servers.current.setDynamics(SimulatorDynamics(taskProgress: true))
        try await servers.sync("current")
        await servers.current.setDynamics(.quiet)
        try await servers.sync("current")

        // Each case of a log that is not archived: exit 66, one line that says which.
        let unavailable = try await Self.log(servers, failingID, instance: "current")
        #expect(unavailable.status == 66 && unavailable.errorLines.count == 1
                && unavailable.stderr.contains("unavailable") && unavailable.stderr.contains("500")
                && unavailable.stdout.isEmpty, "\(unavailable.status) \(unavailable.stderr)")
        let unknown = try await Self.log(servers, "999999", instance: "current")
        #expect(unknown.status == 66 && unknown.errorLines.count == 1 && unknown.stderr.contains("no task"),
                "\(unknown.status) \(unknown.stderr)")
        // Both servers number their tasks from 1: an id alone is ambiguous, a usage error naming both.
        let ambiguous = try await Self.log(servers, "1", instance: nil)
        #expect(ambiguous.status == 64 && ambiguous.errorLines.count == 1 && ambiguous.stderr.contains("current, legacy"),
                "\(ambiguous.status) \(ambiguous.stderr)")
        let filtered = try await Self.log(servers, "1", instance: "current", ["--limit", "3"])
        #expect(filtered.status == 64 && filtered.stderr.contains("--limit"), "\(filtered.stderr)")

        // Every task of both servers: an archived log is the server's whole log byte for byte; a rotated
        // or unfinished one says so. The failing log, once the server recovers, too.
        await servers.current.setFaults(.none)
        try await servers.sync("current")
        var archived = 0, rotated = 0, unfinished = 0
        for instance in ["current", "legacy"] {
            let truth = await servers.simulator(instance).truth()
            for task in truth.tasks {
                let served = try #require(await servers.simulator(instance).taskLog(id: task.id))
                let finished = !task.json.contains(#""active":true"#) && !task.json.contains(#""pending":true"#)
                let result = try await Self.log(servers, task.id, instance: instance, ["--format", "ndjson"])
                if finished && !served.isEmpty {
                    archived += 1
                    #expect(result.status == 0 && Array(result.stdout.utf8) == served,
                            "task \(task.id) of \(instance): \(result.status) \(result.stderr)")
                } else if finished {
                    rotated += 1
                    #expect(result.status == 66 && result.errorLines.count == 1 && result.stderr.contains("rotated"),
                            "task \(task.id) of \(instance): \(result.status) \(result.stderr)")
                } else {
                    unfinished += 1
                    #expect(result.status == 66 && result.errorLines.count == 1 && result.stderr.contains("not finished"),
                            "task \(task.id) of \(instance): \(result.status) \(result.stderr)")
                }
            }
        }
        #expect(archived >= 8 && rotated >= 1 && unfinished >= 1,
                "archived \(archived), rotated \(rotated), unfinished \(unfinished): a case is missing; the test proves nothing")

        // For people: "time  message", the time of each line from its realtimeTimestamp (UTC, or --tz), a
        // continuation line (timestamp 0) indented under its message.
        let served = try #require(await servers.current.taskLog(id: failingID))
        let iso = ISO8601DateFormatter()
        var expected: [String] = []
        for line in served.split(separator: 0x0A) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            let micros = try #require(object["realtimeTimestamp"] as? Int64)
            let message = try #require(object["message"] as? String)
            let time = micros == 0 ? String(repeating: " ", count: 20)
                : iso.string(from: Date(timeIntervalSince1970: Double(micros / 1_000_000)))
            expected.append(time + "  " + message)
        }
        #expect(expected.contains { $0.hasPrefix("   ") }, "no continuation line; the test proves less")
        let text = try await Self.log(servers, failingID, instance: "current", ["--format", "table"])
        #expect(text.status == 0 && Self.lines(text.stdout) == expected, "\(text.stdout)")
        let berlin = try await Self.log(servers, failingID, instance: "current", ["--format", "table", "--tz", "Europe/Berlin"])
        #expect(Self.lines(berlin.stdout).first?.dropFirst(19).hasPrefix("+01:00  ") == true, "\(berlin.stdout)")
    }
}
