import Client
import Foundation

/// The statements that store objects of one kind, built once per kind from its tables and
/// current-state columns (the SQL text is also the key of the connection's statement cache).
struct IngestStatements: Sendable {
    let kind: ObjectKind
    let lookup: String
    let insertCurrent: String
    let updateCurrent: String
    let indexedVersion: String
    let ftsDelete: String
    let ftsInsert: String
    let insertVersion: String

    init(_ kind: ObjectKind) {
        self.kind = kind
        let (current, versions, parent, fts) = (kind.currentTable, kind.versionTable, kind.parentColumn, kind.ftsTable)
        let columns = kind.currentStateColumns
        let ftsList = kind.searchableColumns.joined(separator: ", ")
        let ftsPlaceholders = String(repeating: ", ?", count: kind.searchableColumns.count)
        lookup = """
            SELECT c.id, c.version, v.content_hash FROM \(current) c
            JOIN \(versions) v ON v.\(parent) = c.id AND v.version = c.version
            WHERE c.instance_id = ? AND c.api_id = ?
            """
        insertCurrent = "INSERT INTO \(current)(instance_id, api_id, version, \(columns.joined(separator: ", "))) "
            + "VALUES (?, ?, ?\(String(repeating: ", ?", count: columns.count)))"
        updateCurrent = "UPDATE \(current) SET version = ?, \(columns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?"
        indexedVersion = "SELECT raw FROM \(versions) WHERE \(parent) = ? AND version = ?"
        ftsDelete = "INSERT INTO \(fts)(\(fts), rowid, \(ftsList)) VALUES ('delete', ?\(ftsPlaceholders))"
        ftsInsert = "INSERT INTO \(fts)(rowid, \(ftsList)) VALUES (?\(ftsPlaceholders))"
        insertVersion = """
            INSERT INTO \(versions)(id, \(parent), version, raw, content_hash, creation_epoch, first_seen_at, run_id, chain_link)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
    }

    private static let byKind = Dictionary(uniqueKeysWithValues: ObjectKind.allCases.map { ($0, IngestStatements($0)) })

    static func of(_ kind: ObjectKind) -> IngestStatements {
        byKind[kind] ?? IngestStatements(kind)
    }
}

extension Archive {
    /// Archives a batch of event-log rows. New ids get version 1; a known id whose content changed
    /// (a `user.login` upserted in place) gets a new version; the same content again writes nothing.
    /// Joins the caller's transaction (as a savepoint) so a page and its stream state commit together.
    public func ingest(events: [Event], instance: Int64, run: Int64, seenAt: Int64) throws -> IngestCounts {
        try ingest(events, instance: instance, run: run, seenAt: seenAt)
    }

    /// Archives notifications; an acknowledgement or an alert rewritten in place is a new version.
    public func ingest(notifications: [Client.Notification], instance: Int64, run: Int64, seenAt: Int64) throws -> IngestCounts {
        try ingest(notifications, instance: instance, run: run, seenAt: seenAt)
    }

    /// Archives tasks; every progress update seen is a new version.
    public func ingest(tasks: [CloudronTask], instance: Int64, run: Int64, seenAt: Int64) throws -> IngestCounts {
        try ingest(tasks, instance: instance, run: run, seenAt: seenAt)
    }

    /// The current-state columns are computed only for new or changed content: an unchanged object
    /// costs one lookup and one hash.
    private func ingest<Object: ArchivableObject>(_ objects: [Object], instance: Int64, run: Int64,
                                                  seenAt: Int64) throws -> IngestCounts {
        let kind = Object.kind
        let sql = IngestStatements.of(kind)
        return try transaction {
            var head = try chainHead()
            var counts = IngestCounts()
            for item in objects {
                let hash = ContentHash.of(item.raw)
                let known = try database.withStatement(sql.lookup) { lookup -> (id: Int64, version: Int64, hash: [UInt8])? in
                    try lookup.bind(instance, at: 1)
                    try lookup.bind(item.apiID, at: 2)
                    guard try lookup.step() else { return nil }
                    return (lookup.int64(at: 0), lookup.int64(at: 1), lookup.bytes(at: 2))
                }
                if let known, known.hash == hash {
                    counts.unchanged += 1
                    continue
                }
                let (values, searchableValues) = item.storedAndSearchableValues
                let rowID: Int64
                let version: Int64
                if let known {
                    rowID = known.id
                    version = known.version + 1
                    // External-content FTS: the old row is removed with the values it was indexed with, which
                    // the content table does not all hold: recomputed from the version they were indexed from.
                    let indexedRaw = try database.withStatement(sql.indexedVersion) { old -> [UInt8]? in
                        try old.bind(rowID, at: 1)
                        try old.bind(known.version, at: 2)
                        return try old.step() ? old.bytes(at: 0) : nil
                    }
                    if let indexedRaw, let indexed = try? kind.searchTexts(raw: indexedRaw) {
                        try database.run(sql.ftsDelete, [.integer(rowID)] + indexed.map(SQLValue.text))
                    }
                    try database.run(sql.updateCurrent, [.integer(version)] + values + [.integer(rowID)])
                    counts.changed += 1
                } else {
                    version = 1
                    try database.run(sql.insertCurrent, [.integer(instance), .text(item.apiID), .integer(1)] + values)
                    rowID = database.lastInsertRowID
                    counts.inserted += 1
                }
                try database.run(sql.ftsInsert, [.integer(rowID)] + searchableValues)
                let record = VersionRecord(kind: kind, id: head.length + 1, parentID: rowID, instanceID: instance,
                                           apiID: item.apiID, version: version, raw: item.raw, contentHash: hash,
                                           creationEpoch: item.epochSeconds, firstSeenAt: seenAt, runID: run)
                let link = head.append(record.canonical)
                try database.run(sql.insertVersion, [
                    .integer(link.sequence), .integer(rowID), .integer(version), .textBytes(item.raw), .blob(hash),
                    .integer(item.epochSeconds), .integer(seenAt), .integer(run), .blob(link.link),
                ])
                try item.storeExtractedFields(in: database, versionID: link.sequence, parentID: rowID, version: version,
                                              instanceID: instance)
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
    /// which is recorded as such. A task whose log is archived already is left as it is. The log's lines that
    /// are no log line go to the tasks stream's quarantine, named by task and line, in the same transaction.
    public func storeTaskLog(instance: Int64, taskId: String, log: TaskLog, run: Int64, seenAt: Int64) throws {
        try transaction {
            guard try storeTaskLog(instance: instance, taskId: taskId, lines: log.lines,
                                   rotated: log.lines.isEmpty && log.malformed.isEmpty, run: run, seenAt: seenAt) else { return }
            let malformed = log.malformed.map { line in
                var line = line
                line.reason = "line \(line.index + 1) of task \(taskId)'s log: \(line.reason)"
                return line
            }
            try quarantine(malformed, stream: ObjectKind.tasks.streamName, instance: instance, run: run, seenAt: seenAt)
        }
    }

    /// False when the task's log was archived already (and is left as it is).
    private func storeTaskLog(instance: Int64, taskId: String, lines: [TaskLogLine], rotated: Bool, run: Int64,
                              seenAt: Int64) throws -> Bool {
        try transaction {
            guard let taskRowID = try database.scalarInt("SELECT id FROM tasks WHERE instance_id = ? AND api_id = ?",
                                                         [.integer(instance), .text(taskId)]) else {
                throw SQLiteError(kind: .constraint, code: 0, message: "task \(taskId) is not in the archive", context: path)
            }
            try database.run("DELETE FROM task_log_failures WHERE task_id = ?", [.integer(taskRowID)])
            let existing = try database.scalarInt("SELECT count(*) FROM task_logs WHERE task_id = ?", [.integer(taskRowID)]) ?? 0
            guard existing == 0 else { return false }
            var head = try chainHead()
            let record = TaskLogRecord(
                id: head.length + 1, taskRowID: taskRowID, instanceID: instance, apiID: taskId,
                rotated: rotated ? 1 : 0, lineCount: Int64(lines.count),
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
            return true
        }
    }
}
