import Client
import CloudronSimulator
import Foundation
import Testing
import TestSupport
@testable import Archiver

/// `event_fields`: what reports read, extracted once per event version (schema 7).
@Suite struct ExtractedFieldsTests {
    /// The same fields as SQLite's own JSON reader gives them: the independent oracle. Text columns hold a
    /// number as written (CAST of json_extract's value), `success` a boolean as 1 or 0.
    static let oracle: [(column: String, sql: String)] = [
        ("actor_name", "CAST(json_extract(v.raw, '$.source.username') AS TEXT)"),
        ("actor_id", "CAST(json_extract(v.raw, '$.source.userId') AS TEXT)"),
        ("ip", "CAST(json_extract(v.raw, '$.source.ip') AS TEXT)"),
        ("auth_type", "CAST(json_extract(v.raw, '$.source.authType') AS TEXT)"),
        ("mailbox_id", "CAST(json_extract(v.raw, '$.source.mailboxId') AS TEXT)"),
        ("client_app_id", "CAST(json_extract(v.raw, '$.source.appId') AS TEXT)"),
        ("user_id", "CAST(COALESCE(json_extract(v.raw, '$.data.userId'), json_extract(v.raw, '$.data.user.id')) AS TEXT)"),
        ("user_name", "CAST(json_extract(v.raw, '$.data.user.username') AS TEXT)"),
        ("app_id", "CAST(COALESCE(json_extract(v.raw, '$.data.appId'), json_extract(v.raw, '$.data.app.id')) AS TEXT)"),
        ("app_name", """
            CAST(COALESCE(json_extract(v.raw, '$.data.app.fqdn'), json_extract(v.raw, '$.data.newApp.fqdn'),
                          json_extract(v.raw, '$.data.app.subdomain'), json_extract(v.raw, '$.data.app.location')) AS TEXT)
            """),
        ("task_id", "CAST(json_extract(v.raw, '$.data.taskId') AS TEXT)"),
        ("backup_id", "CAST(json_extract(v.raw, '$.data.backupId') AS TEXT)"),
        ("error_message", "CAST(json_extract(v.raw, '$.data.errorMessage') AS TEXT)"),
        ("success", "CASE json_type(v.raw, '$.data.success') WHEN 'true' THEN 1 WHEN 'false' THEN 0 END"),
        ("user_email", "CAST(json_extract(v.raw, '$.data.user.email') AS TEXT)"),
        ("user_role", """
            CAST(COALESCE(json_extract(v.raw, '$.data.user.role'),
                          CASE json_type(v.raw, '$.data.user.admin') WHEN 'true' THEN 'admin' WHEN 'false' THEN 'user' END) AS TEXT)
            """),
        ("user_object", "CASE json_type(v.raw, '$.data.user') WHEN 'object' THEN 1 END"),
        ("admin_status_changed", "CASE json_type(v.raw, '$.data.adminStatusChanged') WHEN 'true' THEN 1 WHEN 'false' THEN 0 END"),
        // oom's columns: app.oom events only (the query oom ran on the raw JSON before schema 15).
        ("oom_addon", "CASE WHEN json_extract(v.raw, '$.action') = 'app.oom' AND json_type(v.raw, '$.data.addon') = 'object' THEN 1 END"),
        ("oom_victim", """
            CASE WHEN json_extract(v.raw, '$.action') = 'app.oom' THEN
                CAST(COALESCE(json_extract(v.raw, '$.data.addon.name'), json_extract(v.raw, '$.data.app.fqdn'),
                              json_extract(v.raw, '$.data.app.subdomain'), json_extract(v.raw, '$.data.app.location'),
                              json_extract(v.raw, '$.data.containerId')) AS TEXT) END
            """),
        ("oom_app_id", "CASE WHEN json_extract(v.raw, '$.action') = 'app.oom' THEN CAST(json_extract(v.raw, '$.data.app.id') AS TEXT) END"),
        ("action", "json_extract(v.raw, '$.action')"),
        ("creation_epoch", "v.creation_epoch"),
        ("event_id", "v.event_id"),
        ("version", "v.version"),
        ("instance_id", "(SELECT instance_id FROM events WHERE id = v.event_id)"),
    ]

    /// Events whose members have the shapes a careless reader gets wrong: numbers, booleans, null, an
    /// object where a string is expected, escapes, a missing first choice of a COALESCE, a login upserted
    /// (two versions of one id).
    static func oddEvents() -> [Event] {
        [
            Fixture.event(id: "odd-1", action: "app.task.crash", epoch: Fixture.baseEpoch + 1,
                          source: ["username": "taskmanager", "userId": NSNull()],
                          data: ["taskId": 4711, "appId": "app-x", "success": false, "errorMessage": "ENOSPC, \"disk\"\nfull"]),
            Fixture.event(id: "odd-2", action: "user.update", epoch: Fixture.baseEpoch + 2,
                          source: ["username": ["nested": "object"], "ip": "192.0.2.\u{31}"],
                          data: ["user": ["id": 42, "username": "zoë \u{1F680}"], "success": "true"]),
            Fixture.event(id: "odd-3", action: "app.clone", epoch: Fixture.baseEpoch + 3, source: ["ip": "2001:db8::1"],
                          data: ["appId": NSNull(), "newApp": ["id": "app-new", "fqdn": "new.example.org"],
                                 "app": ["subdomain": "old", "location": "ignored"], "taskId": 1.5, "backupId": true]),
            Fixture.event(id: "odd-4", action: "app.down", epoch: Fixture.baseEpoch + 4, source: [:],
                          data: ["app": ["id": "app-y", "location": "legacy-location"]]),
            Fixture.login(id: "odd-5", epoch: Fixture.baseEpoch + 5),
            // A 2019 server: admin: true|false instead of a role; a role that is JSON null falls back to it.
            Fixture.event(id: "odd-6", action: "user.update", epoch: Fixture.baseEpoch + 6, source: ["username": "root"],
                          data: ["user": ["id": "u6", "admin": true, "role": NSNull(), "email": "six@example.org"],
                                 "adminStatusChanged": true]),
            // A user that is no object, an admin flag that is no boolean, adminStatusChanged false.
            Fixture.event(id: "odd-7", action: "user.add", epoch: Fixture.baseEpoch + 7, source: [:],
                          data: ["user": "u7", "userId": "u7", "adminStatusChanged": false]),
            Fixture.event(id: "odd-8", action: "user.update", epoch: Fixture.baseEpoch + 8, source: [:],
                          data: ["user": ["id": "u8", "admin": "yes", "email": 8]]),
            // An addon without a name: the container names the victim. An app with only a location and a numeric id.
            Fixture.event(id: "odd-9", action: "app.oom", epoch: Fixture.baseEpoch + 9, source: ["username": "healthmonitor"],
                          data: ["containerId": "c9", "addon": ["image": "mysql"], "app": NSNull()]),
            Fixture.event(id: "odd-10", action: "app.oom", epoch: Fixture.baseEpoch + 10, source: ["username": "healthmonitor"],
                          data: ["containerId": "c10", "app": ["id": 10, "location": "legacy"]]),
        ]
    }

    private func makeArchive(_ folder: borrowing TemporaryFolder) throws -> (path: String, versions: Int64) {
        let path = folder.path("a.db")
        let archive = try Archive(path: path)
        let instance = try archive.instanceID(name: "one", baseURL: "https://one.example.org")
        let run = try archive.beginRun(instance: instance, streams: ["eventlog"], startedAt: Fixture.baseEpoch)
        var stream = SampleEventStream(count: 2_000, days: 3, now: Fixture.baseEpoch)
        var events: [Event] = []
        while let event = stream.next() {
            events.append(Event(id: event.id, action: event.action, creationTime: event.creationTime,
                                epochSeconds: event.epochSeconds, raw: event.json))
        }
        _ = try archive.ingest(events: events + Self.oddEvents(), instance: instance, run: run, seenAt: Fixture.baseEpoch)
        // The login rewritten in place by box: a second version of the same id.
        _ = try archive.ingest(events: [Fixture.login(id: "odd-5", epoch: Fixture.baseEpoch + 900, ip: "198.51.100.99")],
                               instance: instance, run: run, seenAt: Fixture.baseEpoch + 900)
        try archive.finishRun(run, result: .success, finishedAt: Fixture.baseEpoch + 901, counts: RunCounts(), requests: 1, errors: [])
        return (path, try archive.database.scalarInt("SELECT count(*) FROM event_versions") ?? 0)
    }

    /// Rows of `event_fields` that differ from the oracle, by version id and column.
    private func disagreements(_ database: Database) throws -> [String] {
        var found: [String] = []
        let checks = Self.oracle.map { "CASE WHEN f.\($0.column) IS NOT \($0.sql) THEN '\($0.column)' END" }
        try database.forEachRow("""
            SELECT v.id, \(checks.joined(separator: ", ")) FROM event_versions v
            LEFT JOIN event_fields f ON f.version_id = v.id ORDER BY v.id
            """) { row in
            for index in 1 ... Int32(Self.oracle.count) where !row.isNull(at: index) {
                found.append("version \(row.int64(at: 0)): \(row.string(at: index))")
            }
        }
        return found
    }

    @Test func everyVersionsFieldsAreWhatSQLiteReadsFromItsJSON() throws {
        let folder = try TemporaryFolder()
        let (path, versions) = try makeArchive(folder)
        let archive = try Archive(path: path, mode: .readOnly)
        #expect(try archive.database.scalarInt("SELECT count(*) FROM event_fields") == versions)
        let wrong = try disagreements(archive.database)
        #expect(wrong.isEmpty, "\(wrong.prefix(10))")
        // The shapes above are really there (the oracle is not comparing NULL with NULL).
        let odd = try archive.database.scalarString("""
            SELECT group_concat(coalesce(task_id, '-') || '|' || coalesce(app_name, '-') || '|' || coalesce(success, '-'), ' ')
            FROM event_fields f JOIN events e ON e.id = f.event_id WHERE e.api_id LIKE 'odd-%'
            """)
        #expect(odd == "4711|-|0 -|-|- 1.5|new.example.org|- -|legacy-location|- -|-|- -|-|- -|-|- -|-|- -|-|- -|legacy|- -|-|-")
        let users = try archive.database.scalarString("""
            SELECT group_concat(e.api_id || ':' || coalesce(user_role, '-') || '|' || coalesce(user_email, '-') || '|'
                                || coalesce(user_object, '-') || '|' || coalesce(admin_status_changed, '-'), ' ')
            FROM event_fields f JOIN events e ON e.id = f.event_id WHERE e.api_id IN ('odd-2', 'odd-6', 'odd-7', 'odd-8')
            """)
        #expect(users == "odd-2:-|-|1|- odd-6:admin|six@example.org|1|1 odd-7:-|-|-|0 odd-8:-|8|1|-")
        #expect(try archive.database.scalarString(
            "SELECT group_concat(ip, ' ') FROM event_fields f JOIN events e ON e.id = f.event_id WHERE e.api_id = 'odd-5'")
            == "198.51.100.7 198.51.100.99")
        // oom's fields of app.oom events only: odd-4 (app.down) has an app, which gives no victim.
        let ooms = try archive.database.scalarString("""
            SELECT group_concat(e.api_id || ':' || coalesce(oom_addon, '-') || '|' || coalesce(oom_victim, '-') || '|'
                                || coalesce(oom_app_id, '-'), ' ')
            FROM event_fields f JOIN events e ON e.id = f.event_id WHERE e.api_id IN ('odd-4', 'odd-9', 'odd-10')
            """)
        #expect(ooms == "odd-4:-|-|- odd-9:1|c9|- odd-10:-|legacy|10")
        #expect(try archive.database.scalarInt("SELECT count(*) FROM event_fields WHERE action = 'app.oom' AND oom_victim IS NOT NULL") ?? 0 > 10)
        #expect(try archive.verify().isIntact)
    }

    @Test(arguments: ExtractedColumns.events.map(\.name))
    func verifyCatchesAnAlteredExtractedColumn(_ column: String) throws {
        let folder = try TemporaryFolder()
        let (path, _) = try makeArchive(folder)
        let target = try Database(path: path, mode: .readWrite).scalarInt(
            "SELECT min(version_id) FROM event_fields WHERE \(column) IS NOT NULL") ?? 0
        try Database(path: path, mode: .readWrite).execute("""
            UPDATE event_fields SET \(column) = CASE typeof(\(column)) WHEN 'integer' THEN \(column) + 1
                ELSE \(column) || ' (altered)' END WHERE version_id = \(target)
            """)
        let problems = try Archive(path: path, mode: .readOnly).verify().problems
        #expect(problems.map(\.description) == ["extractedFields: event_fields rowid \(target) (id \(try apiID(path, target))): "
                                                + "\(column) differs from what its raw JSON says"])
    }

    /// A column of some actions only must stay NULL for the others: a value there is reported too.
    @Test func verifyCatchesAnActionsColumnSetOnAnotherAction() throws {
        let folder = try TemporaryFolder()
        let (path, _) = try makeArchive(folder)
        let target = try Database(path: path, mode: .readWrite).scalarInt(
            "SELECT min(version_id) FROM event_fields WHERE action = 'app.down' AND app_name IS NOT NULL") ?? 0
        try Database(path: path, mode: .readWrite).execute(
            "UPDATE event_fields SET oom_victim = app_name WHERE version_id = \(target)")
        let problems = try Archive(path: path, mode: .readOnly).verify().problems
        #expect(problems.map(\.description) == ["extractedFields: event_fields rowid \(target) (id \(try apiID(path, target))): "
                                                + "oom_victim differs from what its raw JSON says"])
    }

    @Test func verifyCatchesMissingAndMisplacedFields() throws {
        let folder = try TemporaryFolder()
        let (path, _) = try makeArchive(folder)
        try Database(path: path, mode: .readWrite).execute("""
            DELETE FROM event_fields WHERE version_id = 3; UPDATE event_fields SET action = 'user.logout' WHERE version_id = 7;
            INSERT INTO event_fields(version_id, event_id, version, instance_id, action, creation_epoch)
                VALUES (99999, 1, 1, 1, 'user.login', 0);
            """)
        let problems = try Archive(path: path, mode: .readOnly).verify().problems
        #expect(problems.map { "\($0.check) \($0.rowid ?? 0) \($0.detail)" } == [
            "extractedFields 3 its extracted fields are missing",
            "extractedFields 7 its extracted fields name another event, version, instance, action or time",
            "extractedFields 99999 extracted fields of a version that does not exist",
        ])
    }

    private func apiID(_ path: String, _ versionID: Int64) throws -> String {
        try Database(path: path, mode: .readOnly).scalarString(
            "SELECT e.api_id FROM event_versions v JOIN events e ON e.id = v.event_id WHERE v.id = ?", [.integer(versionID)]) ?? ""
    }

    /// Back to the schema before `event_fields`, as an older cloudron-audit left the file (without the
    /// later migrations' tables too: the upgrade creates them again).
    private func downgrade(_ path: String) throws {
        let version = try #require(ArchiveSchema.migrations.first { $0.fileName.hasSuffix("_event_fields.sql") }?.version)
        try Database(path: path, mode: .readWrite).execute("""
            DROP VIEW user_role_changes; DROP TABLE event_fields; DROP TABLE alarms;
            DELETE FROM schema_migrations WHERE version >= \(version);
            PRAGMA user_version = \(version - 1);
            """)
    }

    private func migrationSQL(_ suffix: String) throws -> String {
        String(decoding: try #require(ArchiveSchema.migrations.first { $0.fileName.hasSuffix(suffix) }).sql, as: UTF8.self)
    }

    /// Back to schema 14, as the cloudron-audit before oom's fields and the covering indexes left the file:
    /// `event_fields` without those columns, the indexes of 0010 and 0012 and the view as they made them.
    private func downgradeToSchema14(_ path: String) throws {
        let added = ExtractedColumns.events.filter { $0.schemaVersion == 15 }.map(\.name)
        #expect(added == ["oom_addon", "oom_victim", "oom_app_id"])
        try Database(path: path, mode: .readWrite).execute(SchemaDowngrade.beforeReportCoveringIndexes(
            userRoleLookupsSQL: try migrationSQL("_user_role_lookups.sql"), reportLookupsSQL: try migrationSQL("_report_lookups.sql")))
    }

    @Test func anArchiveOfSchema14GetsOOMsFieldsAndTheCoveringIndexes() throws {
        let folder = try TemporaryFolder()
        let (path, _) = try makeArchive(folder)
        try downgradeToSchema14(path)
        let old = try Database(path: path, mode: .readOnly)
        #expect(try old.scalarInt("SELECT count(*) FROM pragma_table_info('event_fields') WHERE name LIKE 'oom_%'") == 0)
        #expect(try old.scalarString("SELECT sql FROM sqlite_master WHERE name = 'event_fields_backup_tasks'")?.contains("error_message") == false)
        let seen = Guarded<[UpgradeProgress]>([])
        let upgraded = try Archive(path: path, mode: .readWrite, upgradeProgress: { progress in seen.withLock { $0.append(progress) } })
        #expect(try upgraded.schemaVersion() == ArchiveSchema.currentVersion)
        // The fill reads the app.oom versions only.
        let ooms = Int(try upgraded.database.scalarInt("SELECT count(*) FROM event_fields WHERE action = 'app.oom'") ?? 0)
        #expect(ooms > 10)
        #expect(seen.withLock { $0 }.map { "\($0.migration) \($0.done)/\($0.total)" }
                == ["0015_report_covering_indexes.sql 0/\(ooms)", "0015_report_covering_indexes.sql \(ooms)/\(ooms)"])
        let wrong = try disagreements(upgraded.database)
        #expect(wrong.isEmpty, "\(wrong.prefix(10))")
        let indexes = try upgraded.database.scalarString("""
            SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'index'
                AND (sql LIKE '%error_message%' OR sql LIKE '%user_role, user_object)%' OR name LIKE '%ooms' OR name LIKE '%later%' OR name LIKE '%user_changes')
                ORDER BY name)
            """)
        #expect(indexes == "event_fields_app_backups event_fields_backup_tasks event_fields_later_versions event_fields_ooms "
                           + "event_fields_user_changes event_fields_user_states events_ooms events_user_changes")
        #expect(try upgraded.verify().isIntact)
    }

    /// Back to schema 8, as the cloudron-audit before the user fields left the file: `event_fields` without them
    /// (nor 0010's index of user states).
    private func downgradeToSchema8(_ path: String) throws {
        try downgradeToSchema14(path)
        let added = ExtractedColumns.events.filter { $0.schemaVersion == 9 }.map(\.name)
        #expect(added == ["user_email", "user_role", "user_object", "admin_status_changed"])
        try Database(path: path, mode: .readWrite).execute("""
            DROP VIEW user_role_changes; DROP INDEX event_fields_user_states; \(added.map { "ALTER TABLE event_fields DROP COLUMN \($0);" }.joined(separator: " "))
            DELETE FROM schema_migrations WHERE version >= 9; PRAGMA user_version = 8;
            """)
    }

    @Test func anArchiveOfSchema8GetsTheUserFieldsAndTheRoleHistory() throws {
        let folder = try TemporaryFolder()
        let (path, versions) = try makeArchive(folder)
        let before = try Database(path: path, mode: .readOnly).scalarString(
            "SELECT group_concat(eventId || roleBefore || roleAfter, ' ') FROM user_role_changes WHERE roleBefore IS NOT NULL")
        try downgradeToSchema8(path)
        let seen = Guarded<[UpgradeProgress]>([])
        let upgraded = try Archive(path: path, mode: .readWrite, upgradeProgress: { progress in seen.withLock { $0.append(progress) } })
        #expect(try upgraded.schemaVersion() == ArchiveSchema.currentVersion)
        // One fill, at 0015 (the last migration that adds fields), computes 0009's and 0015's over every version.
        #expect(seen.withLock { $0 }.last { $0.migration == "0015_report_covering_indexes.sql" }.map { [$0.done, $0.total] }
                == [Int(versions), Int(versions)])
        #expect(Set(seen.withLock { $0 }.map(\.migration)) == ["0011_search_text_recomputed.sql", "0015_report_covering_indexes.sql"])
        let wrong = try disagreements(upgraded.database)
        #expect(wrong.isEmpty, "\(wrong.prefix(10))")
        #expect(try upgraded.database.scalarInt("SELECT count(*) FROM event_fields WHERE user_role IS NOT NULL") ?? 0 > 100)
        // The view reads the filled columns as it read those stored at ingest.
        let after = try upgraded.database.scalarString(
            "SELECT group_concat(eventId || roleBefore || roleAfter, ' ') FROM user_role_changes WHERE roleBefore IS NOT NULL")
        #expect(after == before && !(before ?? "").isEmpty)
        #expect(try upgraded.verify().isIntact)
    }

    @Test func anOlderArchiveIsFilledInPlaceOnceWithProgress() throws {
        let folder = try TemporaryFolder()
        let (path, versions) = try makeArchive(folder)
        try downgrade(path)
        let seen = Guarded<[UpgradeProgress]>([])
        let upgraded = try Archive(path: path, mode: .readWrite, upgradeProgress: { progress in seen.withLock { $0.append(progress) } })
        #expect(try upgraded.schemaVersion() == ArchiveSchema.currentVersion)
        // 0007 creates the fields, 0009 adds the user fields and 0015 oom's: one fill, at 0015, computes them all
        // and reports from 0 to every version; 0011 rebuilds the events table: from 0 to every event.
        let reports = seen.withLock { $0 }
        let events = Int(try upgraded.database.scalarInt("SELECT count(*) FROM events") ?? 0)
        let fills = [("0011_search_text_recomputed.sql", events), ("0015_report_covering_indexes.sql", Int(versions))]
        #expect(reports.map(\.migration).reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } } == fills.map(\.0))
        for (fill, total) in fills {
            let own = reports.filter { $0.migration == fill }
            #expect(own.first?.done == 0)
            #expect(own.last.map { [$0.done, $0.total] } == [total, total])
        }
        let wrong = try disagreements(upgraded.database)
        #expect(wrong.isEmpty, "\(wrong.prefix(10))")
        #expect(try upgraded.verify().isIntact)
        // Once: the next open has nothing to do.
        let again = Guarded(0)
        _ = try Archive(path: path, mode: .readWrite, upgradeProgress: { _ in again.withLock { $0 += 1 } })
        #expect(again.withLock { $0 } == 0)
    }

    /// The one pass that fills every extracted field when an upgrade crosses 0007 to the latest schema stores
    /// what ingest stores (the oracle: the archive as ingest wrote it), with the same tables, views and indexes.
    @Test func anUpgradeFromBeforeTheFieldsStoresWhatIngestStored() throws {
        let folder = try TemporaryFolder()
        let (path, versions) = try makeArchive(folder)
        func fields(_ database: Database) throws -> [String] {
            let columns = try database.scalarInt("SELECT count(*) FROM pragma_table_info('event_fields')") ?? 0
            var rows: [String] = []
            try database.forEachRow("SELECT * FROM event_fields ORDER BY version_id") { row in
                rows.append((0 ..< Int32(columns)).map { row.isNull(at: $0) ? "NULL" : "\(row.value(at: $0))" }.joined(separator: "|"))
            }
            return rows
        }
        func schema(_ database: Database) throws -> [String] {
            var objects: [String] = []
            try database.forEachRow("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name") { row in
                objects.append((0 ..< 4).map { row.isNull(at: $0) ? "NULL" : row.string(at: $0) }.joined(separator: " | "))
            }
            return objects
        }
        let ingested = try Database(path: path, mode: .readOnly)
        let (fieldsBefore, schemaBefore) = (try fields(ingested), try schema(ingested))
        #expect(fieldsBefore.count == Int(versions))
        try downgrade(path)
        let upgraded = try Archive(path: path, mode: .readWrite)
        #expect(try fields(upgraded.database) == fieldsBefore)
        #expect(try schema(upgraded.database) == schemaBefore)
        #expect(schemaBefore.filter { $0.hasPrefix("index | event_fields") }.count >= 6)
    }

    /// 0010 replaced 0009's window functions over every user state with indexed lookups per change, and 0015 reads
    /// the changes and lookups from covering indexes: on an archive of schema 9 (0009's view), the upgrade gives the
    /// same rows.
    @Test func theRoleLookupsOf0010GiveTheRowsOf0009sWindowFunctions() throws {
        let folder = try TemporaryFolder()
        let (path, _) = try makeArchive(folder)
        try downgradeToSchema14(path)
        let roles = try #require(ArchiveSchema.migrations.first { $0.fileName.hasSuffix("_user_roles.sql") })
        let lookups = try #require(ArchiveSchema.migrations.first { $0.fileName.hasSuffix("_user_role_lookups.sql") })
        let sql0009 = String(decoding: roles.sql, as: UTF8.self)
        let view0009 = try #require(sql0009.range(of: "CREATE VIEW user_role_changes AS").map { String(sql0009[$0.lowerBound...]) })
        try Database(path: path, mode: .readWrite).execute("""
            DROP VIEW user_role_changes; DROP INDEX event_fields_user_states; \(view0009)
            DELETE FROM schema_migrations WHERE version >= \(lookups.version); PRAGMA user_version = \(lookups.version - 1);
            """)
        let everything = "SELECT * FROM user_role_changes ORDER BY seq"
        func rows(_ database: Database) throws -> [String] {
            var found: [String] = []
            try database.forEachRow(everything) { row in
                found.append((0 ..< 16).map { row.isNull(at: Int32($0)) ? "-" : row.string(at: Int32($0)) }.joined(separator: "|"))
            }
            return found
        }
        let before = try rows(Database(path: path, mode: .readOnly))
        let upgraded = try Archive(path: path, mode: .readWrite)
        #expect(try upgraded.schemaVersion() == ArchiveSchema.currentVersion)
        let after = try rows(upgraded.database)
        #expect(after == before)
        // Not vacuous: changes with a role before, and with a previous state.
        #expect(before.count > 20 && before.contains { $0.split(separator: "|", omittingEmptySubsequences: false)[9] != "-" })
        #expect(before.filter { $0.split(separator: "|", omittingEmptySubsequences: false)[14] != "-" }.count > 10)
    }

    @Test func aReaderWaitsForAnotherProcessesUpgradeInsteadOfFailing() throws {
        let folder = try TemporaryFolder()
        let (path, _) = try makeArchive(folder)
        try downgrade(path)
        // Another process holds the write lock, as an upgrade in progress does, for longer than the
        // ordinary busy timeout.
        let holder = try Database(path: path, mode: .readWrite)
        try holder.execute("BEGIN IMMEDIATE")
        let result = Guarded<Result<Int, any Error>?>(nil)
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let outcome = Result<Int, any Error> { try ReadSession(path: path).status().schemaVersion }
            result.withLock { $0 = outcome }
            finished.signal()
        }
        Thread.sleep(forTimeInterval: Double(Database.busyTimeoutMilliseconds) / 1000 + 1.5)
        #expect(result.withLock { $0 } == nil, "the reader gave up while the archive was locked")
        try holder.execute("ROLLBACK")
        finished.wait()
        let version = try #require(result.withLock { $0 }).get()
        #expect(version == ArchiveSchema.currentVersion)
    }
}

/// A value shared with a closure or thread of the test.
private final class Guarded<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
