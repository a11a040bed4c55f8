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
        // upgrade; `verify` checks them), no alarms (0008), no user fields or role history (0009, 0010), the
        // events' search text stored in the events table (until 0011), and no recorded verifications (0013).
        try restoreStoredSearchText(db)
        do {
            let database = try Database(path: db, mode: .readWrite)
            try database.execute("""
                DROP VIEW user_role_changes; DROP INDEX events_by_creation; DROP TABLE event_fields;
                ALTER TABLE sync_runs DROP COLUMN head_statement; ALTER TABLE sync_runs DROP COLUMN head_signature;
                DROP TABLE task_log_failures; ALTER TABLE sync_runs DROP COLUMN unavailable_streams; DROP TABLE quarantine;
                DROP TABLE archive_identity; DROP TABLE alarms; DROP TABLE verifications;
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

    @Test("of schema 10, with the events' search text stored, is upgraded in place: same rows, same index, search's snippets as FTS5 made them from the stored text")
    func storedSearchTextIsDroppedInPlace() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try await makeDemoArchive(in: folder)
        try restoreStoredSearchText(db)
        // The oracle, read from the schema-10 file with SQL alone: FTS5's own snippet() over the stored text.
        let queries = ["login", "backup OR example", "\"example.com\""]
        let rowsBefore = try events(db)
        var snippetsBefore: [[String: String]] = []
        for query in queries {
            var snippets: [String: String] = [:]
            try Database(path: db, mode: .readOnly).forEachRow("""
                SELECT e.api_id, snippet(events_fts, -1, '«', '»', '…', 12) FROM events_fts JOIN events e ON e.id = events_fts.rowid
                WHERE events_fts MATCH ?
                """, [.text(query)]) { snippets[$0.string(at: 0)] = $0.string(at: 1) }
            snippetsBefore.append(snippets)
        }
        #expect(snippetsBefore[0].count > 20 && snippetsBefore.allSatisfy { !$0.isEmpty })

        for (query, expected) in zip(queries, snippetsBefore) {
            let run = try await Command(["search", "--db", db, "--raw", query, "--format", "ndjson"]).run()
            #expect(run.status == 0, "\(query): \(run.stderr)")
            var found: [String: String] = [:]
            for line in run.stdout.split(separator: "\n") {
                let row = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                found[try #require(row["id"] as? String)] = row["snippet"] as? String
            }
            #expect(found == expected, "\(query)")
        }
        let upgraded = try Database(path: db, mode: .readOnly)
        #expect(try upgraded.scalarInt("PRAGMA user_version") == Int64(ArchiveSchema.currentVersion))
        #expect(try upgraded.scalarInt("SELECT count(*) FROM pragma_table_info('events') WHERE name LIKE '%_text'") == 0)
        #expect(try events(db) == rowsBefore)
        let verify = try await Command(["verify", "--db", db]).run()
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    /// The events table's rows (without the search text), read with SQL alone.
    private func events(_ db: String) throws -> [String] {
        var rows: [String] = []
        try Database(path: db, mode: .readOnly).forEachRow("""
            SELECT id, instance_id, api_id, action, creation_epoch, version FROM events ORDER BY id
            """) { row in rows.append((0 ..< 6).map { row.string(at: Int32($0)) }.joined(separator: "|")) }
        return rows
    }

    /// The events table as cloudron-audit before schema 11 kept it: each event's search text (the leaf values of
    /// `source` and `data`, as its ingest derived and indexed them) in the columns source_text and data_text.
    /// The schema version goes back to 10 (the file keeps the later migrations' other parts, which 0011 does not touch,
    /// but for 0015's columns of event_fields, which 0015 adds again).
    private func restoreStoredSearchText(_ db: String) throws {
        let database = try Database(path: db, mode: .readWrite)
        try database.execute("""
            PRAGMA foreign_keys = OFF; PRAGMA legacy_alter_table = ON;
            CREATE TABLE events_v10 (
                id INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL REFERENCES instances(id), api_id TEXT NOT NULL,
                action TEXT NOT NULL, creation_epoch INTEGER NOT NULL, version INTEGER NOT NULL,
                source_text TEXT NOT NULL, data_text TEXT NOT NULL, UNIQUE (instance_id, api_id));
            """)
        try database.transaction {
            try database.forEachRow("""
                SELECT e.id, e.instance_id, e.api_id, e.action, e.creation_epoch, e.version, v.raw
                FROM events e JOIN event_versions v ON v.event_id = e.id AND v.version = e.version ORDER BY e.id
                """) { row in
                let text = try ObjectKind.events.searchTexts(raw: row.bytes(at: 6)).map(SQLValue.text)
                try database.run("INSERT INTO events_v10 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                 (0 ..< 6).map { row.value(at: Int32($0)) } + text.suffix(2))
            }
        }
        try database.execute("""
            DROP TABLE events; ALTER TABLE events_v10 RENAME TO events;
            CREATE INDEX events_by_time ON events(instance_id, creation_epoch);
            CREATE INDEX events_by_action ON events(action, creation_epoch);
            CREATE INDEX events_by_creation ON events(creation_epoch, id);
            DROP INDEX event_fields_ooms; ALTER TABLE event_fields DROP COLUMN oom_addon;
            ALTER TABLE event_fields DROP COLUMN oom_victim; ALTER TABLE event_fields DROP COLUMN oom_app_id;
            DELETE FROM schema_migrations WHERE version >= 11; PRAGMA user_version = 10;
            PRAGMA legacy_alter_table = OFF; PRAGMA foreign_keys = ON;
            """)
        #expect(try database.scalarInt("SELECT count(*) FROM events WHERE data_text <> ''") ?? 0 > 0)
    }
}
