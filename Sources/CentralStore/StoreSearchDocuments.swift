import Archiver

/// The central store's full-text index: per kind a table `<current table>_search` (archive_id, id,
/// document), one row per current-state row, `document` a tsvector GIN-indexed.
///
/// PostgreSQL's own parsers split and stem text otherwise than the archive's FTS5 index, so the store
/// never lets PostgreSQL tokenize: a push derives each object's index texts from its raw JSON (the
/// archive's one derivation, `ObjectKind.searchTexts`), has FTS5 tokenize them (`SearchTokenizer`) and
/// stores those tokens with their positions, and a search translates the FTS5 query onto the same tokens
/// (`StoreSearchQuery`). The index's columns become position ranges with a gap between them (so no
/// phrase spans two columns) and weights A, B, C, D (so a column filter is a weight filter).
/// No trigger fills the table: the push writes it with the rows it belongs to.
enum StoreSearchDocuments {
    static func table(_ kind: ObjectKind) -> String { kind.currentTable + "_search" }

    /// Recorded in `store_tables` per archive: a store whose documents were made otherwise (or not at all:
    /// a store from before they existed) has them remade for everything pushed on the next push.
    static let format = "fts5 unicode61 tokens; column weights A-D; a position gap between columns"

    /// One weight per index column, in order; FTS5 tables of the archive have at most three columns.
    static let weights = ["A", "B", "C", "D"]

    /// PostgreSQL keeps positions up to 16383 (larger ones are stored as 16383).
    static let maximumPosition = 16_383

    static func createStatements(_ kind: ObjectKind) -> [String] {
        let table = CentralSchema.qualified(Self.table(kind))
        return [
            "CREATE TABLE IF NOT EXISTS \(table) (archive_id text NOT NULL, id bigint NOT NULL, document tsvector NOT NULL, PRIMARY KEY (archive_id, id))",
            "CREATE INDEX IF NOT EXISTS \(CentralSchema.quoted(Self.table(kind) + "_document")) ON \(table) USING gin (document)",
        ]
    }

    /// The tsvector text of one document: every token with its positions and its column's weight.
    static func document(_ columns: [[String]]) -> String {
        var positions: [String: [String]] = [:]
        var order: [String] = []
        var start = 1
        for (column, tokens) in columns.enumerated() {
            let weight = weights[min(column, weights.count - 1)]
            for (offset, token) in tokens.enumerated() {
                if positions[token] == nil { order.append(token) }
                positions[token, default: []].append("\(min(start + offset, maximumPosition))\(weight)")
            }
            start += tokens.count + 1
        }
        return order.map { lexeme($0) + ":" + (positions[$0] ?? []).joined(separator: ",") }.joined(separator: " ")
    }

    /// A lexeme as tsvector and tsquery text write it: in single quotes, `'` doubled, `\` escaped.
    static func lexeme(_ token: String) -> String {
        "'" + token.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''") + "'"
    }
}

extension ArchivePush {
    /// Writes the search documents of the kind's current-state rows that `selection` picks (a WHERE
    /// clause over the archive's current table), replacing the store's earlier ones; returns how many.
    func sendSearchDocuments(_ kind: ObjectKind, archiveID: String, whereClause: String, values: [SQLValue],
                             tokenizer: SearchTokenizer) throws -> Int {
        let target = CentralSchema.qualified(StoreSearchDocuments.table(kind))
        let stage = CentralSchema.quoted("stage_" + StoreSearchDocuments.table(kind))
        try connection.execute("CREATE TEMPORARY TABLE IF NOT EXISTS \(stage) (LIKE \(target)) ON COMMIT DELETE ROWS")
        let statement = try archive.prepare("""
            SELECT c.id, v.raw FROM (SELECT id, version FROM \(kind.currentTable) WHERE \(whereClause)) c
            JOIN \(kind.versionTable) v ON v.\(kind.parentColumn) = c.id AND v.version = c.version ORDER BY c.id
            """)
        try statement.bind(values)
        let sent = try connection.copyIn("COPY \(stage) (archive_id, id, document) FROM STDIN") { buffer in
            var ids: [Int64] = []
            var texts: [[String]] = []
            func flush() throws {
                for (id, columns) in zip(ids, try tokenizer.tokens(of: texts)) {
                    buffer.appendText(archiveID)
                    buffer.appendInteger(id)
                    buffer.appendText(StoreSearchDocuments.document(columns))
                    buffer.endRow()
                }
                ids.removeAll(keepingCapacity: true)
                texts.removeAll(keepingCapacity: true)
            }
            while try statement.step() {
                ids.append(statement.int64(at: 0))
                // A version whose JSON is no object of its kind is never archived; should one be, it indexes nothing.
                texts.append((try? kind.searchTexts(raw: statement.bytes(at: 1))) ?? [])
                if ids.count == 2_000 { try flush() }
            }
            try flush()
        }
        guard sent > 0 else { return 0 }
        try connection.execute("""
            DELETE FROM \(target) t USING \(stage) s WHERE t.archive_id = s.archive_id AND t.id = s.id;
            INSERT INTO \(target) (archive_id, id, document) SELECT archive_id, id, document FROM \(stage)
            """)
        return sent
    }
}
