import Archiver
import CentralStore
import Foundation
import Testing

@Suite(.serialized) struct PushCommandTests {
    @Test func aPushKilledAtRandomMomentsThenRerunLeavesTheStoreEqualToTheArchive() async throws {
        let (cluster, uri) = try await offThePool { let cluster = try PostgresCluster.shared(); return (cluster, try cluster.makeDatabase()) }
        let synced = try await SyncedArchive.make(seed: 61, events: 1_500)
        defer { synced.finish() }
        let head = try await offThePool { try synced.open().currentChainHead().length }
        var killedMidway = 0
        for _ in 0 ..< 6 {
            let process = CLI.process(["push", "--db", synced.path, "--to", uri, "--batch-size", "40", "--quiet"],
                                      stdout: Pipe(), stderr: Pipe())
            try process.run()
            try await Task.sleep(nanoseconds: UInt64.random(in: 50_000_000 ... 700_000_000))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killedMidway += 1
            }
            while process.isRunning { try await Task.sleep(nanoseconds: 10_000_000) }
            // Killed before its first transaction committed, a push leaves no schema behind.
            let pushed = try await offThePool {
                guard try cluster.psql(uri, "SELECT to_regclass('cloudron_audit.store_archives') IS NOT NULL") == "t" else { return Int64(0) }
                return Int64(try cluster.psql(uri, "SELECT coalesce(max(chain_length), 0) FROM cloudron_audit.store_archives")) ?? -1
            }
            #expect(pushed % 40 == 0 || pushed == head, "the cursor stops at batch boundaries only: \(pushed)")
        }
        #expect(killedMidway > 0, "no push was killed midway: the archive is too small for this machine's speed")
        let final = try await CLI.run(["push", "--db", synced.path, "--to", uri])
        #expect(final.status == 0, "\(final.stderr)")
        try await offThePool { try expectStoreEqualsArchive(uri, synced.path) }
        let again = try await CLI.run(["push", "--db", synced.path, "--to", uri])
        #expect(again.status == 0 && again.stdout.hasPrefix("nothing to push"), "\(again.stdout)")

        let verified = try await CLI.run(["verify", "--from", uri])
        #expect(verified.status == 0 && verified.stdout.contains("intact: archive") && verified.stdout.contains("\(head) archived records"),
                "\(verified.stdout) \(verified.stderr)")
        try await offThePool {
            let id = try synced.open().archiveID()
            try cluster.psql(uri, "UPDATE cloudron_audit.task_versions SET raw = raw || ' ' WHERE archive_id = '\(id)' AND id = (SELECT min(id) FROM cloudron_audit.task_versions)")
        }
        let altered = try await CLI.run(["verify", "--from", uri])
        #expect(altered.status == 1)
        #expect(altered.stderr.split(separator: "\n").count == 1 && altered.stderr.contains("task_versions rowid"), "\(altered.stderr)")
    }

    @Test func failuresAreOneLineWithTheirDocumentedExitCodes() async throws {
        let cluster = try await offThePool { try PostgresCluster.shared() }
        let synced = try await SyncedArchive.make(seed: 62, events: 50)
        defer { synced.finish() }
        let cases: [(uri: String, status: Int32, says: String)] = [
            ("postgresql://auditor:pw@127.0.0.1:\(cluster.port)/postgres", 64, "PGPASSWORD"),
            ("https://example.org/db", 64, "not a PostgreSQL connection URI"),
            ("postgresql://auditor@127.0.0.1:1/postgres", 69, "cannot connect"),
            ("postgresql://auditor@127.0.0.1:\(cluster.port)/postgres?passfile=/nonexistent", 77, "password"),
        ]
        for item in cases {
            let result = try await CLI.run(["push", "--db", synced.path, "--to", item.uri])
            #expect(result.status == item.status, "\(item.uri): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains(item.says), "\(result.stderr)")
            #expect(!result.stderr.contains(":pw@"), "the password is never printed")
        }
        let empty = try await offThePool { try cluster.makeDatabase() }
        let notPushed = try await CLI.run(["verify", "--from", empty])
        #expect(notPushed.status == 66 && notPushed.stderr.contains("run 'cloudron-audit push' first"), "\(notPushed.stderr)")
    }
}
