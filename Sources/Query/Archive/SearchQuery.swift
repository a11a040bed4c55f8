import Foundation
import Archiver

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
    /// The kinds searched (`--in`).
    public let scopes: Set<ObjectKind>

    /// - Throws: `QueryInputError` for an invalid filter, no scope, or an event filter with other scopes.
    public init(query: FTSQuery, filter: EventFilter = EventFilter(), rankByRelevance: Bool = false,
                scopes: Set<ObjectKind> = [.events]) throws {
        try filter.validate()
        guard !scopes.isEmpty else { throw QueryInputError("--in needs at least one of events, notifications, tasks") }
        if scopes != [.events] { try filter.requireNoEventOnlyFilters(for: "notifications and tasks") }
        self.query = query
        self.filter = filter
        self.rankByRelevance = rankByRelevance
        self.scopes = scopes
    }

    /// Parses `--in events,notifications,tasks` (any subset, any order).
    /// - Throws: `QueryInputError` naming the accepted values.
    public static func parseScopes(_ text: String) throws -> Set<ObjectKind> {
        Set(try CommaList.parse(text) { name in
            guard let scope = ObjectKind(name: name.lowercased()) else {
                throw QueryInputError("invalid --in value \(TimeExpression.quoted(name)): use a comma-separated "
                                      + "list of events, notifications and tasks")
            }
            return scope
        })
    }

    /// FTS5 `snippet()`'s arguments after the column: hits in «…», `…` where text is cut, 12 tokens.
    public static let snippetArguments = "'«', '»', '…', 12"

    public static let columns = ["kind", "id", "creationTime", "instance", "summary", "snippet", "object"].map(Column.init)

    /// Streams the hits into `writer` and returns how many there were.
    /// - Throws: `QueryInputError` for (raw mode) an FTS5 syntax error; `SQLiteError`.
    @discardableResult
    public func run<W: RowWriter>(on session: ReadSession, into writer: inout W) throws -> Int {
        try ArchivedNames.requireKnownInstance(filter, in: session)

        var arms: [SQLFragment] = []
        let match = SQLValue.text(query.matchExpression)
        for kind in ObjectKind.allCases where scopes.contains(kind) {
            // Events take every filter; the other kinds only time and instance (checked above).
            let (alias, condition) = kind == .events
                ? ("e", filter.eventCondition())
                : ("o", SQLFragment.and(filter.timeConditions(column: "o.creation_epoch")
                                        + (filter.instance.map { [SQLFragment("i.name = ?", [.text($0)])] } ?? [])))
            let (fts, current, versions) = (kind.ftsTable, kind.currentTable, kind.versionTable)
            arms.append(SQLFragment("""
                SELECT '\(kind.singular)' AS kind, \(alias).api_id AS api_id, \(alias).creation_epoch AS epoch, i.name AS instance,
                       \(alias).\(kind.summaryColumn) AS summary, v.raw AS raw,
                       bm25(\(fts)) AS score, \(alias).id AS row_id
                FROM \(fts) JOIN \(current) \(alias) ON \(alias).id = \(fts).rowid
                JOIN \(versions) v ON v.\(kind.parentColumn) = \(alias).id AND v.version = \(alias).version
                JOIN instances i ON i.id = \(alias).instance_id
                WHERE \(fts) MATCH ? AND \(condition.sql)
                """, [match] + condition.values))
        }
        let direction = filter.order == .newest ? "DESC" : "ASC"
        let order = rankByRelevance
            ? "ORDER BY score ASC, epoch DESC, kind, row_id DESC"
            : "ORDER BY epoch \(direction), kind, row_id \(direction)"
        let limit = filter.limitClause
        let sql = "SELECT kind, api_id, epoch, instance, summary, raw FROM ("
            + arms.map(\.sql).joined(separator: "\nUNION ALL\n") + ")\n\(order)\n\(limit.sql)"
        // Snippets are made for the rows printed only, from their raw JSON: the events table no longer holds
        // the text that snippet() would read (schema 11). FTS5's snippet() of the one row gives the same fragment.
        let tokenizers = try Dictionary(uniqueKeysWithValues: scopes.map { ($0, try SearchTokenizer(kind: $0)) })
        return try RowStreaming.run(session, SQLFragment(sql, arms.flatMap(\.values) + limit.values),
                                    columns: SearchQuery.columns, rawSearch: query, into: &writer) { row in
            let raw = row.bytes(at: 5)
            let kind = ObjectKind.allCases.first { $0.singular == row.string(at: 0) } ?? .events
            let snippet = try (try? kind.searchTexts(raw: raw)).flatMap { texts in
                try tokenizers[kind]?.snippet(of: texts, match: query.matchExpression, arguments: SearchQuery.snippetArguments)
            }
            return [row.textCell(0), row.textCell(1), row.timeCell(2), row.textCell(3), row.textCell(4),
                    snippet.map(Cell.text) ?? .null, .json(raw)]
        }
    }
}
