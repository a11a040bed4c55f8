import Archiver
import CentralStore
import Foundation
import ScratchPostgres
import Testing

/// `push` and `verify --from` against a real PostgreSQL (see `PostgresCluster`).
@Suite(.serialized) struct PushTests {
    /// Counts by psql, an oracle that shares nothing with our libpq layer.
    private func storeCount(_ cluster: PostgresCluster, _ uri: String, _ table: String) throws -> Int {
        Int(try cluster.psql(uri, "SELECT count(*) FROM cloudron_audit.\(table)")) ?? -1
    }

    @Test func twoArchivesPushIntoOneStoreAndASecondPushSendsNothing() async throws {
        let (cluster, uri) = try await newStoreDatabase()
        // Two machines' archives, each with an instance named "demo": same row ids, same names.
        let first = try await SyncedArchive.make(seed: 11, events: 500)
        let second = try await SyncedArchive.make(seed: 12, events: 350)
        defer { first.finish(); second.finish() }
        try await offThePool {
            let pushedFirst = try first.push(to: uri, batchSize: 97)
            let pushedSecond = try second.push(to: uri)
            let (archiveA, archiveB) = (try first.open(), try second.open())
            #expect(try archiveA.archiveID() != archiveB.archiveID())
            #expect(pushedFirst.chainAfter == (try archiveA.currentChainHead().length))
            #expect(pushedFirst.batches > 5, "97 records per transaction")
            #expect(pushedSecond.chainAfter == (try archiveB.currentChainHead().length))

            for table in try ArchiveLayout(session: first.session()).tables.map(\.name) {
                let sum = try [archiveA, archiveB].reduce(0) { $0 + Int(try $1.database.scalarInt("SELECT count(*) FROM \(table)") ?? 0) }
                #expect(try storeCount(cluster, uri, table) == sum, "\(table)")
            }
            #expect(try storeCount(cluster, uri, "event_versions") > 800)
            #expect(try storeCount(cluster, uri, "task_log_lines") > 0)
            try expectStoreEqualsArchive(uri, first.path)
            try expectStoreEqualsArchive(uri, second.path)

            let again = try first.push(to: uri)
            #expect(again.totalRows == 0 && again.batches == 0, "\(again.rowsSent)")
            #expect(try second.push(to: uri).totalRows == 0)

            let results = try StoreVerification(connection: PostgresConnection(uri: uri)).run()
            #expect(results.count == 2)
            #expect(results.allSatisfy { $0.report.isIntact }, "\(results.map(\.report.problems))")
            #expect(Set(results.map(\.report.chainLength)) == Set([pushedFirst.chainAfter, pushedSecond.chainAfter]))

            // status --from agrees with status on each archive (computed by the archive's own SQLite code).
            let store = try StoreStatus.read(from: PostgresConnection(uri: uri))
            #expect(store.archives.count == 2)
            for synced in [first, second] {
                let local = try synced.session().status()
                let archiveID = try synced.open().archiveID()
                let entry = store.archives.first { $0.archiveID == archiveID }
                #expect(entry?.chain == local.chain)
                #expect(entry?.instances.map(\.name) == local.instances.map(\.name))
                for (instance, pushed) in zip(local.instances, entry?.instances ?? []) {
                    #expect(pushed.lastRunID == instance.lastRun?.id)
                    #expect(pushed.streams.map(\.name) == instance.streams.map(\.name))
                    for (stream, found) in zip(instance.streams, pushed.streams) {
                        #expect([found.objects, found.versions, found.gaps] as [Int] == [stream.objects, stream.versions, stream.gaps.count], "\(stream.name)")
                        #expect(found.oldest == stream.oldest && found.newest == stream.newest, "\(stream.name)")
                    }
                }
            }
        }
    }

    @Test func aLaterPushSendsOnlyWhatIsNewAndAnOlderCopyIsRefused() async throws {
        let (cluster, uri) = try await newStoreDatabase()
        let synced = try await SyncedArchive.make(seed: 21, events: 400)
        defer { synced.finish() }
        let olderCopy = synced.path + ".copy"
        let headBefore = try await offThePool {
            _ = try synced.push(to: uri)
            try FileManager.default.copyItem(atPath: synced.path, toPath: olderCopy)
            return try synced.open().currentChainHead().length
        }
        try await synced.sync()   // new events and rewritten logins since
        try await offThePool {
            let archive = try synced.open()
            let newVersions = Int(try archive.database.scalarInt("SELECT count(*) FROM event_versions WHERE id > ?", [.integer(headBefore)]) ?? 0)
            #expect(newVersions > 0)
            let report = try synced.push(to: uri)
            #expect(report.chainBefore == headBefore)
            #expect(report.rowsSent["event_versions"] == newVersions)
            #expect(report.rowsSent["sync_runs"] != nil, "the new run")
            #expect(report.rowsSent["instances"] == 1, "the demo's new simulator has another base URL")
            try expectStoreEqualsArchive(uri, synced.path)

            let error = #expect(throws: CentralStoreError.self) {
                var push = ArchivePush(archive: try ReadSession(path: olderCopy), connection: try PostgresConnection(uri: uri))
                push.batchSize = 50
                _ = try push.run()
            }
            #expect(error?.kind == .badTarget)
            try expectStoreEqualsArchive(uri, synced.path)
        }
    }

    @Test func extractedFieldsTravelByChainRangeAndReachAStoreThatPredatesThem() async throws {
        let (cluster, uri) = try await newStoreDatabase()
        let synced = try await SyncedArchive.make(seed: 41, events: 300)
        defer { synced.finish() }
        let headBefore = try await offThePool {
            _ = try synced.push(to: uri)
            return try synced.open().currentChainHead().length
        }
        try await synced.sync()   // new events and rewritten logins since
        try await offThePool {
            let archive = try synced.open()
            // One row per event version (its chain sequence): a later push sends the new versions' rows only.
            let newVersions = Int(try archive.database.scalarInt("SELECT count(*) FROM event_versions WHERE id > ?", [.integer(headBefore)]) ?? 0)
            let allFields = Int(try archive.database.scalarInt("SELECT count(*) FROM event_fields") ?? 0)
            #expect(newVersions > 0 && allFields > newVersions)
            let report = try synced.push(to: uri)
            #expect(report.rowsSent["event_fields"] == newVersions, "\(report.rowsSent)")
            try expectStoreEqualsArchive(uri, synced.path)

            // A store filled before the archive had event_fields (schema 6): the table is new to it, and the
            // next push sends every row up to its cursor, though no chain record is new.
            _ = try cluster.psql(uri, """
                DELETE FROM cloudron_audit.event_fields; DELETE FROM cloudron_audit.store_tables WHERE table_name = 'event_fields'
                """)
            let catchUp = try synced.push(to: uri)
            #expect(catchUp.rowsSent["event_fields"] == allFields, "\(catchUp.rowsSent)")
            try expectStoreEqualsArchive(uri, synced.path)
            #expect(try synced.push(to: uri).totalRows == 0)
        }
    }

    /// The report indexes cover a few actions each: mirrored whole, every pushed row would go into each.
    @Test func theArchivesPartialIndexesArePartialInTheStore() async throws {
        let (cluster, uri) = try await newStoreDatabase()
        let synced = try await SyncedArchive.make(seed: 23, events: 200)
        defer { synced.finish() }
        try await offThePool {
            _ = try synced.push(to: uri)
            // Which of the archive's indexes are partial: SQLite's own answer.
            var partial: [String: Bool] = [:]
            for table in try ArchiveLayout(session: synced.session()).tables.map(\.name) {
                try synced.open().database.forEachRow("SELECT name, partial FROM pragma_index_list(?) WHERE origin = 'c'",
                                                      [.text(table)]) { partial[$0.string(at: 0)] = $0.int(at: 1) == 1 }
            }
            #expect(partial["event_fields_logins"] == true && partial["events_by_time"] == false)
            // PostgreSQL's definitions, read back by psql.
            let definitions = try cluster.psql(uri, "SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'cloudron_audit'")
                .split(separator: "\n").map(String.init)
            for (name, isPartial) in partial {
                let definition = definitions.first { $0.hasPrefix(name + " ") }
                #expect(definition != nil, "\(name) is not in the store")
                #expect(definition?.contains(" WHERE ") == isPartial, "\(definition ?? name)")
            }
            let logins = definitions.first { $0.hasPrefix("event_fields_logins ") } ?? ""
            #expect(["'user.login'", "'user.login.ghost'", "'user.logout'", "'app.login'"].allSatisfy(logins.contains), "\(logins)")
            #expect(!logins.contains("+"), "SQLite's unary plus (schema 17) is left out: \(logins)")
            #expect(definitions.first { $0.hasPrefix("event_fields_later_versions ") }?.contains("WHERE (version > 1)") == true)
        }
    }

    @Test func newColumnsAndTablesOfTheArchiveFlowIntoTheStore() async throws {
        let (cluster, uri) = try await newStoreDatabase()
        let synced = try await SyncedArchive.make(seed: 31, events: 300)
        defer { synced.finish() }
        try await offThePool {
            _ = try synced.push(to: uri)
            // What a later migration might do: a column filled for every old row, and a new table.
            do {
                let database = try Database(path: synced.path, mode: .readWrite)
                try database.execute("""
                    ALTER TABLE events ADD COLUMN user_name TEXT;
                    UPDATE events SET user_name = 'u-' || api_id;
                    CREATE TABLE later_findings (id INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL, raw TEXT NOT NULL, reason BLOB);
                    INSERT INTO later_findings(instance_id, raw, reason) VALUES (1, '{"id":', x'00ff'), (1, 'tab	and
                    newline \\ backslash', NULL);
                    """)
            }
            let report = try synced.push(to: uri)
            let archive = try synced.open()
            #expect(report.rowsSent["events"] == Int(try archive.database.scalarInt("SELECT count(*) FROM events") ?? -1))
            #expect(report.rowsSent["later_findings"] == 2)
            try expectStoreEqualsArchive(uri, synced.path)
            #expect(try cluster.psql(uri, "SELECT count(*) FROM cloudron_audit.events WHERE user_name = 'u-' || api_id")
                    == String(report.rowsSent["events"] ?? 0))
            #expect(try synced.push(to: uri).totalRows == 0)
            #expect(try StoreVerification(connection: PostgresConnection(uri: uri)).run().allSatisfy { $0.report.isIntact })
        }
    }

    /// Schema 11 took the events' search text out of the events table: a store filled by archives of schema 10
    /// has those columns, NOT NULL. An upgraded archive's push (every events row again: its column list changed)
    /// and later pushes leave them NULL; the rows of archives pushed before keep theirs.
    @Test func columnsTheArchiveNoLongerHasStayInTheStoreAsNullable() async throws {
        let (cluster, uri) = try await newStoreDatabase()
        let synced = try await SyncedArchive.make(seed: 43, events: 300)
        let other = try await SyncedArchive.make(seed: 44, events: 100)
        defer { synced.finish(); other.finish() }
        try await offThePool {
            _ = try synced.push(to: uri)
            _ = try other.push(to: uri)
            // The store as schema 10's pushes made it: the text columns, NOT NULL, filled, in the recorded column list.
            _ = try cluster.psql(uri, """
                ALTER TABLE cloudron_audit.events ADD COLUMN source_text text, ADD COLUMN data_text text;
                UPDATE cloudron_audit.events SET source_text = 'src ' || api_id, data_text = 'data ' || api_id;
                ALTER TABLE cloudron_audit.events ALTER COLUMN source_text SET NOT NULL, ALTER COLUMN data_text SET NOT NULL;
                UPDATE cloudron_audit.store_tables SET columns = columns || ', source_text, data_text' WHERE table_name = 'events'
                """)
        }
        try await synced.sync()   // new events and rewritten logins since
        try await offThePool {
            let report = try synced.push(to: uri)
            let events = Int(try synced.open().database.scalarInt("SELECT count(*) FROM events") ?? -1)
            #expect(report.rowsSent["events"] ?? 0 >= events, "\(report.rowsSent)")
            try expectStoreEqualsArchive(uri, synced.path)
            let id = try synced.session().archiveID()
            #expect(try cluster.psql(uri, "SELECT count(*) FROM cloudron_audit.events WHERE archive_id = '\(id)' AND source_text IS NULL")
                    == String(events))
            let otherEvents = try other.open().database.scalarInt("SELECT count(*) FROM events") ?? -1
            #expect(try cluster.psql(uri, "SELECT count(*) FROM cloudron_audit.events WHERE archive_id <> '\(id)' AND data_text = 'data ' || api_id")
                    == String(otherEvents) && otherEvents > 0)
            #expect(try synced.push(to: uri).totalRows == 0)
            #expect(try StoreVerification(connection: PostgresConnection(uri: uri)).run().allSatisfy { $0.report.isIntact })
        }
    }

    @Test func verifyFromTheStoreFindsOneAlteredRowAndDeletedNewestRecords() async throws {
        let (cluster, uri) = try await newStoreDatabase()
        let synced = try await SyncedArchive.make(seed: 41, events: 300)
        defer { synced.finish() }
        try await offThePool {
            _ = try synced.push(to: uri)
            let id = try synced.open().archiveID()
            func firstProblem() throws -> VerificationReport.Problem? {
                try StoreVerification(connection: PostgresConnection(uri: uri)).run().first { $0.archiveID == id }?.report.firstProblem
            }
            #expect(try firstProblem() == nil)

            // One changed field of one version row, as an intruder with SQL access would do.
            try cluster.psql(uri, "UPDATE cloudron_audit.event_versions SET first_seen_at = first_seen_at + 1 WHERE archive_id = '\(id)' AND id = 7")
            let altered = try firstProblem()
            #expect(altered?.table == "event_versions" && altered?.rowid == 7 && altered?.check == .chain, "\(String(describing: altered))")
            try cluster.psql(uri, "UPDATE cloudron_audit.event_versions SET first_seen_at = first_seen_at - 1 WHERE archive_id = '\(id)' AND id = 7")
            #expect(try firstProblem() == nil)

            // A task log line rewritten: caught through its log's chain record.
            try cluster.psql(uri, "UPDATE cloudron_audit.task_log_lines SET message = message || '!' WHERE archive_id = '\(id)' AND line_no = 0 AND log_id = (SELECT min(log_id) FROM cloudron_audit.task_log_lines WHERE archive_id = '\(id)')")
            #expect(try firstProblem()?.table == "task_logs")
        }
    }

    @Test func theNewestRecordsDeletedFromTheStoreAreFound() async throws {
        let (cluster, uri) = try await newStoreDatabase()
        let synced = try await SyncedArchive.make(seed: 42, events: 200)
        defer { synced.finish() }
        try await offThePool {
            _ = try synced.push(to: uri)
            let id = try synced.open().archiveID()
            try cluster.psql(uri, """
                DELETE FROM cloudron_audit.event_versions WHERE archive_id = '\(id)'
                  AND id = (SELECT max(id) FROM cloudron_audit.event_versions WHERE archive_id = '\(id)')
                """)
            let report = try StoreVerification(connection: PostgresConnection(uri: uri)).run().first { $0.archiveID == id }?.report
            #expect(report?.isIntact == false)
            #expect(report?.firstProblem?.check == .anchor, "\(String(describing: report?.firstProblem))")
        }
    }

    @Test func badURLsCredentialsAndForeignDatabasesAreRefusedWithTheArchiveUntouched() async throws {
        let cluster = try await offThePool { try PostgresCluster.shared() }
        let synced = try await SyncedArchive.make(seed: 51, events: 100)
        defer { synced.finish() }
        try await offThePool {
            let before = try Data(contentsOf: URL(fileURLWithPath: synced.path))
            func kind(_ uri: String) -> CentralStoreError.Kind? {
                do {
                    _ = try synced.push(to: uri)
                    return nil
                } catch let error as CentralStoreError {
                    return error.kind
                } catch {
                    Issue.record("unexpected \(error)")
                    return nil
                }
            }
            #expect(kind("mysql://auditor@127.0.0.1/x") == .badURL)
            #expect(kind("postgresql://auditor:hunter2@127.0.0.1:\(cluster.port)/postgres") == .badURL)
            #expect(kind("postgresql://auditor@127.0.0.1:\(cluster.port)/x?nonsense=1") == .badURL)
            // Port 1: nobody listens there.
            #expect(kind("postgresql://auditor@127.0.0.1:1/postgres?connect_timeout=5") == .unavailable)
            #expect(kind("postgresql://intruder@127.0.0.1:\(cluster.port)/postgres?passfile=\(cluster.passfile)") == .permissionDenied)
            let wrongPassfile = cluster.folder + "/wrong-pgpass"
            try "127.0.0.1:*:*:\(PostgresCluster.user):not-the-password\n".write(toFile: wrongPassfile, atomically: true, encoding: .utf8)
            chmod(wrongPassfile, 0o600)
            #expect(kind("postgresql://\(PostgresCluster.user)@127.0.0.1:\(cluster.port)/postgres?passfile=\(wrongPassfile)") == .permissionDenied)

            let foreign = try cluster.makeDatabase()
            try cluster.psql(foreign, "CREATE SCHEMA cloudron_audit; CREATE TABLE cloudron_audit.events (id int)")
            #expect(kind(foreign) == .badTarget)
            #expect(try cluster.psql(foreign, "SELECT count(*) FROM pg_tables WHERE schemaname = 'cloudron_audit'") == "1")

            let newer = try cluster.makeDatabase()
            _ = try synced.push(to: newer)
            try cluster.psql(newer, "UPDATE cloudron_audit.store_info SET value = '99' WHERE key = 'format'")
            #expect(kind(newer) == .schemaTooNew(found: 99, supported: CentralSchema.formatVersion))
            #expect(try Data(contentsOf: URL(fileURLWithPath: synced.path)) == before, "the archive is never written by push")
        }
    }
}
