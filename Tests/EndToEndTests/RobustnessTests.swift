import Archiver
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
}
