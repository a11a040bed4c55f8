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
}
