import Archiver
import CloudronSimulator
import Foundation
import Testing

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

    @Test("SIGKILL at random moments of a large sync, then one more sync: nothing lost, nothing extra, verify clean")
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
        var generator = SystemRandomNumberGenerator()
        var killed = 0
        for _ in 0..<4 {
            let out = Pipe(), err = Pipe()
            let process = sync.makeProcess(stdout: out, stderr: err)
            let collector = OutputCollector(out: out, err: err)
            try process.run()
            try await Task.sleep(nanoseconds: UInt64.random(in: 150_000_000...1_200_000_000, using: &generator))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
            }
            await ChildProcess.waitForExit(process)
            _ = await collector.finish()
        }
        #expect(killed > 0, "no sync was killed midway; the test proved nothing")
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
