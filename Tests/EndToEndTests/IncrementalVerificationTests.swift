import Archiver
import Foundation
import Testing
import TestSupport

/// Issue 12: `verify` records each full check in the archive, and `report --all` checks only what was
/// archived since the newest one (or the whole archive where it cannot continue it), saying in its
/// manifest which. Through the binary, against a simulator over HTTP; the archive is read and altered with
/// the sqlite3 tool, the oracle for what the chain holds.
@Suite("verify records its check; report --all continues it incrementally")
struct IncrementalVerificationTests {
    static let token = "e2e-incremental-verify-token-7d2e"

    /// An archive synced from a server that gains events on every request, so each sync adds records.
    struct SyncedArchive {
        let folder: ScratchFolder
        let simulator: FakeCloudronProcess
        var db: String { folder.file("audit.db") }

        static func make(db: String? = nil) async throws -> SyncedArchive {
            let archive = SyncedArchive(folder: try ScratchFolder(),
                                        simulator: try await FakeCloudronProcess(["--seed", "12", "--events", "120", "--readonly-token", token,
                                                                                  "--new-events-per-request", "2"]))
            try await archive.sync()
            return archive
        }

        func sync(into path: String? = nil) async throws {
            let sync = try await Command(["sync", "--url", simulator.url, "--db", path ?? db, "--quiet"],
                                         environment: ["CLOUDRON_TOKEN": IncrementalVerificationTests.token]).run()
            guard sync.status == 0 else { throw TestFailure("sync failed (\(sync.status)): \(sync.stderr)") }
        }

        func remove() async {
            await simulator.stop()
            folder.remove()
        }

        /// `report --all` into a new folder; its manifest's `verification`.
        func reportAll(_ extra: [String] = [], db: String? = nil) async throws -> (result: CommandResult, verification: [String: Any]) {
            let bundle = folder.file("bundle-\(UUID().uuidString)")
            let result = try await Command(["report", "--all", "--db", db ?? self.db, "--since", "30d", "--output-dir", bundle] + extra).run()
            guard result.status == 0 else { throw TestFailure("report --all failed (\(result.status)): \(result.stderr)") }
            let data = try Data(contentsOf: URL(fileURLWithPath: bundle + "/manifest.json"))
            let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            return (result, try #require(manifest["verification"] as? [String: Any]))
        }
    }

    /// The sqlite3 tool's answer, one line per row, columns separated by `|`.
    static func sqlite3(_ db: String, _ sql: String) async throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [db, sql]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let collected = OutputCollector(out: out, err: err)
        try await ChildProcess.run(process)
        let (stdout, stderr) = await collected.finish()
        guard process.terminationStatus == 0 else { throw TestFailure("sqlite3 failed on: \(sql): \(stderr)") }
        return stdout.split(separator: "\n").map(String.init)
    }

    /// The chain's length and head as the rows hold them: the highest id of the chain tables, and its link.
    static func chain(_ db: String) async throws -> (length: Int, head: String) {
        let rows = try await sqlite3(db, """
            SELECT id, lower(hex(chain_link)) FROM (
              SELECT id, chain_link FROM event_versions UNION ALL SELECT id, chain_link FROM notification_versions
              UNION ALL SELECT id, chain_link FROM task_versions UNION ALL SELECT id, chain_link FROM task_logs
              UNION ALL SELECT id, chain_link FROM quarantine UNION ALL SELECT id, chain_link FROM alarms)
            ORDER BY id DESC LIMIT 1
            """)
        let parts = try #require(rows.first?.split(separator: "|"))
        return (Int(parts[0]) ?? -1, String(parts[1]))
    }

    static func recorded(_ db: String) async throws -> [String] {
        try await sqlite3(db, "SELECT chain_length, lower(hex(chain_head)), intact, problems, checks FROM verifications ORDER BY id")
    }

    @Test("verify records its full check: the chain it covered, its verdict, the checks that ran")
    func verifyRecordsItsRun() async throws {
        let archive = try await SyncedArchive.make()
        let chain = try await Self.chain(archive.db)
        #expect(try await Self.recorded(archive.db).isEmpty, "a sync records no verification")
        let verify = try await Command(["verify", "--db", archive.db]).run()
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("\(chain.length) archived records, chain head \(chain.head)"))
        #expect(try await Self.recorded(archive.db)
                == ["\(chain.length)|\(chain.head)|1|0|integrity,fullTextIndex,chain,anchor,currentState,extractedFields"])

        // A damaged archive's verify is recorded too, with its problems: the next report --all checks everything again.
        _ = try await Self.sqlite3(archive.db, "UPDATE events SET action = 'user.logout' WHERE id = (SELECT min(id) FROM events)")
        #expect(try await Command(["verify", "--db", archive.db]).run().status == 1)
        let rows = try await Self.recorded(archive.db)
        #expect(rows.count == 2)
        // Problems: the current-state row, and the full-text entry indexed with the action it had.
        #expect(rows.last?.hasPrefix("\(chain.length)|\(chain.head)|0|2|") == true, "\(rows)")
        let (_, verification) = try await archive.reportAll()
        #expect(verification["mode"] as? String == "full")
        #expect(verification["intact"] as? Bool == false)
        await archive.remove()
    }

    @Test("an archive of schema 13 gets the table from its first reader, and verify records into it")
    func anArchiveOfThePreviousSchemaIsUpgraded() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try await makeDemoArchive(in: folder, events: 60)
        // As schema 13 wrote it: no verifications table (nor 0015's columns and indexes), and a full check the
        // first reader does not skip.
        let migrationSQL = { (suffix: String) in
            String(decoding: try #require(ArchiveSchema.migrations.first { $0.fileName.hasSuffix(suffix) }).sql, as: UTF8.self)
        }
        try Database(path: db, mode: .readWrite).execute(SchemaDowngrade.beforeReportCoveringIndexes(
            userRoleLookupsSQL: try migrationSQL("_user_role_lookups.sql"), reportLookupsSQL: try migrationSQL("_report_lookups.sql")))
        _ = try await Self.sqlite3(db, """
            DROP TABLE verifications; DELETE FROM schema_migrations WHERE version = 14; PRAGMA user_version = 13;
            """)
        let (length, head) = try await Self.chain(db)
        let verify = try await Command(["verify", "--db", db]).run()
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(try await Self.sqlite3(db, "PRAGMA user_version") == ["\(ArchiveSchema.currentVersion)"])
        #expect(try await Self.recorded(db).map { $0.prefix(while: { $0 != "|" }) + "|" + $0.split(separator: "|")[1] }
                == ["\(length)|\(head)"])
    }

    @Test("after a further sync, report --all checks only the records added since and names the recorded verification")
    func reportAllIsIncrementalAfterASync() async throws {
        let archive = try await SyncedArchive.make()
        #expect(try await Command(["verify", "--db", archive.db]).run().status == 0)
        let verified = try await Self.chain(archive.db)
        try await archive.sync()
        let now = try await Self.chain(archive.db)
        #expect(now.length > verified.length, "the second sync archived nothing")

        let (_, verification) = try await archive.reportAll()
        #expect(verification["mode"] as? String == "incremental")
        #expect(verification["intact"] as? Bool == true)
        #expect(verification["problems"] as? Int == 0)
        let base = try #require(verification["recordedFullVerification"] as? [String: Any])
        #expect(base["chainLength"] as? Int == verified.length)
        #expect(base["chainHead"] as? String == verified.head)
        #expect((base["checkedAt"] as? String)?.hasSuffix("Z") == true)
        let records = try #require(verification["records"] as? [String: Any])
        #expect(records["from"] as? Int == verified.length + 1)
        #expect(records["to"] as? Int == now.length)
        #expect(verification["checks"] as? [String] == ["chain", "anchor", "currentState", "extractedFields", "fullTextIndex"])
        let unchecked = try #require(verification["notChecked"] as? [String])
        #expect(unchecked.contains { $0.hasPrefix("integrity") })
        #expect(unchecked.contains { $0.contains("next full verify") })
        // An incremental check is not recorded: the next one still starts from the full one.
        #expect(try await Self.recorded(archive.db).count == 1)

        let (_, full) = try await archive.reportAll(["--full-verify"])
        #expect(full["mode"] as? String == "full")
        #expect(full["recordedFullVerification"] == nil)
        let fullRecords = try #require(full["records"] as? [String: Any])
        #expect(fullRecords["from"] as? Int == 1 && fullRecords["to"] as? Int == now.length)
        #expect((full["checks"] as? [String])?.contains("integrity") == true)
        #expect(try await Self.recorded(archive.db).count == 2)
        await archive.remove()
    }

    /// Alterations of the newest event version's rows, each of what one incremental check covers.
    static let newRecordTampering: [(check: String, sql: String)] = [
        ("chain", "UPDATE event_versions SET raw = replace(raw, '\"action\"', '\"action\" ') WHERE id = (SELECT max(id) FROM event_versions)"),
        ("extractedFields", "UPDATE event_fields SET ip = '6.6.6.6' WHERE version_id = (SELECT max(id) FROM event_versions)"),
        ("currentState", "UPDATE events SET action = 'user.logout' WHERE id = (SELECT event_id FROM event_versions ORDER BY id DESC LIMIT 1)"),
        ("fullTextIndex", "DELETE FROM events_fts_docsize WHERE id = (SELECT event_id FROM event_versions ORDER BY id DESC LIMIT 1)"),
    ]

    @Test("a record added after the recorded verification, altered with sqlite3, is caught by the incremental check",
          arguments: 0 ..< newRecordTampering.count)
    func tamperingWithANewRecordIsCaught(_ index: Int) async throws {
        let (check, sql) = Self.newRecordTampering[index]
        let archive = try await SyncedArchive.make()
        #expect(try await Command(["verify", "--db", archive.db]).run().status == 0)
        try await archive.sync()
        _ = try await Self.sqlite3(archive.db, sql)
        let (result, verification) = try await archive.reportAll()
        #expect(verification["mode"] as? String == "incremental")
        #expect(verification["intact"] as? Bool == false, "\(check) not caught")
        #expect((verification["firstProblem"] as? String)?.hasPrefix(check + ":") == true, "\(verification["firstProblem"] ?? "-")")
        #expect(result.stderr.contains("warning: verify found the archive damaged or altered"))
        await archive.remove()
    }

    @Test("an old record altered: not seen incrementally (the documented promise), caught by --full-verify and verify")
    func tamperingWithAnOldRecordNeedsAFullVerify() async throws {
        let archive = try await SyncedArchive.make()
        #expect(try await Command(["verify", "--db", archive.db]).run().status == 0)
        try await archive.sync()
        // The oldest event, changed where the chain covers it but its stored link is left as it was.
        _ = try await Self.sqlite3(archive.db, """
            UPDATE event_versions SET raw = replace(raw, '"action"', '"action" ') WHERE id = (SELECT min(id) FROM event_versions)
            """)
        let (_, incremental) = try await archive.reportAll()
        #expect(incremental["mode"] as? String == "incremental")
        #expect(incremental["intact"] as? Bool == true)

        let (result, full) = try await archive.reportAll(["--full-verify"])
        #expect(full["mode"] as? String == "full")
        #expect(full["intact"] as? Bool == false)
        #expect((full["firstProblem"] as? String)?.hasPrefix("chain: event_versions rowid") == true, "\(full["firstProblem"] ?? "-")")
        #expect(result.stderr.contains("warning: verify found the archive damaged or altered"))
        let verify = try await Command(["verify", "--db", archive.db]).run()
        #expect(verify.status == 1)
        // The newest recorded verification found problems: report --all checks the whole archive again.
        let (_, after) = try await archive.reportAll()
        #expect(after["mode"] as? String == "full")
        #expect(after["intact"] as? Bool == false)
        await archive.remove()
    }

    @Test("a recorded head the chain no longer has at its length: report --all falls back to the full verify and records it",
          arguments: ["UPDATE verifications SET chain_head = zeroblob(32)",
                      "UPDATE verifications SET chain_length = chain_length + 1000"])
    func aRecordedHeadThatNoLongerMatchesFallsBack(_ sql: String) async throws {
        let archive = try await SyncedArchive.make()
        #expect(try await Command(["verify", "--db", archive.db]).run().status == 0)
        try await archive.sync()
        _ = try await Self.sqlite3(archive.db, sql)
        let now = try await Self.chain(archive.db)
        let (_, verification) = try await archive.reportAll()
        #expect(verification["mode"] as? String == "full")
        #expect(verification["intact"] as? Bool == true)
        let records = try #require(verification["records"] as? [String: Any])
        #expect(records["from"] as? Int == 1 && records["to"] as? Int == now.length)
        let rows = try await Self.recorded(archive.db)
        #expect(rows.count == 2)
        #expect(rows.last?.hasPrefix("\(now.length)|\(now.head)|1|0|") == true, "\(rows)")
        // The full check recorded, the next bundle continues it: nothing archived since, no records to check.
        let (_, next) = try await archive.reportAll()
        #expect(next["mode"] as? String == "incremental")
        #expect(next["records"] == nil)
        #expect((next["recordedFullVerification"] as? [String: Any])?["chainLength"] as? Int == now.length)
        await archive.remove()
    }

    @Test("a read-only archive without a record: report --all runs the full verify and writes nothing; verify says nothing new",
          .enabled(if: TmpfsMount.isAvailable, "needs root and mount(8) for a read-only tmpfs"))
    func readOnlyArchiveWithoutRecord() async throws {
        let archive = try await SyncedArchive.make()
        try await TmpfsMount.with(options: "size=16m") { mount in
            let db = mount.file("audit.db")
            try await archive.sync(into: db)
            try await mount.remount("ro")
            let before = ArchiveBytes(db)
            let (result, verification) = try await archive.reportAll(db: db)
            #expect(result.stderr.isEmpty, "\(result.stderr)")
            #expect(verification["mode"] as? String == "full")
            #expect(verification["intact"] as? Bool == true)
            let verify = try await Command(["verify", "--db", db]).run()
            #expect(verify.status == 0)
            #expect(verify.stderr.isEmpty, "\(verify.stderr)")
            // What verify said on read-only media before: the verdict, and that the FTS structure check needs write access.
            let lines = verify.stdout.split(separator: "\n")
            #expect(lines.first?.hasPrefix("intact: ") == true, "\(verify.stdout)")
            #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("note: full-text index check") }, "\(verify.stdout)")
            #expect(ArchiveBytes(db) == before, "a read-only archive was written")
            #expect(try await Self.recorded("file:\(db)?immutable=1").isEmpty)
        }
        await archive.remove()
    }
}
