import Client
import Foundation

/// How one kind of versioned object (event, notification, task) maps onto its three tables:
/// current state, versions, and the external-content FTS index over the current state.
struct VersionedKind: Sendable {
    let table: ChainTable
    let currentTable: String
    let parentColumn: String
    let ftsTable: String
    /// Current-state columns besides id, instance_id, api_id and version.
    let columns: [String]
    /// The subset of `columns` that the FTS table indexes, in its column order.
    let ftsColumns: [String]

    // The hot statements, built once (they are also the keys of the statement cache).
    let lookupSQL: String
    let insertCurrentSQL: String
    let updateCurrentSQL: String
    let oldFTSValuesSQL: String
    let ftsDeleteSQL: String
    let ftsInsertSQL: String
    let insertVersionSQL: String

    init(table: ChainTable, currentTable: String, parentColumn: String, ftsTable: String, columns: [String],
         ftsColumns: [String]) {
        self.table = table
        self.currentTable = currentTable
        self.parentColumn = parentColumn
        self.ftsTable = ftsTable
        self.columns = columns
        self.ftsColumns = ftsColumns
        let ftsList = ftsColumns.joined(separator: ", ")
        let ftsPlaceholders = String(repeating: ", ?", count: ftsColumns.count)
        lookupSQL = """
            SELECT c.id, c.version, v.content_hash FROM \(currentTable) c
            JOIN \(table.rawValue) v ON v.\(parentColumn) = c.id AND v.version = c.version
            WHERE c.instance_id = ? AND c.api_id = ?
            """
        insertCurrentSQL = "INSERT INTO \(currentTable)(instance_id, api_id, version, \(columns.joined(separator: ", "))) "
            + "VALUES (?, ?, ?\(String(repeating: ", ?", count: columns.count)))"
        updateCurrentSQL = "UPDATE \(currentTable) SET version = ?, \(columns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?"
        oldFTSValuesSQL = "SELECT \(ftsList) FROM \(currentTable) WHERE id = ?"
        ftsDeleteSQL = "INSERT INTO \(ftsTable)(\(ftsTable), rowid, \(ftsList)) VALUES ('delete', ?\(ftsPlaceholders))"
        ftsInsertSQL = "INSERT INTO \(ftsTable)(rowid, \(ftsList)) VALUES (?\(ftsPlaceholders))"
        insertVersionSQL = """
            INSERT INTO \(table.rawValue)(id, \(parentColumn), version, raw, content_hash, creation_epoch, first_seen_at, run_id, chain_link)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
    }

    static let events = VersionedKind(
        table: .eventVersions, currentTable: "events", parentColumn: "event_id", ftsTable: "events_fts",
        columns: ["action", "creation_epoch", "source_text", "data_text"],
        ftsColumns: ["action", "source_text", "data_text"])
    static let notifications = VersionedKind(
        table: .notificationVersions, currentTable: "notifications", parentColumn: "notification_id",
        ftsTable: "notifications_fts",
        columns: ["event_api_id", "title", "message", "creation_epoch", "acknowledged"],
        ftsColumns: ["title", "message"])
    static let tasks = VersionedKind(
        table: .taskVersions, currentTable: "tasks", parentColumn: "task_id", ftsTable: "tasks_fts",
        columns: ["type", "message", "error_message", "percent", "active", "pending", "success", "finished", "creation_epoch"],
        ftsColumns: ["type", "message", "error_message"])
}

/// One object ready to ingest: its key, raw JSON and how to compute its current-state columns
/// (only done for new or changed content: an unchanged row costs one lookup and one hash).
struct IngestItem {
    var apiID: String
    var raw: [UInt8]
    var creationEpoch: Int64
    /// Values for `VersionedKind.columns`.
    var columns: () -> [String: SQLValue]
}

extension Archive {
    /// Archives a batch of event-log rows. New ids get version 1; a known id whose content changed
    /// (a `user.login` upserted in place) gets a new version; the same content again writes nothing.
    /// Joins the caller's transaction (as a savepoint) so a page and its stream state commit together.
    public func ingest(events: [Event], instance: Int64, run: Int64, seenAt: Int64) throws -> IngestCounts {
        try ingest(kind: .events, instance: instance, run: run, seenAt: seenAt, items: events.lazy.map { event in
            IngestItem(apiID: event.id, raw: event.raw, creationEpoch: event.epochSeconds) {
                let text = SearchText.event(event.raw)
                return ["action": .text(event.action), "creation_epoch": .integer(event.epochSeconds),
                        "source_text": .text(text.source), "data_text": .text(text.data)]
            }
        })
    }

    /// Archives notifications; an acknowledgement or an alert rewritten in place is a new version.
    public func ingest(notifications: [Client.Notification], instance: Int64, run: Int64, seenAt: Int64) throws -> IngestCounts {
        try ingest(kind: .notifications, instance: instance, run: run, seenAt: seenAt, items: notifications.lazy.map { item in
            IngestItem(apiID: item.id, raw: item.raw, creationEpoch: item.epochSeconds) {
                ["event_api_id": item.eventId.map { .text($0) } ?? .null, "title": .text(item.title),
                 "message": .text(RawField.scalar("message", in: item.raw) ?? ""),
                 "creation_epoch": .integer(item.epochSeconds), "acknowledged": .integer(item.acknowledged ? 1 : 0)]
            }
        })
    }

    /// Archives tasks; every progress update seen is a new version.
    public func ingest(tasks: [CloudronTask], instance: Int64, run: Int64, seenAt: Int64) throws -> IngestCounts {
        try ingest(kind: .tasks, instance: instance, run: run, seenAt: seenAt, items: tasks.lazy.map { task in
            IngestItem(apiID: task.id, raw: task.raw, creationEpoch: task.epochSeconds) {
                ["type": .text(task.type), "message": .text(task.message ?? ""),
                 "error_message": .text(task.errorMessage ?? ""), "percent": .integer(Int64(task.percent)),
                 "active": .integer(task.active ? 1 : 0), "pending": task.pending.map { .integer($0 ? 1 : 0) } ?? .null,
                 "success": task.success.map { .integer($0 ? 1 : 0) } ?? .null,
                 "finished": .integer(task.isFinished ? 1 : 0), "creation_epoch": .integer(task.epochSeconds)]
            }
        })
    }

    private func ingest<Items: Sequence<IngestItem>>(kind: VersionedKind, instance: Int64, run: Int64, seenAt: Int64,
                                                   items: Items) throws -> IngestCounts {
        try transaction {
            var head = try chainHead()
            var counts = IngestCounts()
            for item in items {
                let hash = ContentHash.of(item.raw)
                let known = try database.withStatement(kind.lookupSQL) { lookup -> (id: Int64, version: Int64, hash: [UInt8])? in
                    try lookup.bind(instance, at: 1)
                    try lookup.bind(item.apiID, at: 2)
                    guard try lookup.step() else { return nil }
                    return (lookup.int64(at: 0), lookup.int64(at: 1), lookup.bytes(at: 2))
                }
                if let known, known.hash == hash {
                    counts.unchanged += 1
                    continue
                }
                let columns = item.columns()
                let rowID: Int64
                let version: Int64
                if let known {
                    rowID = known.id
                    version = known.version + 1
                    // External-content FTS: the old row is removed with the values it was indexed with.
                    try database.withStatement(kind.oldFTSValuesSQL) { old in
                        try old.bind(rowID, at: 1)
                        guard try old.step() else { return }
                        let values = (0 ..< Int32(kind.ftsColumns.count)).map { old.value(at: $0) }
                        try database.run(kind.ftsDeleteSQL, [.integer(rowID)] + values)
                    }
                    try database.run(kind.updateCurrentSQL,
                                     [.integer(version)] + kind.columns.map { columns[$0] ?? .null } + [.integer(rowID)])
                    counts.changed += 1
                } else {
                    version = 1
                    try database.run(kind.insertCurrentSQL, [.integer(instance), .text(item.apiID), .integer(1)]
                                     + kind.columns.map { columns[$0] ?? .null })
                    rowID = database.lastInsertRowID
                    counts.inserted += 1
                }
                try database.run(kind.ftsInsertSQL, [.integer(rowID)] + kind.ftsColumns.map { columns[$0] ?? .null })
                let record = VersionRecord(table: kind.table, id: head.length + 1, parentID: rowID, instanceID: instance,
                                           apiID: item.apiID, version: version, raw: item.raw, contentHash: hash,
                                           creationEpoch: item.creationEpoch, firstSeenAt: seenAt, runID: run)
                let link = head.append(record.canonical)
                try database.run(kind.insertVersionSQL, [
                    .integer(link.sequence), .integer(rowID), .integer(version), .textBytes(item.raw), .blob(hash),
                    .integer(item.creationEpoch), .integer(seenAt), .integer(run), .blob(link.link),
                ])
            }
            return counts
        }
    }

    // MARK: Task logs

    /// Finished tasks of the instance whose log is not archived yet, oldest first (their logs rotate
    /// away first, after about 7 days); logs that failed before come after the others, and only while
    /// their first failure lies within `taskLogRetryWindow`.
    public func tasksAwaitingLogs(instance: Int64, now: Int64 = Int64(Date().timeIntervalSince1970)) throws -> [String] {
        var ids: [String] = []
        try database.forEachRow("""
            SELECT t.api_id FROM tasks t LEFT JOIN task_log_failures f ON f.task_id = t.id
            WHERE t.instance_id = ? AND t.finished = 1 AND NOT EXISTS (SELECT 1 FROM task_logs l WHERE l.task_id = t.id)
              AND (f.task_id IS NULL OR f.first_try_at >= ?)
            ORDER BY f.task_id IS NOT NULL, t.creation_epoch, t.id
            """, [.integer(instance), .integer(now - Archive.taskLogRetryWindow)]) { ids.append($0.string(at: 0)) }
        return ids
    }

    /// Archives a finished task's log once. No lines means the server had already rotated it away,
    /// which is recorded as such. A task whose log is archived already is left as it is.
    public func storeTaskLog(instance: Int64, taskId: String, lines: [TaskLogLine], run: Int64, seenAt: Int64) throws {
        try transaction {
            guard let taskRowID = try database.scalarInt("SELECT id FROM tasks WHERE instance_id = ? AND api_id = ?",
                                                         [.integer(instance), .text(taskId)]) else {
                throw SQLiteError(kind: .constraint, code: 0, message: "task \(taskId) is not in the archive", context: path)
            }
            try database.run("DELETE FROM task_log_failures WHERE task_id = ?", [.integer(taskRowID)])
            let existing = try database.scalarInt("SELECT count(*) FROM task_logs WHERE task_id = ?", [.integer(taskRowID)]) ?? 0
            guard existing == 0 else { return }
            var head = try chainHead()
            let record = TaskLogRecord(
                id: head.length + 1, taskRowID: taskRowID, instanceID: instance, apiID: taskId,
                rotated: lines.isEmpty ? 1 : 0, lineCount: Int64(lines.count),
                contentHash: TaskLogRecord.contentHash(rawLines: lines.map(\.raw)), firstSeenAt: seenAt, runID: run,
                lines: lines.enumerated().map { offset, line in
                    TaskLogRecord.Line(lineNo: Int64(offset), timestampMicroseconds: line.realtimeTimestamp,
                                       message: line.message, raw: line.raw)
                })
            let link = head.append(record.canonical)
            try database.run("""
                INSERT INTO task_logs(id, task_id, rotated, line_count, content_hash, first_seen_at, run_id, chain_link)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, [.integer(link.sequence), .integer(taskRowID), .integer(record.rotated), .integer(record.lineCount),
                      .blob(record.contentHash), .integer(seenAt), .integer(run), .blob(link.link)])
            for line in record.lines {
                try database.run("INSERT INTO task_log_lines(log_id, line_no, timestamp_us, message, raw) VALUES (?, ?, ?, ?, ?)",
                                 [.integer(link.sequence), .integer(line.lineNo), .integer(line.timestampMicroseconds),
                                  .text(line.message), .textBytes(line.raw)])
            }
        }
    }
}
