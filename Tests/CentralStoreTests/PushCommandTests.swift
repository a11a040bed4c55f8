import Archiver
import CentralStore
import Foundation
import ScratchPostgres
import Testing

@Suite(.serialized) struct PushCommandTests {
    @Test func aPushKilledAtRandomMomentsThenRerunLeavesTheStoreEqualToTheArchive() async throws {
        let (cluster, uri) = try await newStoreDatabase()
        let synced = try await SyncedArchive.make(seed: 61, events: 1_500)
        defer { synced.finish() }
        let head = try await offThePool { try synced.open().currentChainHead().length }
        var killedMidway = 0
        let batch: Int64 = 20
        for _ in 0 ..< 6 {
            let before = try await offThePool { try storeCursor(uri) ?? 0 }
            let process = CLI.process(["push", "--db", synced.path, "--to", uri, "--batch-size", "\(batch)", "--quiet"],
                                      stdout: Pipe(), stderr: Pipe())
            try process.run()
            // Killed once the store's cursor passes a random point short of the head: watching the store instead
            // of sleeping a random time makes the kill land midway however fast this machine pushes.
            let target = before + Int64.random(in: 1 ... max(1, (head - before) / 2))
            let watched = try await offThePool { try killOnceStoreReaches(target, uri: uri, process: process) }
            if watched { killedMidway += 1 }
            while process.isRunning { try await Task.sleep(nanoseconds: 10_000_000) }
            let pushed = try await offThePool { try storeCursor(uri) ?? 0 }
            #expect(pushed % batch == 0 || pushed == head, "the cursor stops at batch boundaries only: \(pushed)")
            if pushed == head { break }
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

/// The store's push cursor (the archive's chain length it holds); nil before the first push created the schema (a
/// push killed before its first transaction committed leaves none behind).
private func storeCursor(_ uri: String) throws -> Int64? {
    let connection = try PostgresConnection(uri: uri)
    guard try connection.scalar("SELECT to_regclass('cloudron_audit.store_archives') IS NOT NULL") == "t" else { return nil }
    return Int64(try connection.scalar("SELECT coalesce(max(chain_length), 0) FROM cloudron_audit.store_archives") ?? "") ?? -1
}

/// Polls the store until its cursor reaches `target`, then SIGKILLs the push; false when the push ended first
/// (it finished, or a cursor already past the target: a later round of the loop).
private func killOnceStoreReaches(_ target: Int64, uri: String, process: Process) throws -> Bool {
    let connection = try PostgresConnection(uri: uri)
    while process.isRunning {
        let exists = try connection.scalar("SELECT to_regclass('cloudron_audit.store_archives') IS NOT NULL") == "t"
        let cursor = exists ? Int64(try connection.scalar("SELECT coalesce(max(chain_length), 0) FROM cloudron_audit.store_archives") ?? "") ?? 0 : 0
        if cursor >= target {
            kill(process.processIdentifier, SIGKILL)
            return true
        }
        usleep(500)
    }
    return false
}
