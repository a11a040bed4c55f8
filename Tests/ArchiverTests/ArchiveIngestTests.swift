import Client
import Foundation
import Testing
@testable import Archiver

@Suite struct ArchiveIngestTests {
    private func versions(_ archive: Archive, of apiID: String) throws -> [(version: Int64, raw: String, firstSeen: Int64)] {
        var rows: [(Int64, String, Int64)] = []
        try archive.database.forEachRow("""
            SELECT v.version, v.raw, v.first_seen_at FROM event_versions v JOIN events e ON e.id = v.event_id
            WHERE e.api_id = ? ORDER BY v.version
            """, [.text(apiID)]) { rows.append(($0.int64(at: 0), $0.string(at: 1), $0.int64(at: 2))) }
        return rows
    }

    private func search(_ archive: Archive, _ query: String, table: String = "events") throws -> [String] {
        var ids: [String] = []
        try archive.database.forEachRow("""
            SELECT c.api_id FROM \(table)_fts f JOIN \(table) c ON c.id = f.rowid WHERE \(table)_fts MATCH ? ORDER BY c.api_id
            """, [.text(query)]) { ids.append($0.string(at: 0)) }
        return ids
    }

    @Test func newUnchangedAndChangedEventsKeepEveryVersion() throws {
        let folder = try TemporaryFolder()
        let t = try ArchiveUnderTest(path: folder.path("a.db"))
        let install = Fixture.appInstall(id: "ev-install", epoch: Fixture.baseEpoch)
        let login = Fixture.login(id: "ev-login", epoch: Fixture.baseEpoch + 5)

        let first = try t.archive.ingest(events: [install, login, login], instance: t.instance, run: t.run, seenAt: 1000)
        #expect(first == IngestCounts(inserted: 2, changed: 0, unchanged: 1))   // a duplicate within a batch is harmless

        let again = try t.archive.ingest(events: [login, install], instance: t.instance, run: t.run, seenAt: 2000)
        #expect(again == IngestCounts(inserted: 0, changed: 0, unchanged: 2))

        // user.login upserted in place: same id, new time and data.
        let upserted = Fixture.login(id: "ev-login", epoch: Fixture.baseEpoch + 3600, ip: "192.0.2.99")
        let third = try t.archive.ingest(events: [upserted], instance: t.instance, run: t.run, seenAt: 3000)
        #expect(third == IngestCounts(inserted: 0, changed: 1, unchanged: 0))

        // Coming back to the first content is a change again, not a duplicate of version 1.
        let fourth = try t.archive.ingest(events: [login], instance: t.instance, run: t.run, seenAt: 4000)
        #expect(fourth == IngestCounts(inserted: 0, changed: 1, unchanged: 0))

        let history = try versions(t.archive, of: "ev-login")
        #expect(history.map(\.version) == [1, 2, 3])
        #expect(history.map(\.raw) == [login.raw, upserted.raw, login.raw].map { String(decoding: $0, as: UTF8.self) })
        #expect(history.map(\.firstSeen) == [1000, 3000, 4000])
        #expect(try versions(t.archive, of: "ev-install").count == 1)

        // The current row follows the latest version.
        #expect(try t.archive.database.scalarInt("SELECT version FROM events WHERE api_id = 'ev-login'") == 3)
        #expect(try t.archive.database.scalarInt("SELECT creation_epoch FROM events WHERE api_id = 'ev-login'") == Fixture.baseEpoch + 5)
        #expect(try t.archive.newestEventEpoch(instance: t.instance) == Fixture.baseEpoch + 5)
        #expect(try t.archive.eventCount(instance: t.instance, since: Fixture.baseEpoch + 1) == 1)
        #expect(try t.archive.verify().isIntact)
    }

    @Test func rawBytesAreStoredExactlyAsReceived() throws {
        let folder = try TemporaryFolder()
        let t = try ArchiveUnderTest(path: folder.path("a.db"))
        // Whitespace, key order, escapes and an unknown field: all kept byte for byte.
        let raw = Array(#"{ "id":"ev-odd","action":"app.future.thing", "creationTime":"2026-11-18T11:06:40.000Z","source":{"username":"z\u00fcrich\n"},"data":{"x":[1,2.50,true,null]},"new":{} }"#.utf8)
        let event = Event(id: "ev-odd", action: "app.future.thing", creationTime: "2026-11-18T11:06:40.000Z",
                          epochSeconds: Fixture.baseEpoch, raw: raw)
        _ = try t.archive.ingest(events: [event], instance: t.instance, run: t.run, seenAt: 1)
        let stored = try t.archive.database.withStatement("SELECT raw FROM event_versions") { s in
            try s.step() ? s.bytes(at: 0) : []
        }
        #expect(stored == raw)
        #expect(try search(t.archive, "zürich") == ["ev-odd"])
        #expect(try search(t.archive, "\"2.50\"") == ["ev-odd"])
        #expect(try t.archive.verify().isIntact)
    }

    @Test func fullTextSearchFindsValuesNotKeysAndFollowsVersions() throws {
        let folder = try TemporaryFolder()
        let t = try ArchiveUnderTest(path: folder.path("a.db"))
        _ = try t.archive.ingest(events: [Fixture.appInstall(id: "ev-1", epoch: Fixture.baseEpoch, subdomain: "wiki"),
                                          Fixture.login(id: "ev-2", epoch: Fixture.baseEpoch + 1, ip: "198.51.100.7")],
                                 instance: t.instance, run: t.run, seenAt: 1)
        #expect(try search(t.archive, "alice") == ["ev-1"])                 // a source value
        #expect(try search(t.archive, "\"wiki.example.org\"") == ["ev-1"])   // a nested data value
        #expect(try search(t.archive, "\"198.51.100.7\"") == ["ev-2"])
        #expect(try search(t.archive, "source_text:oidc") == ["ev-2"])
        #expect(try search(t.archive, "action:\"user.login\"") == ["ev-2"])
        #expect(try search(t.archive, "username").isEmpty)                  // a key, never a value
        #expect(try search(t.archive, "manifest").isEmpty)
        #expect(try search(t.archive, "installationState").isEmpty)

        // The login is upserted from another address: the index forgets the old one.
        _ = try t.archive.ingest(events: [Fixture.login(id: "ev-2", epoch: Fixture.baseEpoch + 60, ip: "192.0.2.99")],
                                 instance: t.instance, run: t.run, seenAt: 2)
        #expect(try search(t.archive, "\"192.0.2.99\"") == ["ev-2"])
        #expect(try search(t.archive, "\"198.51.100.7\"").isEmpty)
        // verify compares the index with an index of the text recomputed from each event's latest version.
        #expect(try t.archive.verify().isIntact)
    }

    @Test func longProseValuesAreNotIndexed() throws {
        let folder = try TemporaryFolder()
        let t = try ArchiveUnderTest(path: folder.path("a.db"))
        let prose = "zyzzyva " + String(repeating: "an app store description that goes on and on ", count: 6)
        #expect(prose.utf8.count > SearchText.maximumValueBytes)
        let event = Fixture.event(id: "ev-long", action: "app.update", epoch: Fixture.baseEpoch, source: ["username": "carol"],
                                  data: ["manifest": ["description": prose, "title": "Gitea"]])
        _ = try t.archive.ingest(events: [event], instance: t.instance, run: t.run, seenAt: 1)
        #expect(try search(t.archive, "gitea") == ["ev-long"])
        #expect(try search(t.archive, "zyzzyva").isEmpty)
        #expect(try t.archive.database.scalarInt("SELECT count(*) FROM event_versions WHERE raw LIKE '%zyzzyva%'") == 1)
    }

    @Test func notificationsTasksAndTaskLogsAreVersioned() throws {
        let folder = try TemporaryFolder()
        let t = try ArchiveUnderTest(path: folder.path("a.db"))
        try t.fillWithEveryKind()
        let db = t.archive.database
        #expect(try db.scalarInt("SELECT count(*) FROM notification_versions") == 2)
        #expect(try db.scalarInt("SELECT acknowledged FROM notifications WHERE api_id = '7'") == 1)
        #expect(try search(t.archive, "\"mnt/backup\"", table: "notifications") == ["7"])
        #expect(try db.scalarInt("SELECT count(*) FROM task_versions v JOIN tasks t ON t.id = v.task_id WHERE t.api_id = '412'") == 2)
        #expect(try db.scalarInt("SELECT finished FROM tasks WHERE api_id = '412'") == 1)
        #expect(try search(t.archive, "uploaded", table: "tasks") == ["412"])
        #expect(try search(t.archive, "uploading", table: "tasks").isEmpty)
        #expect(try db.scalarInt("SELECT line_count FROM task_logs l JOIN tasks t ON t.id = l.task_id WHERE t.api_id = '412'") == 2)
        #expect(try db.scalarInt("SELECT rotated FROM task_logs l JOIN tasks t ON t.id = l.task_id WHERE t.api_id = '413'") == 1)
        #expect(try db.scalarString("SELECT message FROM task_log_lines ORDER BY line_no DESC LIMIT 1") == "Uploading 3 files to s3")
        #expect(try t.archive.tasksAwaitingLogs(instance: t.instance).isEmpty)
        // Storing a log twice keeps the first one.
        try t.archive.storeTaskLog(instance: t.instance, taskId: "412", log: TaskLog(lines: []), run: t.run, seenAt: 9)
        #expect(try db.scalarInt("SELECT count(*) FROM task_logs") == 2)
        #expect(try t.archive.verify().isIntact)
    }

    @Test func tasksAwaitingLogsAreTheFinishedOnesWithoutALog() throws {
        let folder = try TemporaryFolder()
        let t = try ArchiveUnderTest(path: folder.path("a.db"))
        _ = try t.archive.ingest(tasks: [
            Fixture.task(id: "20", epoch: Fixture.baseEpoch + 20, percent: 100, active: false, message: "Done"),
            Fixture.task(id: "10", epoch: Fixture.baseEpoch + 10, percent: 40, active: false, message: "Interrupted", error: "crashed"),
            Fixture.task(id: "30", epoch: Fixture.baseEpoch + 30, percent: 50, active: true, message: "Running"),
        ], instance: t.instance, run: t.run, seenAt: 1)
        #expect(try t.archive.tasksAwaitingLogs(instance: t.instance) == ["10", "20"])
        try t.archive.storeTaskLog(instance: t.instance, taskId: "10", log: TaskLog(lines: [Fixture.logLine(task: "10", micros: 1, message: "x")]),
                                   run: t.run, seenAt: 2)
        #expect(try t.archive.tasksAwaitingLogs(instance: t.instance) == ["20"])
        // A log whose only line is no log line was not rotated away: stored empty, the line in quarantine.
        let bad = MalformedObject(raw: Array("{\"message\":\"x\"}".utf8), reason: "task log line without realtimeTimestamp", id: nil, index: 0)
        try t.archive.storeTaskLog(instance: t.instance, taskId: "20", log: TaskLog(lines: [], malformed: [bad]), run: t.run, seenAt: 3)
        #expect(try t.archive.tasksAwaitingLogs(instance: t.instance).isEmpty)
        let db = t.archive.database
        #expect(try db.scalarInt("SELECT rotated FROM task_logs l JOIN tasks t ON t.id = l.task_id WHERE t.api_id = '20'") == 0)
        #expect(try db.scalarString("SELECT stream || ' ' || reason || ' ' || raw FROM quarantine WHERE api_id IS NULL")
                == "tasks line 1 of task 20's log: task log line without realtimeTimestamp {\"message\":\"x\"}")
        // Stored once: a second answer for the same task changes nothing, its bad lines included.
        try t.archive.storeTaskLog(instance: t.instance, taskId: "20", log: TaskLog(lines: [], malformed: [
            MalformedObject(raw: Array("y".utf8), reason: "not JSON", id: nil, index: 0)]), run: t.run, seenAt: 4)
        #expect(try db.scalarInt("SELECT count(*) FROM quarantine") == 1)
        #expect(try t.archive.verify().isIntact)
        #expect(throws: SQLiteError.self) {
            try t.archive.storeTaskLog(instance: t.instance, taskId: "999", log: TaskLog(lines: []), run: t.run, seenAt: 2)
        }
    }

    @Test func readBackGivesCurrentStateOrEveryVersion() throws {
        let folder = try TemporaryFolder()
        let t = try ArchiveUnderTest(path: folder.path("a.db"))
        try t.fillWithEveryKind()
        var current: [ArchivedObject] = []
        try t.archive.forEachObject(.events) { current.append($0) }
        #expect(current.map(\.apiID) == ["ev-1", "ev-2"])
        #expect(current.map(\.version) == [1, 2])
        #expect(current[1].raw == Fixture.login(id: "ev-2", epoch: Fixture.baseEpoch + 50, ip: "192.0.2.99").raw)
        var history: [ArchivedObject] = []
        try t.archive.forEachObject(.events, history: true, instance: "my.example.org") { history.append($0) }
        #expect(history.map { "\($0.apiID)/\($0.version)/\($0.isCurrent)" } == ["ev-1/1/true", "ev-2/1/false", "ev-2/2/true"])
        #expect(history.map(\.firstSeenAt) == [Fixture.baseEpoch + 100, Fixture.baseEpoch + 100, Fixture.baseEpoch + 200])
        var none = 0
        try t.archive.forEachObject(.tasks, instance: "unknown") { _ in none += 1 }
        #expect(none == 0)
        var tasks: [String] = []
        try t.archive.forEachObject(.tasks, history: true) { tasks.append("\($0.apiID)/\($0.version)") }
        #expect(tasks == ["412/1", "412/2", "413/1"])
    }

    @Test func instancesAreSeparate() throws {
        let folder = try TemporaryFolder()
        let t = try ArchiveUnderTest(path: folder.path("a.db"))
        let other = try t.archive.instanceID(name: "other.example.org", baseURL: "https://other.example.org")
        #expect(other != t.instance)
        #expect(try t.archive.instanceID(name: "my.example.org", baseURL: "https://moved.example.org") == t.instance)
        let event = Fixture.appInstall(id: "same-id", epoch: Fixture.baseEpoch)
        #expect(try t.archive.ingest(events: [event], instance: t.instance, run: t.run, seenAt: 1).inserted == 1)
        #expect(try t.archive.ingest(events: [event], instance: other, run: t.run, seenAt: 1).inserted == 1)
        #expect(try t.archive.database.scalarString("SELECT base_url FROM instances WHERE id = ?", [.integer(t.instance)])
                == "https://moved.example.org")
    }

    @Test func failedTransactionLeavesNothingAndTheChainIntact() throws {
        struct Abort: Error {}
        let folder = try TemporaryFolder()
        let t = try ArchiveUnderTest(path: folder.path("a.db"))
        _ = try t.archive.ingest(events: [Fixture.appInstall(id: "kept", epoch: Fixture.baseEpoch)], instance: t.instance,
                                 run: t.run, seenAt: 1)
        #expect(throws: Abort.self) {
            try t.archive.transaction {
                _ = try t.archive.ingest(events: [Fixture.login(id: "lost", epoch: Fixture.baseEpoch)], instance: t.instance,
                                         run: t.run, seenAt: 2)
                try t.archive.saveStreamState(instance: t.instance, stream: "eventlog", state: Array("page 2".utf8))
                throw Abort()
            }
        }
        #expect(try t.archive.database.scalarInt("SELECT count(*) FROM events") == 1)
        #expect(try t.archive.streamState(instance: t.instance, stream: "eventlog") == nil)
        _ = try t.archive.ingest(events: [Fixture.login(id: "next", epoch: Fixture.baseEpoch)], instance: t.instance,
                                 run: t.run, seenAt: 3)
        try t.archive.saveStreamState(instance: t.instance, stream: "eventlog", state: Array("page 3".utf8))
        #expect(try t.archive.streamState(instance: t.instance, stream: "eventlog") == Array("page 3".utf8))
        let report = try t.archive.verify()
        #expect(report.isIntact, "\(report.problems)")
        #expect(report.chainLength == 2)
    }
}
