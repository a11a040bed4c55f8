/// What the archive recorded about one stream of one instance: the creation-time ranges it holds
/// completely, and the gaps (ranges the server pruned before they could be archived).
///
/// `status` shows them whole; `report --all` clips them to its window in its manifest, so a report over
/// a window the archive does not fully cover says so. Both read them through `Archive.recordedRanges`.
public struct RecordedRanges: Sendable, Equatable {
    /// Which ranges to read: those overlapping [since, until) of one instance or all; clipped to it.
    public struct Window: Sendable, Equatable {
        /// Inclusive lower bound, epoch seconds.
        public var since: Int64?
        /// Exclusive upper bound, epoch seconds.
        public var until: Int64?
        /// An instance name; nil for every instance.
        public var instance: String?

        public init(since: Int64? = nil, until: Int64? = nil, instance: String? = nil) {
            self.since = since
            self.until = until
            self.instance = instance
        }
    }

    public var instance: String
    public var stream: String
    /// Merged ranges, oldest first.
    public var coverage: [EpochRange]
    /// Oldest first (ties in the order they were found).
    public var gaps: [GapRecord]
}

extension Archive {
    /// The recorded coverage and gaps overlapping `window`, clipped to it (inclusive times), one entry
    /// per instance and stream that has any, ordered by instance name and stream.
    public func recordedRanges(within window: RecordedRanges.Window = RecordedRanges.Window()) throws
        -> [RecordedRanges] {
        var result: [RecordedRanges] = []
        try database.forEachRow("""
            SELECT i.name, r.stream, r.is_gap, MAX(r.from_epoch, COALESCE(?1, r.from_epoch)),
                   MIN(r.to_epoch, COALESCE(?2 - 1, r.to_epoch)), r.reason, r.run_id, r.detected_at
            FROM (SELECT id, instance_id, stream, 0 AS is_gap, from_epoch, to_epoch, NULL AS reason, run_id,
                         NULL AS detected_at FROM coverage
                  UNION ALL
                  SELECT id, instance_id, stream, 1, from_epoch, to_epoch, reason, run_id, detected_at FROM gaps) r
            JOIN instances i ON i.id = r.instance_id
            WHERE (?1 IS NULL OR r.to_epoch >= ?1) AND (?2 IS NULL OR r.from_epoch < ?2) AND (?3 IS NULL OR i.name = ?3)
            ORDER BY i.name, r.stream, r.is_gap, r.from_epoch, r.id
            """, [window.since.map(SQLValue.integer) ?? .null, window.until.map(SQLValue.integer) ?? .null,
                  window.instance.map(SQLValue.text) ?? .null]) { row in
            let (instance, stream) = (row.string(at: 0), row.string(at: 1))
            if result.last?.instance != instance || result.last?.stream != stream {
                result.append(RecordedRanges(instance: instance, stream: stream, coverage: [], gaps: []))
            }
            let (from, to) = (row.int64(at: 3), row.int64(at: 4))
            if row.int64(at: 2) == 0 {
                result[result.count - 1].coverage.append(EpochRange(from: from, to: to))
            } else {
                result[result.count - 1].gaps.append(GapRecord(from: from, to: to, reason: row.string(at: 5),
                                                               run: row.int64(at: 6), detectedAt: row.int64(at: 7)))
            }
        }
        return result
    }
}
