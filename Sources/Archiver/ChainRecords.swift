/// One row of a version table, as the chain hashes it.
struct VersionRecord {
    var kind: ObjectKind
    /// The row's id: its chain sequence number.
    var id: Int64
    /// The current-state row it belongs to (events.id, notifications.id, tasks.id).
    var parentID: Int64
    var instanceID: Int64
    var apiID: String
    var version: Int64
    var raw: [UInt8]
    var contentHash: [UInt8]
    var creationEpoch: Int64
    var firstSeenAt: Int64
    var runID: Int64

    var canonical: CanonicalRecord {
        var record = CanonicalRecord(table: kind.versionTable)
        record.append(id)
        record.append(parentID)
        record.append(instanceID)
        record.append(apiID)
        record.append(version)
        record.appendText(bytes: raw)
        record.appendBlob(contentHash)
        record.append(creationEpoch)
        record.append(firstSeenAt)
        record.append(runID)
        return record
    }
}

/// One archived task log with its lines, as the chain hashes it.
struct TaskLogRecord {
    struct Line {
        var lineNo: Int64
        var timestampMicroseconds: Int64
        var message: String
        var raw: [UInt8]
    }

    var id: Int64
    var taskRowID: Int64
    var instanceID: Int64
    var apiID: String
    var rotated: Int64
    var lineCount: Int64
    var contentHash: [UInt8]
    var firstSeenAt: Int64
    var runID: Int64
    var lines: [Line]

    var canonical: CanonicalRecord {
        var record = CanonicalRecord(table: ChainTable.taskLogs.name)
        record.append(id)
        record.append(taskRowID)
        record.append(instanceID)
        record.append(apiID)
        record.append(rotated)
        record.append(lineCount)
        record.appendBlob(contentHash)
        record.append(firstSeenAt)
        record.append(runID)
        record.append(Int64(lines.count))
        for line in lines {
            record.append(line.lineNo)
            record.append(line.timestampMicroseconds)
            record.append(line.message)
            record.appendText(bytes: line.raw)
        }
        return record
    }

    /// SHA-256 over the lines' raw bytes, each length-prefixed.
    static func contentHash(rawLines: [[UInt8]]) -> [UInt8] {
        var record = CanonicalRecord(table: "task_log_lines")
        for raw in rawLines { record.appendText(bytes: raw) }
        return ContentHash.of(record.bytes)
    }
}

/// One source-tamper alarm, as the chain hashes it.
struct AlarmRecord {
    var id: Int64
    var instanceID: Int64
    var stream: String
    var kind: String
    var apiID: String
    var detail: String
    var noticedAt: Int64
    var runID: Int64

    var canonical: CanonicalRecord {
        var record = CanonicalRecord(table: ChainTable.alarms.name)
        record.append(id)
        record.append(instanceID)
        record.append(stream)
        record.append(kind)
        record.append(apiID)
        record.append(detail)
        record.append(noticedAt)
        record.append(runID)
        return record
    }
}
