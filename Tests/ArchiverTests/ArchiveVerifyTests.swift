import Foundation
import Testing
import Client
@testable import Archiver

/// One edit made behind the archive's back, with SQL as a user of `sqlite3` would, and the chain
/// record that `verify` must name as the first broken one.
struct Tampering: Sendable, CustomTestStringConvertible {
    let sql: String
    let table: String
    let rowid: Int64
    let apiID: String
    var testDescription: String { sql }
}

/// One current-state column of one table, altered by `everyCurrentStateColumnIsVerified`.
struct CurrentStateColumnCase: Sendable, CustomTestStringConvertible {
    let table: String
    let column: String
    var testDescription: String { "\(table).\(column)" }
}

@Suite struct ArchiveVerifyTests {
    /// Chain order of `fillWithEveryKind`: 1 event ev-1, 2 event ev-2, 3 notification 7, 4 task 412,
    /// 5 task 413, 6 event ev-2 v2, 7 notification 7 v2, 8 task 412 v2, 9 log of 412, 10 log of 413.
    static let tamperings: [Tampering] = [
        // event_versions: every column
        .init(sql: "UPDATE event_versions SET raw = replace(raw, 'alice', 'mallory') WHERE id = 1", table: "event_versions", rowid: 1, apiID: "ev-1"),
        .init(sql: "UPDATE event_versions SET content_hash = zeroblob(32) WHERE id = 2", table: "event_versions", rowid: 2, apiID: "ev-2"),
        .init(sql: "UPDATE event_versions SET creation_epoch = creation_epoch + 1 WHERE id = 6", table: "event_versions", rowid: 6, apiID: "ev-2"),
        .init(sql: "UPDATE event_versions SET first_seen_at = first_seen_at - 86400 WHERE id = 6", table: "event_versions", rowid: 6, apiID: "ev-2"),
        .init(sql: "UPDATE event_versions SET run_id = (SELECT max(id) FROM sync_runs) WHERE id = 2", table: "event_versions", rowid: 2, apiID: "ev-2"),
        .init(sql: "UPDATE event_versions SET version = 7 WHERE id = 6", table: "event_versions", rowid: 6, apiID: "ev-2"),
        .init(sql: "UPDATE event_versions SET event_id = (SELECT id FROM events WHERE api_id = 'ev-1') WHERE id = 6", table: "event_versions", rowid: 6, apiID: "ev-1"),
        .init(sql: "UPDATE event_versions SET chain_link = zeroblob(32) WHERE id = 2", table: "event_versions", rowid: 2, apiID: "ev-2"),
        .init(sql: "UPDATE events SET api_id = 'forged' WHERE api_id = 'ev-1'", table: "event_versions", rowid: 1, apiID: "forged"),
        // notification_versions
        .init(sql: "UPDATE notification_versions SET raw = replace(raw, 'Disk full', 'All fine') WHERE id = 3", table: "notification_versions", rowid: 3, apiID: "7"),
        .init(sql: "UPDATE notification_versions SET content_hash = zeroblob(32) WHERE id = 7", table: "notification_versions", rowid: 7, apiID: "7"),
        .init(sql: "UPDATE notification_versions SET creation_epoch = 0 WHERE id = 7", table: "notification_versions", rowid: 7, apiID: "7"),
        .init(sql: "UPDATE notification_versions SET first_seen_at = first_seen_at + 1 WHERE id = 3", table: "notification_versions", rowid: 3, apiID: "7"),
        .init(sql: "UPDATE notification_versions SET run_id = (SELECT max(id) FROM sync_runs) WHERE id = 3", table: "notification_versions", rowid: 3, apiID: "7"),
        .init(sql: "UPDATE notification_versions SET version = 9 WHERE id = 7", table: "notification_versions", rowid: 7, apiID: "7"),
        .init(sql: "UPDATE notification_versions SET chain_link = zeroblob(32) WHERE id = 7", table: "notification_versions", rowid: 7, apiID: "7"),
        // task_versions
        .init(sql: "UPDATE task_versions SET raw = replace(raw, 'Uploading', 'Idle') WHERE id = 4", table: "task_versions", rowid: 4, apiID: "412"),
        .init(sql: "UPDATE task_versions SET content_hash = zeroblob(32) WHERE id = 5", table: "task_versions", rowid: 5, apiID: "413"),
        .init(sql: "UPDATE task_versions SET creation_epoch = creation_epoch - 1 WHERE id = 8", table: "task_versions", rowid: 8, apiID: "412"),
        .init(sql: "UPDATE task_versions SET first_seen_at = 0 WHERE id = 8", table: "task_versions", rowid: 8, apiID: "412"),
        .init(sql: "UPDATE task_versions SET run_id = (SELECT max(id) FROM sync_runs) WHERE id = 5", table: "task_versions", rowid: 5, apiID: "413"),
        .init(sql: "UPDATE task_versions SET version = 3 WHERE id = 8", table: "task_versions", rowid: 8, apiID: "412"),
        .init(sql: "UPDATE task_versions SET chain_link = zeroblob(32) WHERE id = 4", table: "task_versions", rowid: 4, apiID: "412"),
        // task_logs and their lines
        .init(sql: "UPDATE task_logs SET rotated = 0 WHERE id = 10", table: "task_logs", rowid: 10, apiID: "413"),
        .init(sql: "UPDATE task_logs SET line_count = 1 WHERE id = 9", table: "task_logs", rowid: 9, apiID: "412"),
        .init(sql: "UPDATE task_logs SET content_hash = zeroblob(32) WHERE id = 9", table: "task_logs", rowid: 9, apiID: "412"),
        .init(sql: "UPDATE task_logs SET first_seen_at = 1 WHERE id = 10", table: "task_logs", rowid: 10, apiID: "413"),
        .init(sql: "UPDATE task_logs SET run_id = (SELECT max(id) FROM sync_runs) WHERE id = 9", table: "task_logs", rowid: 9, apiID: "412"),
        .init(sql: "UPDATE task_logs SET chain_link = zeroblob(32) WHERE id = 10", table: "task_logs", rowid: 10, apiID: "413"),
        .init(sql: "UPDATE task_log_lines SET message = 'nothing happened' WHERE log_id = 9 AND line_no = 1", table: "task_logs", rowid: 9, apiID: "412"),
        .init(sql: "UPDATE task_log_lines SET timestamp_us = timestamp_us + 1 WHERE log_id = 9 AND line_no = 0", table: "task_logs", rowid: 9, apiID: "412"),
        .init(sql: "UPDATE task_log_lines SET raw = replace(raw, 's3', 'ftp') WHERE log_id = 9", table: "task_logs", rowid: 9, apiID: "412"),
        .init(sql: "UPDATE task_log_lines SET line_no = 5 WHERE log_id = 9 AND line_no = 1", table: "task_logs", rowid: 9, apiID: "412"),
        .init(sql: "DELETE FROM task_log_lines WHERE log_id = 9 AND line_no = 0", table: "task_logs", rowid: 9, apiID: "412"),
        // Swapping two rows' content, and reordering two records.
        .init(sql: """
            UPDATE event_versions SET raw = CASE id WHEN 1 THEN (SELECT raw FROM event_versions WHERE id = 2)
                                                    ELSE (SELECT raw FROM event_versions WHERE id = 1) END WHERE id IN (1, 2)
            """, table: "event_versions", rowid: 1, apiID: "ev-1"),
        .init(sql: """
            UPDATE event_versions SET id = -1 WHERE id = 2; UPDATE event_versions SET id = 2 WHERE id = 6;
            UPDATE event_versions SET id = 6 WHERE id = -1
            """, table: "event_versions", rowid: 2, apiID: "ev-2"),
    ]

    private func makeArchive(_ folder: borrowing TemporaryFolder) throws -> String {
        let path = folder.path("a.db")
        let t = try ArchiveUnderTest(path: path)
        try t.fillWithEveryKind()
        try t.archive.finishRun(t.run, result: .success, finishedAt: Fixture.baseEpoch + 300, counts: RunCounts(), requests: 4, errors: [])
        // A second run, so that a run id can be swapped for another valid one.
        let second = try t.archive.beginRun(instance: t.instance, streams: ["eventlog"], startedAt: Fixture.baseEpoch + 400)
        try t.archive.finishRun(second, result: .success, finishedAt: Fixture.baseEpoch + 401, counts: RunCounts(), requests: 1, errors: [])
        return path
    }

    private func tamper(_ path: String, _ sql: String) throws {
        let connection = try Database(path: path, mode: .readWrite)
        try connection.execute(sql)
    }

    @Test func intactArchiveVerifies() throws {
        let folder = try TemporaryFolder()
        let path = try makeArchive(folder)
        for mode in [Archive.AccessMode.readOnly, .readWrite] {
            let report = try Archive(path: path, mode: mode).verify()
            #expect(report.isIntact, "\(report.problems)")
            #expect(report.chainLength == 10)
            #expect(report.skipped.isEmpty)
        }
        let status = try Archive(path: path, mode: .readOnly).status()
        #expect(status.chain.length == 10)
        #expect(status.chain.head == (try Archive(path: path, mode: .readOnly).verify().chainHead))
    }

    @Test(arguments: tamperings)
    func tamperedRecordIsNamed(_ tampering: Tampering) throws {
        let folder = try TemporaryFolder()
        let path = try makeArchive(folder)
        try tamper(path, tampering.sql)
        let report = try Archive(path: path, mode: .readOnly).verify()
        #expect(!report.isIntact)
        let first = try #require(report.firstProblem)
        #expect(first.check == .chain, "\(report.problems)")
        #expect(first.table == tampering.table)
        #expect(first.rowid == tampering.rowid)
        #expect(first.apiID == tampering.apiID)
        #expect(first.description.contains("\(tampering.table) rowid \(tampering.rowid)"))
    }

    @Test func deletedRecordIsNamed() throws {
        let folder = try TemporaryFolder()
        let path = try makeArchive(folder)
        try tamper(path, "DELETE FROM event_versions WHERE id = 2")
        let first = try #require(try Archive(path: path, mode: .readOnly).verify().firstProblem)
        #expect(first.check == .chain)
        #expect(first.detail.contains("chain record 2 is missing"))
        #expect(first.table == "notification_versions" && first.rowid == 3)
    }

    @Test func deletingTheNewestRecordsIsCaughtByTheRunsAnchor() throws {
        let folder = try TemporaryFolder()
        let path = try makeArchive(folder)
        try tamper(path, "DELETE FROM task_logs WHERE id = 10")
        let report = try Archive(path: path, mode: .readOnly).verify()
        let first = try #require(report.firstProblem)
        #expect(first.check == .anchor)
        #expect(first.table == "sync_runs")
        #expect(report.chainLength == 9)
    }

    @Test func currentStateMustAgreeWithVersions() throws {
        let folder = try TemporaryFolder()
        let path = try makeArchive(folder)
        try tamper(path, "UPDATE events SET version = 1 WHERE api_id = 'ev-2'")
        try tamper(path, "UPDATE notifications SET acknowledged = 0")
        let problems = try Archive(path: path, mode: .readOnly).verify().problems
        #expect(problems.map(\.check) == [.currentState, .currentState])
        #expect(problems.map(\.apiID) == ["ev-2", "7"])
    }

    /// The index's text for ev-2 replaced behind the archive's back, as a user of `sqlite3` can: FTS5's
    /// 'delete' with the text it was indexed with (written out by hand from the fixture's JSON), then other text.
    /// Nothing else knows the text since schema 11: only the comparison with the raw JSON can tell.
    @Test(arguments: [
        ("'user.login', 'ev-2 was here', ''", "other text"),
        ("", "a row missing from the index"),
        ("'user.login', 'app-blog\noidc\n192.0.2.99', 'bob@example.org\nuid-bob\nuser\nbob\nmallory'", "one token added"),
    ])
    func fullTextIndexMustAgreeWithTheRawJSON(replacement: String, what: String) throws {
        let folder = try TemporaryFolder()
        let path = try makeArchive(folder)
        let archive = try Archive(path: path, mode: .readWrite)
        let (rowid, raw) = try #require(try archive.database.withStatement("""
            SELECT e.id, v.raw FROM events e JOIN event_versions v ON v.event_id = e.id AND v.version = e.version WHERE e.api_id = 'ev-2'
            """) { s in try s.step() ? (s.int64(at: 0), s.string(at: 1)) : nil })
        // The independent oracle of what was indexed: ev-2's second version (Fixture.login, sorted keys), each
        // distinct leaf value of source and data once, in order, by eye.
        #expect(raw.contains("\"source\":{\"appId\":\"app-blog\",\"authType\":\"oidc\",\"ip\":\"192.0.2.99\"}"), "\(raw)")
        let indexed: [SQLValue] = [.text("user.login"), .text("app-blog\noidc\n192.0.2.99"), .text("bob@example.org\nuid-bob\nuser\nbob")]
        #expect(try ObjectKind.events.searchTexts(raw: Array(raw.utf8)).map(SQLValue.text) == indexed)
        try archive.database.run("INSERT INTO events_fts(events_fts, rowid, action, source_text, data_text) VALUES ('delete', ?, ?, ?, ?)",
                                 [.integer(rowid)] + indexed)
        if !replacement.isEmpty {
            try archive.database.execute("INSERT INTO events_fts(rowid, action, source_text, data_text) VALUES (\(rowid), \(replacement))")
        }
        for mode in [Archive.AccessMode.readOnly, .readWrite] {
            let problems = try Archive(path: path, mode: mode).verify().problems
            #expect(problems.map(\.check) == [.fullTextIndex], "\(what): \(problems)")
            #expect(problems.first?.apiID == "ev-2" && problems.first?.rowid == rowid, "\(what): \(problems)")
        }
    }

    /// Every column of every current-state table (as the schema has it, not as the derivation lists it),
    /// except the keys and the version pointer, each altered in turn in the first row of its table.
    static let currentStateColumns: [CurrentStateColumnCase] = {
        guard let folder = try? TemporaryFolder(), let archive = try? Archive(path: folder.path("schema.db")) else { return [] }
        return ObjectKind.allCases.flatMap { kind in
            var columns: [String] = []
            try? archive.database.forEachRow("SELECT name FROM pragma_table_info('\(kind.currentTable)') ORDER BY cid") { row in
                let name = row.string(at: 0)
                if !["id", "instance_id", "api_id", "version"].contains(name) { columns.append(name) }
            }
            return columns.map { CurrentStateColumnCase(table: kind.currentTable, column: $0) }
        }
    }()

    @Test func everyCurrentStateTableHasColumnsToCheck() {
        #expect(Set(Self.currentStateColumns.map(\.table)) == ["events", "notifications", "tasks"])
        #expect(Self.currentStateColumns.count == 16)
    }

    @Test(arguments: currentStateColumns)
    func everyCurrentStateColumnIsVerified(_ target: CurrentStateColumnCase) throws {
        let folder = try TemporaryFolder()
        let path = try makeArchive(folder)
        let (table, column) = (target.table, target.column)
        // A different value of whatever type the column holds (NULL becomes 0).
        try tamper(path, """
            UPDATE \(table) SET \(column) = CASE typeof(\(column)) WHEN 'integer' THEN \(column) + 1
                WHEN 'text' THEN \(column) || ' (altered)' ELSE 0 END
            WHERE id = (SELECT min(id) FROM \(table))
            """)
        let problems = try Archive(path: path, mode: .readOnly).verify().problems
        #expect(problems.contains { $0.check == .currentState && $0.table == table && $0.detail == "\(column) differs from its latest version" },
                "\(problems)")
        #expect(!problems.contains { $0.check == .chain || $0.check == .integrity })
    }

    @Test func nonStringFieldsVerifyAsTheyWereIngested() throws {
        let folder = try TemporaryFolder()
        let t = try ArchiveUnderTest(path: folder.path("a.db"))
        let notification = try Client.Notification(json: Array("""
            {"id":"9","eventId":17,"title":true,"message":false,"creationTime":"2026-11-18T11:06:40.000Z","acknowledged":"yes"}
            """.utf8))
        let task = try CloudronTask(json: Array("""
            {"id":501,"type":7,"percent":"55","message":true,"active":1,"pending":null,"success":"true","error":"boom",
             "creationTime":"2026-11-18T11:06:40.000Z"}
            """.utf8))
        _ = try t.archive.ingest(notifications: [notification], instance: t.instance, run: t.run, seenAt: 1)
        _ = try t.archive.ingest(tasks: [task], instance: t.instance, run: t.run, seenAt: 1)
        // Hand-derived: a boolean title or task message is no text (""), a number is its text; a notification's
        // message is any scalar as text; booleans other than true/false are false; pending null stays NULL.
        let notificationRow = try t.archive.database.withStatement(
            "SELECT event_api_id, title, message, acknowledged FROM notifications") { s in
            try s.step() ? [s.value(at: 0), s.value(at: 1), s.value(at: 2), s.value(at: 3)] : []
        }
        #expect(notificationRow == [.text("17"), .text(""), .text("false"), .integer(0)])
        let taskRow = try t.archive.database.withStatement(
            "SELECT api_id, type, message, error_message, percent, active, pending, success, finished FROM tasks") { s in
            try s.step() ? (0 ..< 9).map { s.value(at: $0) } : []
        }
        #expect(taskRow == [.text("501"), .text("7"), .text(""), .text("boom"), .integer(55), .integer(0), .null, .null,
                            .integer(1)])
        let report = try t.archive.verify()
        #expect(report.isIntact, "\(report.problems)")
    }

    @Test func orphanedRowsFailTheIntegrityCheck() throws {
        let folder = try TemporaryFolder()
        let path = try makeArchive(folder)
        try tamper(path, "PRAGMA foreign_keys = OFF; DELETE FROM task_logs WHERE id = 9")
        let first = try #require(try Archive(path: path, mode: .readOnly).verify().firstProblem)
        #expect(first.check == .integrity)
        #expect(first.table == "task_log_lines")
    }
}
