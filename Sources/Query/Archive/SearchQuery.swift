import Foundation
import Archiver

/// What `search --in` can cover.
public enum SearchScope: String, Sendable, CaseIterable {
    case events
    case notifications
    case tasks

    /// `events,notifications,tasks` (any subset, any order).
    /// - Throws: `QueryInputError` naming the accepted values.
    public static func parseList(_ text: String) throws -> Set<SearchScope> {
        var scopes = Set<SearchScope>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = item.trimmingCharacters(in: .whitespaces).lowercased()
            guard let scope = SearchScope(rawValue: name) else {
                throw QueryInputError("invalid --in value \(TimeExpression.quoted(String(item))): use a comma-separated "
                                      + "list of events, notifications and tasks")
            }
            scopes.insert(scope)
        }
        return scopes
    }
}

/// `search QUERY [filters] [--rank] [--raw] [--in events,notifications,tasks]`: full-text search.
///
/// Columns (one shape for every scope): `kind` (event, notification or task), `id` (the API id),
/// `creationTime`, `instance`, `summary` (the event's action, the notification's title or the task's
/// type), `snippet` (the best-matching column with the hits in «…»), and `object`: the whole object's JSON
/// exactly as received, so nothing of the original is lost.
/// Chronological by `filter.order` (newest first by default); with `rankByRelevance` by FTS5's bm25,
/// best first, ties newest first. Filters `--action`, `--user`, `--app` and `--ip` only make sense for
/// events and are refused when notifications or tasks are searched too.
public struct SearchQuery: Sendable {
    public let query: FTSQuery
    public let filter: EventFilter
    public let rankByRelevance: Bool
    public let scopes: Set<SearchScope>

    /// - Throws: `QueryInputError` for an invalid filter, no scope, or an event filter with other scopes.
    public init(query: FTSQuery, filter: EventFilter = EventFilter(), rankByRelevance: Bool = false,
                scopes: Set<SearchScope> = [.events]) throws {
        try filter.validate()
        guard !scopes.isEmpty else { throw QueryInputError("--in needs at least one of events, notifications, tasks") }
        if scopes != [.events] { try filter.requireNoEventOnlyFilters(for: "notifications and tasks") }
        self.query = query
        self.filter = filter
        self.rankByRelevance = rankByRelevance
        self.scopes = scopes
    }

    public static let columns = ["kind", "id", "creationTime", "instance", "summary", "snippet", "object"].map(Column.init)

    /// Streams the hits into `writer` and returns how many there were.
    /// - Throws: `QueryInputError` for (raw mode) an FTS5 syntax error; `SQLiteError`.
    @discardableResult
    public func run<W: RowWriter>(on session: ReadSession, into writer: inout W) throws -> Int {

        var arms: [SQLFragment] = []
        let match = SQLValue.text(query.matchExpression)
        let marks = "'«', '»', '…', 12"
        if scopes.contains(.events) {
            let condition = filter.eventCondition()
            arms.append(SQLFragment("""
                SELECT 'event' AS kind, e.api_id AS api_id, e.creation_epoch AS epoch, i.name AS instance,
                       e.action AS summary, snippet(events_fts, -1, \(marks)) AS snippet, v.raw AS raw,
                       bm25(events_fts) AS score, e.id AS row_id
                FROM events_fts JOIN events e ON e.id = events_fts.rowid
                JOIN event_versions v ON v.event_id = e.id AND v.version = e.version
                JOIN instances i ON i.id = e.instance_id
                WHERE events_fts MATCH ? AND \(condition.sql)
                """, [match] + condition.values))
        }
        for (scope, table, summary) in [(SearchScope.notifications, "notifications", "title"), (.tasks, "tasks", "type")]
        where scopes.contains(scope) {
            let singular = String(table.dropLast())
            var conditions = filter.timeConditions(column: "o.creation_epoch")
            if let instance = filter.instance { conditions.append(SQLFragment("i.name = ?", [.text(instance)])) }
            let condition = SQLFragment.and(conditions)
            arms.append(SQLFragment("""
                SELECT '\(singular)' AS kind, o.api_id AS api_id, o.creation_epoch AS epoch, i.name AS instance,
                       o.\(summary) AS summary, snippet(\(table)_fts, -1, \(marks)) AS snippet, v.raw AS raw,
                       bm25(\(table)_fts) AS score, o.id AS row_id
                FROM \(table)_fts JOIN \(table) o ON o.id = \(table)_fts.rowid
                JOIN \(singular)_versions v ON v.\(singular)_id = o.id AND v.version = o.version
                JOIN instances i ON i.id = o.instance_id
                WHERE \(table)_fts MATCH ? AND \(condition.sql)
                """, [match] + condition.values))
        }
        let direction = filter.order == .newest ? "DESC" : "ASC"
        let order = rankByRelevance
            ? "ORDER BY score ASC, epoch DESC, kind, row_id DESC"
            : "ORDER BY epoch \(direction), kind, row_id \(direction)"
        let limit = filter.limitClause
        let sql = "SELECT kind, api_id, epoch, instance, summary, snippet, raw FROM ("
            + arms.map(\.sql).joined(separator: "\nUNION ALL\n") + ")\n\(order)\n\(limit.sql)"
        return try RowStreaming.run(session, SQLFragment(sql, arms.flatMap(\.values) + limit.values),
                                    columns: SearchQuery.columns, rawSearch: query, into: &writer) { row in
            [row.textCell(0), row.textCell(1), row.timeCell(2), row.textCell(3), row.textCell(4), row.textCell(5),
             row.jsonCell(6)]
        }
    }
}
