import Archiver
import Query

/// `search --from postgresql://…`: `SearchQuery` on the central store, with the same hits, columns and
/// order as on the archive.
///
/// The FTS5 expression is checked by FTS5 itself (`SearchTokenizer`: the same one-line error for the
/// same mistake), parsed (`FTSExpression`) and translated into a tsquery over the tokens the push stored
/// (`StoreSearchDocuments`): a phrase's terms become `<->`-joined lexemes (its strings tokenized by FTS5),
/// a `*` becomes `:*`, a column filter the columns' weights, AND/OR/NOT `&`, `|`, `& !`. A phrase without
/// any token matches nothing, as in FTS5. `NEAR` and `^` have no tsquery form and are refused.
/// Snippets are FTS5's `snippet()` over the hit's texts. With `--rank`, PostgreSQL's `ts_rank` orders
/// (bm25 needs FTS5's statistics of the whole index): the same hits, possibly in another order.
public struct StoreSearchQuery {
    public let search: SearchQuery

    public init(_ search: SearchQuery) { self.search = search }

    /// Streams the hits into `writer` and returns how many there were.
    /// - Throws: `QueryInputError` for an invalid or untranslatable expression, an unknown instance;
    ///   `CentralStoreError`.
    @discardableResult
    public func run<W: RowWriter>(on connection: PostgresConnection, into writer: inout W) throws -> Int {
        let kinds = ObjectKind.allCases.filter(search.scopes.contains)
        var tokenizers: [ObjectKind: SearchTokenizer] = [:]
        var tsqueries: [ObjectKind: String?] = [:]
        for kind in kinds {
            let tokenizer = try SearchTokenizer(kind: kind)
            do { try tokenizer.check(match: search.query.matchExpression) } catch let error as SQLiteError {
                throw search.query.syntaxError(error.message)
            }
            tokenizers[kind] = tokenizer
        }
        let expression = try FTSExpression(parsing: search.query.matchExpression)
        for kind in kinds {
            guard let tokenizer = tokenizers[kind] else { continue }
            tsqueries[kind] = try StoreTSQuery.render(expression, tokenizer: tokenizer)
        }
        try CentralSchema.check(connection)
        return try connection.transaction {
            try connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            let schema = CentralSchema.schemaName
            let names = try connection.query("SELECT DISTINCT name FROM \(schema).instances ORDER BY name").rows.compactMap { $0[0] }
            try ArchivedNames.requireKnownInstance(search.filter, among: names)
            var parameters = StoreSQL()
            var arms: [String] = []
            for kind in kinds {
                // A query no row can match (every phrase without a token): no arm.
                guard let tsquery = tsqueries[kind] ?? nil else { continue }
                let filter = search.filter
                let alias = kind == .events ? "e" : "o"
                var conditions = kind == .events
                    ? filter.storeCondition(timeColumn: "e.creation_epoch", parameters: &parameters)
                    : filter.storeTimeConditions(column: "o.creation_epoch", parameters: &parameters)
                        + (filter.instance.map { ["i.name = \(parameters.bind($0))"] } ?? [])
                let match = parameters.bind(tsquery)
                conditions.insert("s.document @@ \(match)::tsquery", at: 0)
                arms.append("""
                    SELECT '\(kind.singular)' AS kind, \(alias).api_id AS api_id, \(alias).creation_epoch AS epoch, i.name AS instance,
                           \(alias).\(kind.summaryColumn) AS summary, v.raw AS raw, ts_rank(s.document, \(match)::tsquery) AS score,
                           \(alias).id AS row_id, \(alias).archive_id AS archive_id
                    FROM \(schema).\(StoreSearchDocuments.table(kind)) s
                    JOIN \(schema).\(kind.currentTable) \(alias) ON \(alias).archive_id = s.archive_id AND \(alias).id = s.id
                    JOIN \(schema).\(kind.versionTable) v ON v.archive_id = \(alias).archive_id AND v.\(kind.parentColumn) = \(alias).id
                         AND v.version = \(alias).version
                    JOIN \(schema).instances i ON i.archive_id = \(alias).archive_id AND i.id = \(alias).instance_id
                    WHERE \(conditions.joined(separator: " AND "))
                    """)
            }
            guard !arms.isEmpty else {
                try writer.begin(columns: SearchQuery.columns)
                try writer.finish()
                return 0
            }
            let direction = search.filter.order == .newest ? "DESC" : "ASC"
            let order = search.rankByRelevance
                ? "ORDER BY score DESC, epoch DESC, kind COLLATE \"C\", row_id DESC, archive_id DESC"
                : "ORDER BY epoch \(direction), kind COLLATE \"C\", row_id \(direction), archive_id \(direction)"
            let sql = "SELECT kind, api_id, epoch, instance, summary, raw FROM (\n" + arms.joined(separator: "\nUNION ALL\n")
                + "\n) hits\n\(order)\n\(search.filter.storeLimit(parameters: &parameters))"
            return try StoreRows.stream(connection, sql, parameters.values, columns: SearchQuery.columns, into: &writer) { row in
                func cell(_ index: Int) -> Cell { row[index].map(Cell.text) ?? .null }
                let raw = Array((row[5] ?? "").utf8)
                let kind = ObjectKind.allCases.first { $0.singular == row[0] } ?? .events
                let snippet = try (try? kind.searchTexts(raw: raw)).flatMap { texts in
                    try tokenizers[kind]?.snippet(of: texts, match: search.query.matchExpression, arguments: SearchQuery.snippetArguments)
                }
                return [cell(0), cell(1), row[2].flatMap { Int64($0) }.map(Cell.time) ?? .null, cell(3), cell(4),
                        snippet.map(Cell.text) ?? .null, row[5] == nil ? .null : .json(raw)]
            }
        }
    }
}

/// The tsquery text of an FTS5 expression over one kind's documents (`StoreSearchDocuments`).
enum StoreTSQuery {
    /// nil when no row can match (FTS5's empty phrase).
    static func render(_ expression: FTSExpression, tokenizer: SearchTokenizer) throws -> String? {
        switch expression {
        case .phrase(let phrase):
            return try render(phrase, tokenizer: tokenizer)
        case .near:
            throw QueryInputError("NEAR(…) has no PostgreSQL form: search the archive itself (--db) for it, or use a phrase or AND")
        case let .and(left, right):
            guard let left = try render(left, tokenizer: tokenizer), let right = try render(right, tokenizer: tokenizer) else { return nil }
            return "(\(left) & \(right))"
        case let .or(left, right):
            let (left, right) = (try render(left, tokenizer: tokenizer), try render(right, tokenizer: tokenizer))
            guard let left, let right else { return left ?? right }
            return "(\(left) | \(right))"
        case let .not(left, right):
            guard let left = try render(left, tokenizer: tokenizer) else { return nil }
            guard let right = try render(right, tokenizer: tokenizer) else { return left }
            return "(\(left) & !\(right))"
        }
    }

    private static func render(_ phrase: FTSExpression.Phrase, tokenizer: SearchTokenizer) throws -> String? {
        if phrase.isInitial {
            throw QueryInputError("^ (a phrase at a column's start) has no PostgreSQL form: search the archive itself (--db) for it")
        }
        let columns = tokenizer.columns
        var allowed = Set(columns.indices)
        for filter in phrase.filters { allowed.formIntersection(filter.allowed(in: columns)) }
        guard !allowed.isEmpty else { return nil }
        let weights = allowed.count == columns.count ? ""
            : allowed.sorted().map { StoreSearchDocuments.weights[min($0, StoreSearchDocuments.weights.count - 1)] }.joined()
        var terms: [String] = []
        for piece in phrase.pieces {
            let tokens = try tokenizer.tokens(of: piece.text)
            for (index, token) in tokens.enumerated() {
                let prefix = piece.isPrefix && index == tokens.count - 1 ? "*" : ""
                let label = prefix + weights
                terms.append(StoreSearchDocuments.lexeme(token) + (label.isEmpty ? "" : ":" + label))
            }
        }
        guard !terms.isEmpty else { return nil }
        return terms.count == 1 ? terms[0] : "(" + terms.joined(separator: " <-> ") + ")"
    }
}
