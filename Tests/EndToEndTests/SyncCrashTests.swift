import Archiver
import CloudronSimulator
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("sync through the binary: crashes and locks")
struct SyncCrashTests {
    /// The current raw JSON of each archived event, read with plain SQL.
    static func archivedEvents(_ path: String) throws -> [String: String] {
        let archive = try Archive(path: path, mode: .readOnly)
        var events: [String: String] = [:]
        try archive.database.forEachRow("""
            SELECT e.api_id, v.raw FROM events e JOIN event_versions v ON v.event_id = e.id AND v.version = e.version
            """) { row in events[row.string(at: 0)] = row.string(at: 1) }
        return events
    }

    /// Requests to the Cloudron API (not the simulator's own controls) the simulator has answered.
    static func apiRequests(_ counts: [String: Int]) -> Int {
        counts.filter { !$0.key.hasPrefix("/_sim") }.values.reduce(0, +)
    }

    /// Starts `command` and returns once `simulator` has answered `requests` more API requests (or the
    /// process has ended): the point to signal it, whatever the speed of the machine.
    static func startUntilProgress(_ command: Command, simulator: SimulatedCloudron, requests: Int) async throws
        -> (process: Process, output: OutputCollector) {
        let before = apiRequests(await simulator.requestCounts())
        let out = Pipe(), err = Pipe()
        let process = command.makeProcess(stdout: out, stderr: err)
        let collector = OutputCollector(out: out, err: err)
        try process.run()
        while process.isRunning, apiRequests(await simulator.requestCounts()) - before < requests {
            try await Task.sleep(nanoseconds: 2_000_000)
        }
        return (process, collector)
    }

    @Test("SIGKILL at seeded points (by the server's request count) of a large sync, then one more sync: nothing lost, nothing extra, verify clean")
    func killedSyncsConverge() async throws {
        let simulator = SimulatedCloudron(configuration: SimulatorConfiguration(seed: 21, eventCount: 20_000))
        let url = try await simulator.start()
        let folder = try ScratchFolder()
        defer { folder.remove(); Task { await simulator.stop() } }
        let db = folder.file("audit.db")
        let sync = Command(["sync", "--url", url, "--db", db, "--page-size", "250", "--quiet"],
                           environment: ["CLOUDRON_TOKEN": simulator.readonlyToken])

        // The server moves while the syncs are killed: new events arrive and logins are rewritten in place.
        await simulator.setDynamics(SimulatorDynamics(newEventsPerListRequest: 2, loginUpsertsPerListRequest: 1))
        // Kill points by the server's request count, from a seeded generator: each run dies at a
        // comparable point of its walk (a backfill of 20,000 events at 250 a page takes 80+ requests),
        // however fast or loaded the machine is.
        var generator = SplitMix64(state: 21)
        var killed = 0
        var killPoints: [Int] = []
        for _ in 0..<4 {
            let threshold = Int.random(in: 3...70, using: &generator)
            let before = Self.apiRequests(await simulator.requestCounts())
            let (process, collector) = try await Self.startUntilProgress(sync, simulator: simulator, requests: threshold)
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
                killPoints.append(Self.apiRequests(await simulator.requestCounts()) - before)
            }
            await ChildProcess.waitForExit(process)
            _ = await collector.finish()
        }
        #expect(killed == 4, "a sync ended before its kill point (after \(killPoints) requests)")
        await simulator.setDynamics(.quiet)

        let last = try await sync.run()
        #expect(last.status == 0, "final sync failed: \(last.stderr)")
        let truth = await simulator.truth()
        let archived = try SyncCrashTests.archivedEvents(db)
        let expected = Dictionary(truth.events.map { ($0.id, $0.json) }, uniquingKeysWith: { first, _ in first })
        #expect(archived.count == expected.count)
        #expect(archived == expected, "archive differs from the server's events after crashes")

        let verify = try await Command(["verify", "--db", db]).run()
        #expect(verify.status == 0, "verify: \(verify.stdout) \(verify.stderr)")
        let runs = try Archive(path: db, mode: .readOnly).database
            .scalarInt("SELECT count(*) FROM sync_runs WHERE result = 'interrupted'") ?? 0
        #expect(runs >= 1, "killed runs must be marked interrupted")
    }

    @Test("A second sync while one holds the archive exits 75 with one line, and writes nothing")
    func lockedArchive() async throws {
        let simulator = SimulatedCloudron(configuration: SimulatorConfiguration(seed: 22, eventCount: 300))
        let url = try await simulator.start()
        let folder = try ScratchFolder()
        defer { folder.remove(); Task { await simulator.stop() } }
        let db = folder.file("audit.db")
        let env = ["CLOUDRON_TOKEN": simulator.readonlyToken]
        #expect(try await Command(["sync", "--url", url, "--db", db, "--quiet"], environment: env).run().status == 0)
        let before = try SyncCrashTests.archivedEvents(db)

        let held = try SyncLock(archivePath: db)
        let second = try await Command(["sync", "--url", url, "--db", db], environment: env).run()
        withExtendedLifetime(held) {}
        #expect(second.status == 75)
        #expect(second.errorLines.count == 1 && second.stderr.contains("another sync"), "stderr: \(second.stderr)")
        #expect(try SyncCrashTests.archivedEvents(db) == before)
    }
}
