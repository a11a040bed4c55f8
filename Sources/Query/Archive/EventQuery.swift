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
    /// of that event (both ends inclusive), with the other filters still applied. It sets the time window
    /// itself, so `since`/`until` are refused with it. The id may be a unique prefix.
    public let around: (eventID: String, window: Int64)?
    /// `--id ID`: that one event (every version with `history`); the id may be a unique prefix.
    public let eventID: String?
    public let layout: EventLayout

    /// - Throws: `QueryInputError` for an invalid filter, a window that is not positive, `since`/`until`
    ///   with `around`, or `around` with `eventID`.
    public init(filter: EventFilter = EventFilter(), history: Bool = false, around: (eventID: String, window: Int64)? = nil,
                eventID: String? = nil, layout: EventLayout = .received) throws {
        try filter.validate()
        if let around {
            if around.window <= 0 { throw QueryInputError("--window must be positive") }
            if filter.since != nil || filter.until != nil {
                throw QueryInputError("--around sets the time window itself (±--window around the event): "
                                      + "leave out --since and --until, or use them without --around")
            }
            if eventID != nil { throw QueryInputError("--around and --id name an event each: use one of them") }
        }
        self.filter = filter
        self.history = history
        self.around = around
        self.eventID = eventID
        self.layout = layout
    }

    /// The API's own members, as received (JSON and NDJSON).
    public static let columns = ["id", "action", "creationTime", "source", "data", "instance"].map(Column.init)
    public static let historyColumns = columns + ["version", "firstSeen"].map(Column.init)
    /// Flat columns for people and spreadsheets (table and CSV).
    public static let readableColumns = ["time", "instance", "action", "actor", "subject", "ip", "app", "summary", "id"]
        .map(Column.init)
    /// Each row's distance from the `--around` event: "anchor" on that event, else "2m05s before" or "… after".
    public static let offsetColumn = Column("offset")

    /// The columns of a run: readable or received, with the history and `--around` columns when asked.
    public var outputColumns: [Column] {
        let historyColumns = history ? ["version", "firstSeen"].map(Column.init) : []
        switch layout {
        case .received:
            return EventQuery.columns + historyColumns + (around == nil ? [] : [EventQuery.offsetColumn])
        case .readable:
            return (around == nil ? [] : [EventQuery.offsetColumn]) + EventQuery.readableColumns + historyColumns
        }
    }

    /// Streams the matching events into `writer` (begin … finish) and returns how many there were.
    /// - Throws: `QueryInputError` for an unknown instance, an `--around` or `--id` event that is not
    ///   archived or whose prefix is ambiguous; `SQLiteError`.
    @discardableResult
    public func run<W: RowWriter>(on session: ReadSession, into writer: inout W) throws -> Int {
        var filter = self.filter
        try ArchivedNames.requireKnownInstance(filter, in: session)
        var anchor: LocatedEvent?
        var only: SQLFragment?
        if let around {
            let event = try EventQuery.locate(eventID: around.eventID, instance: filter.instance, in: session)
            filter.instance = event.instance
            filter.since = event.epoch - around.window
            filter.until = event.epoch + around.window + 1   // the window is inclusive on both sides
            anchor = event
        }
        if let eventID {
            let event = try EventQuery.locate(eventID: eventID, instance: filter.instance, in: session)
            only = SQLFragment("e.id = ?", [.integer(event.rowID)])
        }
        let time = history ? "v.creation_epoch" : "e.creation_epoch"
        let condition = SQLFragment.and([filter.eventCondition(timeColumn: time), only ?? SQLFragment()])
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
        var rowMaker: EventRowMaker
        switch layout {
        case .received: rowMaker = try ReceivedEventRows(session: session, history: history)
        case .readable(let shortIDs): rowMaker = try ReadableEventRows(session: session, history: history, shortIDs: shortIDs)
        }
        return try RowStreaming.run(session, SQLFragment(pick, condition.values + limit.values),
                                    columns: outputColumns, into: &writer) { picked in
            let rowID = picked.int64(at: 0)
            let (cells, epoch) = try rowMaker.row(eventRowID: rowID, version: picked.int64(at: 1))
            guard let anchor else { return cells }
            return withOffset(cells, isAnchor: rowID == anchor.rowID, seconds: epoch - anchor.epoch)
        }
    }

    /// The distance from the anchor in words: `45s before`, `2m05s after`, `1h02m03s before`, `same second`
    /// (no leading sign, which the CSV formula guard would quote).
    public static func offsetText(_ seconds: Int64) -> String {
        if seconds == 0 { return "same second" }
        let side = seconds < 0 ? " before" : " after"
        let total = abs(seconds)
        let (hours, minutes, rest) = (total / 3600, total % 3600 / 60, total % 60)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        if hours > 0 { return "\(hours)h\(two(minutes))m\(two(rest))s" + side }
        if minutes > 0 { return "\(minutes)m\(two(rest))s" + side }
        return "\(rest)s" + side
    }

    /// A top-level member of raw JSON, byte for byte; null when absent or unreadable.
    static func member(_ key: String, of raw: [UInt8]) -> Cell {
        guard let slice = try? RawJSON.value(forKey: key, in: raw) else { return .null }
        return .json(Array(slice))
    }

    /// The length of a short id in tables: enough to tell events apart at a glance, and accepted back by
    /// `--id` and `--around` as a prefix (an ambiguous one is refused with the candidates).
    public static let shortIDLength = 8

    /// An archived event found by its API id or a unique prefix of it (`archiveID`: in a central store
    /// holding several archives, the one it belongs to).
    public struct LocatedEvent: Sendable {
        public let rowID: Int64
        public let apiID: String
        public let instance: String
        public let epoch: Int64
        public var archiveID: String?

        public init(rowID: Int64, apiID: String, instance: String, epoch: Int64, archiveID: String? = nil) {
            self.rowID = rowID
            self.apiID = apiID
            self.instance = instance
            self.epoch = epoch
            self.archiveID = archiveID
        }
    }

    /// How many candidates `locate` reads at most: enough to list ten and say there are more.
    public static let locateCandidates = 11

    /// `eventID` trimmed, as `locate` looks it up.
    /// - Throws: `QueryInputError` for an empty id.
    public static func idPrefix(_ eventID: String) throws -> String {
        let prefix = eventID.trimmingCharacters(in: .whitespaces)
        guard !prefix.isEmpty else { throw QueryInputError("empty event id: give an event id or a prefix of one") }
        return prefix
    }

    /// The event whose API id is `eventID` or starts with it (on `instance` when given).
    /// - Throws: `QueryInputError` when none matches, or several do (listing them).
    static func locate(eventID: String, instance: String?, in session: ReadSession) throws -> LocatedEvent {
        let prefix = try idPrefix(eventID)
        var found: [LocatedEvent] = []
        // A range on (instance_id, api_id), the unique index: U+10FFFF sorts after anything that can follow.
        var sql = """
            SELECT e.id, e.api_id, i.name, e.creation_epoch FROM events e JOIN instances i ON i.id = e.instance_id
            WHERE e.instance_id IN (SELECT id FROM instances) AND e.api_id >= ?1 AND e.api_id < ?2
            """
        var values: [SQLValue] = [.text(prefix), .text(prefix + "\u{10FFFF}")]
        if let instance { sql += " AND i.name = ?3"; values.append(.text(instance)) }
        sql += " ORDER BY e.api_id, i.name LIMIT \(locateCandidates)"
        try session.forEachRow(sql, values) { row in
            found.append(LocatedEvent(rowID: row.int64(at: 0), apiID: row.string(at: 1), instance: row.string(at: 2),
                                      epoch: row.int64(at: 3)))
        }
        return try choose(prefix, instance: instance, among: found)
    }

    /// The one event `prefix` names among `found` (the events whose id starts with it, by id then instance,
    /// at most `locateCandidates`).
    /// - Throws: `QueryInputError` when none matches, or several do (listing them).
    public static func choose(_ prefix: String, instance: String?, among found: [LocatedEvent]) throws -> LocatedEvent {
        let onInstance = instance.map { " for instance \(TimeExpression.quoted($0))" } ?? ""
        guard let first = found.first else {
            throw QueryInputError("no event with id \(TimeExpression.quoted(prefix)) in the archive" + onInstance)
        }
        // The exact id wins over longer ids it is a prefix of.
        let exact = found.filter { $0.apiID == prefix }
        let candidates = exact.isEmpty ? found : exact
        let ids = Set(candidates.map(\.apiID))
        if ids.count > 1 {
            let listed = candidates.prefix(10).map { "\($0.apiID) (\($0.instance))" }.joined(separator: ", ")
            throw QueryInputError("event id prefix \(TimeExpression.quoted(prefix)) is ambiguous" + onInstance + ": "
                                  + listed + (found.count > 10 ? ", …" : "") + "; give more of the id")
        }
        guard candidates.count == 1 else {
            throw QueryInputError("event id \(TimeExpression.quoted(first.apiID)) exists on instances "
                                  + candidates.map(\.instance).sorted().joined(separator: ", ") + ": add --instance")
        }
        return candidates[0]
    }
}

/// How `events` lays out a row.
public enum EventLayout: Sendable, Equatable {
    /// The API's members as received (`source` and `data` byte for byte): JSON and NDJSON.
    case received
    /// Flat, readable columns with a one-line summary (`EventQuery.readableColumns`): tables and CSV.
    /// `shortIDs` shows the first `EventQuery.shortIDLength` characters of the id (tables).
    case readable(shortIDs: Bool)

    /// Tables get readable rows with short ids, CSV readable rows with whole ids, JSON and NDJSON the
    /// events as received.
    public init(format: OutputFormat) {
        switch format {
        case .table: self = .readable(shortIDs: true)
        case .csv: self = .readable(shortIDs: false)
        case .json, .ndjson: self = .received
        }
    }
}

/// Builds the cells of one picked event row (a layout's second phase).
private protocol EventRowMaker {
    /// The cells of version `version` of the event with row id `eventRowID`, and the row's time.
    mutating func row(eventRowID: Int64, version: Int64) throws -> ([Cell], Int64)
}

private func missingVersion(_ rowID: Int64, _ version: Int64, _ session: ReadSession) -> SQLiteError {
    SQLiteError(kind: .notADatabase, code: 0, message: "event row \(rowID) has no version \(version)", context: session.path)
}

/// The API's members as received, cut from the stored raw JSON.
private struct ReceivedEventRows: EventRowMaker {
    let session: ReadSession
    let history: Bool
    let detail: Statement

    init(session: ReadSession, history: Bool) throws {
        self.session = session
        self.history = history
        detail = try session.prepare("""
            SELECT e.api_id, e.action, \(history ? "v.creation_epoch" : "e.creation_epoch"), v.raw, i.name, v.version, v.first_seen_at
            FROM events e JOIN event_versions v ON v.event_id = e.id AND v.version = ?2
            JOIN instances i ON i.id = e.instance_id
            WHERE e.id = ?1
            """)
    }

    mutating func row(eventRowID: Int64, version: Int64) throws -> ([Cell], Int64) {
        detail.reset()
        try detail.bind(eventRowID, at: 1)
        try detail.bind(version, at: 2)
        guard try detail.step() else { throw missingVersion(eventRowID, version, session) }
        let epoch = detail.int64(at: 2)
        let cells = EventQuery.receivedCells(id: detail.textCell(0), action: detail.textCell(1), epoch: epoch,
                                             raw: detail.bytes(at: 3), instance: detail.textCell(4),
                                             history: history ? (detail.integerCell(5), detail.timeCell(6)) : nil)
        return (cells, epoch)
    }
}

extension EventQuery {
    /// A row of the received layout (`columns`, and `historyColumns` when `history` gives the version and
    /// first-seen cells): `creationTime`, `source` and `data` cut from the version's raw JSON as received.
    public static func receivedCells(id: Cell, action: Cell, epoch: Int64, raw: [UInt8], instance: Cell,
                                     history: (version: Cell, firstSeen: Cell)?) -> [Cell] {
        // One pass over the stored JSON finds the three members the output keeps as received.
        let members = (try? RawJSON.values(forKeys: ["creationTime", "source", "data"], in: raw)) ?? [nil, nil, nil]
        var cells: [Cell] = [id, action, members[0].map { .receivedTime(epoch, Array($0)) } ?? .time(epoch),
                             members[1].map { .json(Array($0)) } ?? .null, members[2].map { .json(Array($0)) } ?? .null,
                             instance]
        if let history { cells += [history.version, history.firstSeen] }
        return cells
    }

    /// A row of the readable layout (`readableColumns`, and the history cells when given).
    public static func readableCells(facts: EventFacts, epoch: Int64, instance: Cell, id: String, shortIDs: Bool,
                                     history: (version: Cell, firstSeen: Cell)?) -> [Cell] {
        func cell(_ value: String?) -> Cell { value.map(Cell.text) ?? .null }
        var cells: [Cell] = [.time(epoch), instance, .text(facts.action), cell(facts.actor), cell(facts.subject),
                             cell(facts.ip), cell(facts.app), .text(EventSummary.text(of: facts)),
                             .text(shortIDs ? String(id.prefix(EventQuery.shortIDLength)) : id)]
        if let history { cells += [history.version, history.firstSeen] }
        return cells
    }

    /// `cells` with the `--around` offset column added where the layout puts it (first in readable rows,
    /// last in received ones): "anchor" on the anchor event (`isAnchor`), else the distance from it.
    public func withOffset(_ cells: [Cell], isAnchor: Bool, seconds: Int64) -> [Cell] {
        let offset = Cell.text(isAnchor ? "anchor" : EventQuery.offsetText(seconds))
        return layout == .received ? cells + [offset] : [offset] + cells
    }
}

/// Flat columns from the version's extracted fields (`event_fields`), never its raw JSON.
private struct ReadableEventRows: EventRowMaker {
    let session: ReadSession
    let history: Bool
    let shortIDs: Bool
    let detail: Statement
    /// An app named only by id in this event (an LDAP or OIDC login, a task): its name from another event.
    let appName: Statement
    var appNames: [String: String?] = [:]
    /// The role before and after each user.add/update/remove (by version id), read once when the first one
    /// is listed: `user_role_changes` sorts every user event of the archive to find the role before.
    var roles: [Int64: (before: String?, after: String?)]?

    init(session: ReadSession, history: Bool, shortIDs: Bool) throws {
        self.session = session
        self.history = history
        self.shortIDs = shortIDs
        detail = try session.prepare("""
            SELECT e.api_id, e.action, \(history ? "v.creation_epoch" : "e.creation_epoch"), i.name, v.version, v.first_seen_at,
                   f.actor_name, f.actor_id, f.ip, f.auth_type, f.mailbox_id, f.client_app_id, f.user_id, f.user_name,
                   f.app_id, f.app_name, f.task_id, f.backup_id, f.error_message, f.success, v.id
            FROM events e JOIN event_versions v ON v.event_id = e.id AND v.version = ?2
            JOIN instances i ON i.id = e.instance_id
            LEFT JOIN event_fields f ON f.version_id = v.id
            WHERE e.id = ?1
            """)
        appName = try session.prepare("""
            SELECT app_name FROM event_fields f JOIN events e ON e.id = f.event_id
            WHERE f.app_id = ?1 AND f.app_name IS NOT NULL AND e.instance_id = (SELECT instance_id FROM events WHERE id = ?2)
            LIMIT 1
            """)
    }

    mutating func row(eventRowID: Int64, version: Int64) throws -> ([Cell], Int64) {
        detail.reset()
        try detail.bind(eventRowID, at: 1)
        try detail.bind(version, at: 2)
        guard try detail.step() else { throw missingVersion(eventRowID, version, session) }
        func text(_ index: Int32) -> String? { detail.isNull(at: index) ? nil : detail.string(at: index) }
        var facts = EventFacts(action: detail.string(at: 1), actorName: text(6), actorID: text(7), ip: text(8),
                               authType: text(9), mailbox: text(10), clientAppID: text(11), userID: text(12),
                               userName: text(13), appID: text(14), appName: text(15), taskID: text(16),
                               backupID: text(17), errorMessage: text(18),
                               success: detail.isNull(at: 19) ? nil : detail.int64(at: 19) != 0)
        if facts.appName == nil, let id = facts.appID ?? facts.clientAppID {
            facts.appName = try name(ofApp: id, eventRowID: eventRowID)
        }
        if ["user.add", "user.update", "user.remove"].contains(facts.action) {
            let role = try roleChanges()[detail.int64(at: 20)]
            (facts.roleBefore, facts.roleAfter) = (role?.before, role?.after)
        }
        let epoch = detail.int64(at: 2)
        let cells = EventQuery.readableCells(facts: facts, epoch: epoch, instance: detail.textCell(3), id: detail.string(at: 0),
                                             shortIDs: shortIDs, history: history ? (detail.integerCell(4), detail.timeCell(5)) : nil)
        return (cells, epoch)
    }

    private mutating func roleChanges() throws -> [Int64: (before: String?, after: String?)] {
        if let roles { return roles }
        var loaded: [Int64: (before: String?, after: String?)] = [:]
        try session.forEachRow("SELECT seq, roleBefore, roleAfter FROM user_role_changes") { row in
            loaded[row.int64(at: 0)] = (row.isNull(at: 1) ? nil : row.string(at: 1), row.isNull(at: 2) ? nil : row.string(at: 2))
        }
        roles = loaded
        return loaded
    }

    private mutating func name(ofApp id: String, eventRowID: Int64) throws -> String? {
        if let known = appNames[id] { return known }
        appName.reset()
        try appName.bind(id, at: 1)
        try appName.bind(eventRowID, at: 2)
        let name = try appName.step() ? appName.string(at: 0) : nil
        appNames[id] = name
        return name
    }
}
