import Archiver
import CloudronSimulator
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue 11 item 6: a sync stopped by SIGINT or SIGTERM, and a first sync that never reached its server.
@Suite("sync through the binary: interrupted, or never reaching the server")
struct InterruptedSyncTests {
    /// The results of the archive's runs, oldest first, read with plain SQL.
    static func runResults(_ db: String) throws -> [String] {
        var results: [String] = []
        try Archive(path: db, mode: .readOnly).database.forEachRow("SELECT result FROM sync_runs ORDER BY id") {
            results.append($0.string(at: 0))
        }
        return results
    }

    @Test("SIGINT, then SIGTERM, once the sync is well under way: exit 130 and 143 with one line, each run recorded as interrupted (never 'running'), verify clean; after a SIGKILL status says interrupted too; the next sync completes with nothing lost")
    func signalsInterruptAndNextSyncCompletes() async throws {
        let simulator = SimulatedCloudron(configuration: SimulatorConfiguration(seed: 61, eventCount: 20_000))
        let url = try await simulator.start()
        let folder = try ScratchFolder()
        defer { folder.remove(); Task { await simulator.stop() } }
        let db = folder.file("audit.db")
        let sync = Command(["sync", "--url", url, "--db", db, "--page-size", "250", "--quiet"],
                           environment: ["CLOUDRON_TOKEN": simulator.readonlyToken])
        let truth = await simulator.truth()

        for (signal, name, exit) in [(SIGINT, "SIGINT", Int32(130)), (SIGTERM, "SIGTERM", Int32(143)), (SIGKILL, "SIGKILL", Int32(0))] {
            // Signalled once the server has answered a dozen of its requests (the walk of 20,000 events
            // at 250 a page takes 80 or more): well after the handlers are in place, well before the end.
            let (process, collector) = try await SyncCrashTests.startUntilProgress(sync, simulator: simulator, requests: 12)
            let signalled = process.isRunning
            if signalled { kill(process.processIdentifier, signal) }
            await ChildProcess.waitForExit(process)
            let (stdout, stderr) = await collector.finish()
            let result = CommandResult(status: process.terminationStatus, stdout: stdout, stderr: stderr)
            #expect(signalled, "the sync ended before it was signalled")
            if signal == SIGKILL {
                // Nothing can catch it: the run stays `running` in the file until the next sync, but no
                // sync holds the archive's lock any more, and status tells it as it is.
                #expect(process.terminationReason == .uncaughtSignal)
                #expect(try Self.runResults(db).last == "running")
            } else {
                #expect(process.terminationReason == .exit, "\(name) ended the process instead of the sync")
                expectFailure(result, exit: exit, naming: [name, "interrupted", "next sync"])
                #expect(try Self.runResults(db).last == "interrupted")
                #expect(try !Self.runResults(db).contains("running"))
            }
            let status = try await Command(["status", "--db", db, "--format", "json"]).run()
            let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any] ?? [:]
            let lastRun = ((object["instances"] as? [[String: Any]])?.first?["lastRun"] as? [String: Any]) ?? [:]
            #expect(lastRun["result"] as? String == "interrupted", "\(status.stdout)")
            #expect((lastRun["finishedAt"] != nil) == (signal != SIGKILL), "when a killed run ended is not known")
            #expect(try SyncCrashTests.archivedEvents(db).count < truth.events.count, "the sync was not stopped midway")
            let verify = try await Command(["verify", "--db", db]).run()
            #expect(verify.status == 0, "verify after \(name): \(verify.stdout) \(verify.stderr)")
        }

        let last = try await sync.run()
        #expect(last.status == 0, "the sync after the interrupted ones: \(last.stderr)")
        let expected = Dictionary(truth.events.map { ($0.id, $0.json) }, uniquingKeysWith: { first, _ in first })
        #expect(try SyncCrashTests.archivedEvents(db) == expected, "events lost or changed across the interruptions")
        #expect(try Self.runResults(db) == ["interrupted", "interrupted", "interrupted", "success"])
        #expect(try await Command(["verify", "--db", db]).run().status == 0)
    }

    @Test("a first sync to a server that never answers creates no archive file; a new instance name in an archive is not bound to it, nor is a --moved one")
    func neverReachedServerWritesNothing() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let port = try CannedServer.closedPort()
        let nowhere = "http://127.0.0.1:\(port)"
        let environment = ["CLOUDRON_TOKEN": "e2e-never-reached-0b1c"]

        let first = try await Command(["sync", "--url", nowhere, "--db", folder.file("new.db")], environment: environment).run()
        expectFailure(first, exit: 69, naming: ["127.0.0.1:\(port)", "refused"])
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(left.isEmpty, "files left by a sync that never reached its server: \(left)")

        // An archive of a real server: a sync of a new instance name to nowhere, and one moving the
        // existing name to nowhere, bind nothing; the right URL then syncs under the new name.
        let simulator = try await FakeCloudronProcess(["--seed", "62", "--events", "100", "--readonly-token", environment["CLOUDRON_TOKEN"] ?? ""])
        defer { Task { await simulator.stop() } }
        let db = folder.file("audit.db")
        #expect(try await Command(["sync", "--url", simulator.url, "--db", db, "--instance", "home", "--quiet"],
                                  environment: environment).run().status == 0)
        func instances() throws -> [String: String] {
            var found: [String: String] = [:]
            try Archive(path: db, mode: .readOnly).database.forEachRow("SELECT name, base_url FROM instances") {
                found[$0.string(at: 0)] = $0.string(at: 1)
            }
            return found
        }
        let before = try instances()
        let runs = try Self.runResults(db)
        let fresh = try await Command(["sync", "--url", nowhere, "--db", db, "--instance", "office"], environment: environment).run()
        expectFailure(fresh, exit: 69, naming: ["127.0.0.1:\(port)"])
        let moved = try await Command(["sync", "--url", nowhere, "--db", db, "--instance", "home", "--moved"], environment: environment).run()
        expectFailure(moved, exit: 69, naming: ["127.0.0.1:\(port)"])
        #expect(try instances() == before)
        #expect(try Self.runResults(db) == runs, "a sync that never reached its server recorded a run")

        let office = try await Command(["sync", "--url", simulator.url, "--db", db, "--instance", "office", "--quiet"],
                                       environment: environment).run()
        #expect(office.status == 0, "\(office.stderr)")
        #expect(try instances() == ["home": simulator.url, "office": simulator.url])
        #expect(try await Command(["verify", "--db", db]).run().status == 0)
    }

    @Test("sync --config: SIGTERM once both servers are under way interrupts each server's run, exit 143; the next run completes both")
    func fleetInterrupted() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        var servers: [SimulatedCloudron] = []
        var config = "db = \"audit.db\"\njobs = 2\n"
        for (index, seed) in [63, 64].enumerated() {
            let simulator = SimulatedCloudron(configuration: SimulatorConfiguration(seed: UInt64(seed), eventCount: 15_000))
            let url = try await simulator.start()
            servers.append(simulator)
            _ = try FleetSyncTests.tokenFile(simulator.readonlyToken, named: "s\(index).token", in: folder)
            config += "\n[[server]]\nname = \"s\(index)\"\nurl = \"\(url)\"\ntoken_file = \"s\(index).token\"\n"
        }
        defer { for server in servers { Task { await server.stop() } } }
        try config.write(toFile: folder.file("fleet.toml"), atomically: true, encoding: .utf8)
        let db = folder.file("audit.db")
        let sync = Command(["sync", "--config", folder.file("fleet.toml"), "--page-size", "250", "--quiet"])

        // Both servers under way: each has answered several requests (the second starts beside the first).
        let (process, collector) = try await SyncCrashTests.startUntilProgress(sync, simulator: servers[0], requests: 8)
        while process.isRunning, SyncCrashTests.apiRequests(await servers[1].requestCounts()) < 8 {
            try await Task.sleep(nanoseconds: 2_000_000)
        }
        let signalled = process.isRunning
        if signalled { kill(process.processIdentifier, SIGTERM) }
        await ChildProcess.waitForExit(process)
        let (_, stderr) = await collector.finish()
        #expect(signalled, "the fleet sync ended before it was signalled")
        #expect(process.terminationReason == .exit && process.terminationStatus == 143, "exit \(process.terminationStatus): \(stderr)")
        let lines = stderr.split(separator: "\n")
        #expect(lines.count == 2 && ["s0", "s1"].allSatisfy { name in lines.contains { $0.hasPrefix("cloudron-audit: \(name): ") && $0.contains("interrupted") } },
                "stderr: \(stderr)")
        #expect(try Self.runResults(db) == ["interrupted", "interrupted"])
        #expect(try await Command(["verify", "--db", db]).run().status == 0)

        let again = try await sync.run()
        #expect(again.status == 0, "\(again.stderr)")
        for (index, server) in servers.enumerated() {
            let truth = Dictionary((await server.truth()).events.map { ($0.id, $0.json) }, uniquingKeysWith: { first, _ in first })
            #expect(try FleetSyncTests.archived(.events, instance: "s\(index)", db: db) == truth)
        }
    }
}
