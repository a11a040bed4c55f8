import Foundation
import Archiver
import Client

/// `events [filters] [--history] [--around EVENT_ID --window 5m]`: matching events, streamed to a writer.
///
/// Columns are the Cloudron API's own fields plus the archive's instance name: `id`, `action`,
/// `creationTime`, `source`, `data`, `instance` — `source` and `data` are the JSON objects exactly as the
/// server sent them (bytes cut from the stored raw JSON, never re-encoded), so NDJSON output reads like
/// the API. `creationTime` too, in JSON and NDJSON (`2026-11-20T11:37:29.000Z` as sent); CSV and tables, and
/// every format under `--tz`, format it like every other time.
/// With `history`, every archived version is a row, with `version` and `firstSeen` (when the archive
/// first saw that content) added: a `user.login` upserted in place shows each of its logins.
public struct EventQuery: Sendable {
    public let filter: EventFilter
    public let history: Bool
    /// `--around EVENT_ID --window 5m`: everything on the same instance within `window` seconds either side
    /// of that event (both ends inclusive), with the other filters still applied; replaces since/until.
    public let around: (eventID: String, window: Int64)?

    /// - Throws: `QueryInputError` for an invalid filter or a window that is not positive.
    public init(filter: EventFilter = EventFilter(), history: Bool = false, around: (eventID: String, window: Int64)? = nil)
        throws {
        try filter.validate()
        if let around, around.window <= 0 { throw QueryInputError("--window must be positive") }
        self.filter = filter
        self.history = history
        self.around = around
    }

    public static let columns = ["id", "action", "creationTime", "source", "data", "instance"].map(Column.init)
    public static let historyColumns = columns + ["version", "firstSeen"].map(Column.init)

    /// Streams the matching events into `writer` (begin … finish) and returns how many there were.
    /// - Throws: `QueryInputError` for an unknown instance or `--around` event; `SQLiteError`.
    @discardableResult
    public func run<W: RowWriter>(on session: ReadSession, into writer: inout W) throws -> Int {
        var filter = self.filter
        try ArchivedNames.requireKnownInstance(filter, in: session)
        if let around {
            let (instance, epoch) = try EventQuery.locate(eventID: around.eventID, instance: filter.instance, in: session)
            filter.instance = instance
            filter.since = epoch - around.window
            filter.until = epoch + around.window + 1   // the window is inclusive on both sides
        }
        let time = history ? "v.creation_epoch" : "e.creation_epoch"
        let condition = filter.eventCondition(timeColumn: time)
        let limit = filter.limitClause
        let direction = filter.order == .newest ? "DESC" : "ASC"
        let order = history
            ? "ORDER BY v.creation_epoch \(direction), e.id \(direction), v.version \(direction)"
            : "ORDER BY e.creation_epoch \(direction), e.id \(direction)"
        // Two phases: pick the rows' ids first, sorting and limiting narrow rows, then read each row's raw
        // JSON by id, in that order. The versions (several KB each) are joined in the first phase only when
        // a text filter needs them, so `events --limit 50` does not read every event's JSON to sort it; and
        // reading them one by one instead of in a join keeps SQLite from sorting the whole export's raw
        // JSON again (a join puts every row's JSON in a temporary B-tree; figures in Benchmarks/NOTES.md, B5).
        // Both statements read the session's one snapshot.
        let needsRaw = history || filter.user != nil || filter.app != nil || filter.ip != nil
        let pickJoin = needsRaw
            ? "JOIN event_versions v ON v.event_id = e.id" + (history ? "" : " AND v.version = e.version")
            : ""
        let pick = """
            SELECT e.id, \(history ? "v.version" : "e.version")
            FROM events e \(pickJoin) JOIN instances i ON i.id = e.instance_id
            WHERE \(condition.sql)
            \(order)
            \(limit.sql)
            """
        let detail = try session.prepare("""
            SELECT e.api_id, e.action, \(time), v.raw, i.name, v.version, v.first_seen_at
            FROM events e JOIN event_versions v ON v.event_id = e.id AND v.version = ?2
            JOIN instances i ON i.id = e.instance_id
            WHERE e.id = ?1
            """)
        let history = self.history
        return try RowStreaming.run(session, SQLFragment(pick, condition.values + limit.values),
                                    columns: history ? EventQuery.historyColumns : EventQuery.columns,
                                    into: &writer) { picked in
            detail.reset()
            try detail.bind(picked.int64(at: 0), at: 1)
            try detail.bind(picked.int64(at: 1), at: 2)
            guard try detail.step() else {
                throw SQLiteError(kind: .notADatabase, code: 0, message: "event row \(picked.int64(at: 0)) has no version \(picked.int64(at: 1))",
                                  context: session.path)
            }
            let raw = detail.bytes(at: 3)
            // One pass over the stored JSON finds the three members the output keeps as received.
            let members = (try? RawJSON.values(forKeys: ["creationTime", "source", "data"], in: raw))
                ?? [nil, nil, nil]
            let epoch = detail.int64(at: 2)
            var cells: [Cell] = [detail.textCell(0), detail.textCell(1),
                                 members[0].map { .receivedTime(epoch, Array($0)) } ?? .time(epoch),
                                 members[1].map { .json(Array($0)) } ?? .null, members[2].map { .json(Array($0)) } ?? .null,
                                 detail.textCell(4)]
            if history { cells += [detail.integerCell(5), detail.timeCell(6)] }
            return cells
        }
    }

    /// A top-level member of raw JSON, byte for byte; null when absent or unreadable.
    static func member(_ key: String, of raw: [UInt8]) -> Cell {
        guard let slice = try? RawJSON.value(forKey: key, in: raw) else { return .null }
        return .json(Array(slice))
    }

    /// The instance and creation time of the event with API id `eventID`.
    static func locate(eventID: String, instance: String?, in session: ReadSession) throws -> (String, Int64) {
        var found: [(String, Int64)] = []
        var sql = "SELECT i.name, e.creation_epoch FROM events e JOIN instances i ON i.id = e.instance_id WHERE e.api_id = ?"
        var values: [SQLValue] = [.text(eventID)]
        if let instance { sql += " AND i.name = ?"; values.append(.text(instance)) }
        try session.forEachRow(sql, values) { row in found.append((row.string(at: 0), row.int64(at: 1))) }
        guard let first = found.first else {
            throw QueryInputError("no event with id \(TimeExpression.quoted(eventID)) in the archive"
                                  + (instance.map { " for instance \(TimeExpression.quoted($0))" } ?? ""))
        }
        guard found.count == 1 else {
            throw QueryInputError("event id \(TimeExpression.quoted(eventID)) exists on instances "
                                  + found.map(\.0).sorted().joined(separator: ", ") + ": add --instance")
        }
        return first
    }
}
