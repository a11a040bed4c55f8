import Foundation

/// A source-tamper alarm: something sync saw the server do that box never does by itself.
public struct SourceAlarm: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// An archived event vanished from the server while it still serves older ones (not pruning).
        case deletedUpstream = "deleted-upstream"
        /// An archived event's content changed other than by box's in-place rewrite of a repeated login.
        case rewrittenUpstream = "rewritten-upstream"
    }

    public var kind: Kind
    public var instance: String
    public var stream: String
    /// The object's API id.
    public var id: String
    /// When sync noticed it, epoch seconds.
    public var noticedAt: Int64
    public var detail: String
    /// The run that noticed it.
    public var run: Int64
}

extension Archive {
    /// Records an alarm as a chain record; false when the same finding is recorded already (a deleted
    /// event stays missing on every later run, and is one alarm).
    @discardableResult
    func recordAlarm(instance: Int64, stream: String, kind: SourceAlarm.Kind, apiID: String, detail: String,
                     run: Int64, at noticedAt: Int64) throws -> Bool {
        try transaction {
            let known = try database.scalarInt("""
                SELECT count(*) FROM alarms WHERE instance_id = ? AND stream = ? AND api_id = ? AND kind = ?
                    AND (kind = 'deleted-upstream' OR detail = ?)
                """, [.integer(instance), .text(stream), .text(apiID), .text(kind.rawValue), .text(detail)]) ?? 0
            guard known == 0 else { return false }
            var head = try chainHead()
            let record = AlarmRecord(id: head.length + 1, instanceID: instance, stream: stream, kind: kind.rawValue,
                                     apiID: apiID, detail: detail, noticedAt: noticedAt, runID: run)
            let link = head.append(record.canonical)
            try database.run("""
                INSERT INTO alarms(id, instance_id, stream, kind, api_id, detail, noticed_at, run_id, chain_link)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.integer(link.sequence), .integer(instance), .text(stream), .text(kind.rawValue), .text(apiID),
                      .text(detail), .integer(noticedAt), .integer(run), .blob(link.link)])
            return true
        }
    }

    /// Every alarm, oldest first.
    public func alarms() throws -> [SourceAlarm] {
        var result: [SourceAlarm] = []
        try database.forEachRow("""
            SELECT a.kind, i.name, a.stream, a.api_id, a.noticed_at, a.detail, a.run_id
            FROM alarms a JOIN instances i ON i.id = a.instance_id ORDER BY a.id
            """) { row in
            guard let kind = SourceAlarm.Kind(rawValue: row.string(at: 0)) else { return }
            result.append(SourceAlarm(kind: kind, instance: row.string(at: 1), stream: row.string(at: 2), id: row.string(at: 3),
                                      noticedAt: row.int64(at: 4), detail: row.string(at: 5), run: row.int64(at: 6)))
        }
        return result
    }

    // MARK: What a walk saw

    /// Starts an empty set of the event ids the walk of `instance` has read (a TEMP table: never in the
    /// archive file, gone with the connection, and flat in memory however long the log). Keyed by the
    /// instance because `sync --config` walks several servers at once on this one connection: a set
    /// shared by all of them made each walk forget what the others had read (false deleted-upstream alarms).
    func beginSeenEvents(instance: Int64) throws {
        try database.execute("CREATE TEMP TABLE IF NOT EXISTS seen_events(instance_id INTEGER NOT NULL, api_id TEXT NOT NULL, PRIMARY KEY (instance_id, api_id)) WITHOUT ROWID")
        try database.run("DELETE FROM temp.seen_events WHERE instance_id = ?", [.integer(instance)])
    }

    func markSeen(events ids: [String], instance: Int64) throws {
        for id in ids {
            try database.run("INSERT OR IGNORE INTO temp.seen_events(instance_id, api_id) VALUES (?, ?)", [.integer(instance), .text(id)])
        }
    }

    /// Archived events of the instance created at or after `since` that the walk did not read.
    func unseenEvents(instance: Int64, since: Int64) throws -> [(apiID: String, epoch: Int64)] {
        var result: [(String, Int64)] = []
        try database.forEachRow("""
            SELECT api_id, creation_epoch FROM events
            WHERE instance_id = ? AND creation_epoch >= ? AND api_id NOT IN (SELECT api_id FROM temp.seen_events WHERE instance_id = ?)
            ORDER BY creation_epoch, api_id
            """, [.integer(instance), .integer(since), .integer(instance)]) { result.append(($0.string(at: 0), $0.int64(at: 1))) }
        return result
    }

    /// Each event version the run stored over an earlier one, with that earlier one.
    func eventRewrites(instance: Int64, run: Int64) throws -> [(apiID: String, version: Int64, old: [UInt8], new: [UInt8])] {
        var result: [(String, Int64, [UInt8], [UInt8])] = []
        try database.forEachRow(Self.eventRewritesSQL, [.integer(run), .integer(instance)]) { row in
            result.append((row.string(at: 0), row.int64(at: 1), row.bytes(at: 2), row.bytes(at: 3)))
        }
        return result
    }

    /// The run's rewritten versions through 0016's partial index of them (`version > 1` is its condition, word
    /// for word): every sync runs this, and without the index SQLite read every version of the instance.
    static let eventRewritesSQL = """
        SELECT e.api_id, v.version, p.raw, v.raw FROM event_versions v
        JOIN events e ON e.id = v.event_id
        JOIN event_versions p ON p.event_id = v.event_id AND p.version = v.version - 1
        WHERE v.run_id = ? AND v.version > 1 AND e.instance_id = ? ORDER BY v.id
        """
}
