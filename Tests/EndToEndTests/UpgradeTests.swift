import Archiver
import Foundation
import Testing

@Suite("an archive written by an older cloudron-audit")
struct UpgradeTests {
    @Test("is upgraded in place by the first command that reads it; its records and chain are untouched")
    func olderArchiveUpgradesInPlace() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try await makeDemoArchive(in: folder)
        let before = try await Command(["events", "--db", db, "--format", "ndjson"]).run()
        #expect(before.status == 0)
        // Back to schema version 1, as version 0.1.0 wrote it: no events_by_creation index (0002), no signed
        // heads in sync_runs (0003), no record of unavailable task logs and streams (0004), no quarantine (0005),
        // no archive id (0006), no extracted event fields (0007, filled in from every version's raw JSON by the
        // upgrade; `verify` checks them), no alarms (0008), no user fields or role history (0009, 0010).
        do {
            let database = try Database(path: db, mode: .readWrite)
            try database.execute("""
                DROP VIEW user_role_changes; DROP INDEX events_by_creation; DROP TABLE event_fields;
                ALTER TABLE sync_runs DROP COLUMN head_statement; ALTER TABLE sync_runs DROP COLUMN head_signature;
                DROP TABLE task_log_failures; ALTER TABLE sync_runs DROP COLUMN unavailable_streams; DROP TABLE quarantine;
                DROP TABLE archive_identity; DROP TABLE alarms;
                DELETE FROM schema_migrations WHERE version > 1; PRAGMA user_version = 1;
                """)
        }
        let after = try await Command(["events", "--db", db, "--format", "ndjson"]).run()
        #expect(after.status == 0, "reading an older archive: \(after.stderr)")
        #expect(after.stdout == before.stdout)
        let archive = try Archive(path: db, mode: .readOnly)
        #expect(try archive.schemaVersion() == ArchiveSchema.currentVersion)
        let index = try archive.database.scalarString(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'events_by_creation'")
        #expect(index == "events_by_creation")
        #expect(try await Command(["verify", "--db", db]).run().status == 0)
    }
}
