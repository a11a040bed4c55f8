import Foundation
import Testing
@testable import Archiver

@Suite struct ArchiveSchemaTests {
    /// Every schema/*.sql file is in the ordered list, in order, and the embedded bytes are the file's.
    @Test func everySchemaFileIsAMigration() throws {
        let schemaFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../schema").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: schemaFolder.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(!files.isEmpty)
        #expect(ArchiveSchema.migrations.map(\.fileName) == files)
        #expect(ArchiveSchema.migrations.map(\.version) == Array(1 ... ArchiveSchema.migrations.count))
        for migration in ArchiveSchema.migrations {
            let onDisk = try Data(contentsOf: schemaFolder.appendingPathComponent(migration.fileName))
            #expect(Array(onDisk) == migration.sql, "\(migration.fileName) embedded bytes differ from the file")
            #expect(migration.fileName.hasPrefix(String(format: "%04d_", migration.version)))
        }
    }

    @Test func createsFileWithMode0600AndReopens() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("a.db")
        do {
            let archive = try Archive(path: path)
            _ = try archive.instanceID(name: "one", baseURL: "https://one.example.org")
            #expect(try archive.schemaVersion() == ArchiveSchema.currentVersion)
            #expect(try archive.database.scalarString("PRAGMA journal_mode") == "wal")
            #expect(try archive.database.scalarInt("PRAGMA foreign_keys") == 1)
            for file in [path, path + "-wal"] where FileManager.default.fileExists(atPath: file) {
                let attributes = try FileManager.default.attributesOfItem(atPath: file)
                #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o777 } == 0o600, "\(file)")
            }
        }
        let reopened = try Archive(path: path)
        #expect(try reopened.instanceBaseURL(name: "one") != nil)
        #expect(try reopened.database.scalarInt("SELECT count(*) FROM schema_migrations") == Int64(ArchiveSchema.currentVersion))
    }

    @Test func olderArchiveUpgradesInPlaceAndNewerIsRefused() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("a.db")
        let first = ArchiveSchema.migrations
        let second = Migration(version: first.count + 1, fileName: "9999_test.sql",
                               sql: Array("CREATE TABLE upgrade_marker (id INTEGER PRIMARY KEY);".utf8))
        do {
            let old = try Archive(path: path, mode: .readWrite, migrations: first)
            _ = try old.instanceID(name: "kept", baseURL: "https://kept.example.org")
        }
        // A newer cloudron-audit upgrades it, keeping the data.
        do {
            let upgraded = try Archive(path: path, mode: .readWrite, migrations: first + [second])
            #expect(try upgraded.schemaVersion() == second.version)
            #expect(try upgraded.instanceBaseURL(name: "kept") != nil)
            #expect(try upgraded.database.scalarInt("SELECT count(*) FROM upgrade_marker") == 0)
            #expect(try upgraded.database.scalarInt("SELECT max(version) FROM schema_migrations") == Int64(second.version))
        }
        // Then the older one refuses it, naming both versions.
        let error = #expect(throws: SQLiteError.self) { try Archive(path: path, mode: .readWrite, migrations: first) }
        #expect(error?.kind == .schemaTooNew(found: second.version, supported: first.count))
        let text = error?.description ?? ""
        #expect(text.contains("\(second.version)") && text.contains("\(first.count)") && !text.contains("\n"))
        // Read-only access to an archive that needs upgrading is refused too, without touching it.
        let older = #expect(throws: SQLiteError.self) {
            try Archive(path: path, mode: .readOnly, migrations: first + [second, Migration(version: second.version + 1, fileName: "x", sql: [])])
        }
        #expect(older?.kind == .schemaTooOld(found: second.version, supported: second.version + 1))
    }

    /// An upgrade is one transaction: a migration that fails leaves the archive as it was, the migrations
    /// before it in the same upgrade undone too (a reader never sees a schema between two versions).
    @Test func aFailedUpgradeLeavesTheArchiveAtItsSchema() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("a.db")
        let first = ArchiveSchema.migrations
        _ = try Archive(path: path, mode: .readWrite, migrations: first)
        let good = Migration(version: first.count + 1, fileName: "9998_test.sql",
                             sql: Array("CREATE TABLE upgrade_marker (id INTEGER PRIMARY KEY);".utf8))
        let bad = Migration(version: first.count + 2, fileName: "9999_test.sql", sql: Array("CREATE TABLE events (id);".utf8))
        #expect(throws: SQLiteError.self) { try Archive(path: path, mode: .readWrite, migrations: first + [good, bad]) }
        let archive = try Archive(path: path, mode: .readOnly, migrations: first)
        #expect(try archive.schemaVersion() == first.count)
        #expect(try archive.database.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'upgrade_marker'") == 0)
        #expect(try archive.database.scalarInt("SELECT max(version) FROM schema_migrations") == Int64(first.count))
    }

    @Test func nonSQLiteFileIsNotADatabase() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("notes.db")
        try Data(String(repeating: "these are not the pages you are looking for\n", count: 200).utf8).write(to: URL(fileURLWithPath: path))
        for mode in [Archive.AccessMode.readWrite, .readOnly] {
            let error = #expect(throws: SQLiteError.self) { try Archive(path: path, mode: mode) }
            #expect(error?.kind == .notADatabase)
            #expect(error?.description.contains(path) == true)
        }
    }

    @Test func truncatedArchiveIsNotADatabase() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("a.db")
        do {
            let fixture = try ArchiveUnderTest(path: path)
            _ = try fixture.archive.transaction {
                try fixture.archive.ingest(events: (0 ..< 300).map { Fixture.appInstall(id: "ev-\($0)", epoch: Fixture.baseEpoch + Int64($0)) },
                                           instance: fixture.instance, run: fixture.run, seenAt: Fixture.baseEpoch)
            }
        }   // closing checkpoints the WAL into the file
        let size = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(size > 100_000)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()
        let error = #expect(throws: SQLiteError.self) { try Archive(path: path, mode: .readOnly) }
        #expect(error?.kind == .notADatabase)
    }

    @Test func otherApplicationsDatabaseIsRefused() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("other.db")
        do {
            let other = try Database(path: path, mode: .readWrite)
            try other.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
        }
        let error = #expect(throws: SQLiteError.self) { try Archive(path: path) }
        #expect(error?.kind == .notAnArchive)
        let check = try Database(path: path, mode: .readOnly)
        #expect(try check.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'events'") == 0)
    }

    @Test func readOnlyRefusesWritesAndNeverCreatesAFile() throws {
        let folder = try TemporaryFolder()
        let missing = folder.path("missing.db")
        let error = #expect(throws: SQLiteError.self) { try Archive(path: missing, mode: .readOnly) }
        #expect(error?.kind == .cannotOpen)
        #expect(!FileManager.default.fileExists(atPath: missing))

        let path = folder.path("a.db")
        do { try ArchiveUnderTest(path: path).fillWithEveryKind() }
        let archive = try Archive(path: path, mode: .readOnly)
        let viaAPI = #expect(throws: SQLiteError.self) { try archive.instanceID(name: "new", baseURL: "https://new.example.org") }
        #expect(viaAPI?.kind == .readOnly)
        let viaSQL = #expect(throws: SQLiteError.self) { try archive.database.execute("DELETE FROM event_versions") }
        #expect(viaSQL?.kind == .readOnly)
        // query_only holds even if a report tries to switch it off: the file itself is open read-only.
        try? archive.database.execute("PRAGMA query_only = OFF")
        #expect(throws: SQLiteError.self) { try archive.database.execute("UPDATE events SET action = 'x'") }
        #expect(try archive.database.scalarInt("SELECT count(*) FROM event_versions") == 3)
    }

    @Test func missingFolderCannotOpen() throws {
        let folder = try TemporaryFolder()
        let error = #expect(throws: SQLiteError.self) { try Archive(path: folder.path("no/such/folder/a.db")) }
        #expect(error?.kind == .cannotOpen)
    }
}
