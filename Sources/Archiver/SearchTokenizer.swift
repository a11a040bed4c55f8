import Client

/// Full-text search as the archive's FTS5 index does it, for places that have no such index: the central
/// PostgreSQL store indexes the tokens made here and turns the matching rows' texts into snippets here.
///
/// The work is done by SQLite's FTS5 itself, on a private in-memory table with the kind's index columns
/// and the archive's tokenizer (FTS5's default, `unicode61`, as `kind.ftsTable` in schema 0001): a token,
/// its folding (case, diacritics), a syntax error and a snippet are FTS5's own, not an imitation of them.
/// Tokens are read back through an `fts5vocab` table of type `instance` (term, row, column, offset).
///
/// Not thread-safe: one per thread (each owns its in-memory database).
public final class SearchTokenizer {
    public let kind: ObjectKind
    private let database: Database

    public init(kind: ObjectKind) throws {
        self.kind = kind
        database = try Database(inMemory: ())
        let columns = kind.searchableColumns.joined(separator: ", ")
        try database.execute("""
            CREATE VIRTUAL TABLE documents USING fts5(\(columns));
            CREATE VIRTUAL TABLE tokens USING fts5vocab(documents, instance);
            """)
    }

    /// The index's columns, in order (`kind.searchableColumns`).
    public var columns: [String] { kind.searchableColumns }

    /// The tokens of each document (one text per index column), per column, in order.
    public func tokens(of documents: [[String]]) throws -> [[[String]]] {
        guard !documents.isEmpty else { return [] }
        let columns = self.columns
        var found = documents.map { _ in columns.map { _ in [(offset: Int64, term: String)]() } }
        try database.transaction {
            try database.execute("DELETE FROM documents")
            let insert = "INSERT INTO documents(rowid, \(columns.joined(separator: ", "))) VALUES (?"
                + String(repeating: ", ?", count: columns.count) + ")"
            for (row, texts) in documents.enumerated() {
                try database.run(insert, [.integer(Int64(row))] + columns.indices.map { .text($0 < texts.count ? texts[$0] : "") })
            }
            let columnIndex = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1, $0) })
            try database.forEachRow("SELECT doc, col, \"offset\", term FROM tokens") { row in
                guard let column = columnIndex[row.string(at: 1)] else { return }
                found[Int(row.int64(at: 0))][column].append((row.int64(at: 2), row.string(at: 3)))
            }
            try database.execute("DELETE FROM documents")
        }
        return found.map { $0.map { $0.sorted { $0.offset < $1.offset }.map(\.term) } }
    }

    /// The tokens of one text, as FTS5 tokenizes a query string (`unicode61` treats both alike).
    public func tokens(of text: String) throws -> [String] {
        try tokens(of: [[text]]).first?.first ?? []
    }

    /// Checks a MATCH expression as the archive's index would: throws FTS5's own `SQLiteError` for a
    /// syntax error or an unknown column.
    public func check(match expression: String) throws {
        try database.forEachRow("SELECT rowid FROM documents WHERE documents MATCH ?", [.text(expression)]) { _ in }
    }

    /// FTS5's `snippet(table, -1, arguments…)` of one document for `expression`; nil when the document
    /// does not match it.
    /// - Parameter arguments: snippet()'s arguments after the column, as SQL literals (`'«', '»', '…', 12`).
    public func snippet(of texts: [String], match expression: String, arguments: String) throws -> String? {
        let columns = self.columns
        return try database.transaction {
            try database.execute("DELETE FROM documents")
            try database.run("INSERT INTO documents(rowid, \(columns.joined(separator: ", "))) VALUES (1"
                             + String(repeating: ", ?", count: columns.count) + ")",
                             columns.indices.map { .text($0 < texts.count ? texts[$0] : "") })
            let snippet = try database.scalarString("SELECT snippet(documents, -1, \(arguments)) FROM documents WHERE documents MATCH ?",
                                                    [.text(expression)])
            try database.execute("DELETE FROM documents")
            return snippet
        }
    }
}

extension ObjectKind {
    /// The texts the kind's FTS index holds for an object (one per `searchableColumns`), derived from its
    /// JSON by the same column list ingest indexes them with (`ArchivableObject.columns`, `SearchText`). The
    /// archive needs them again for an FTS 'delete', snippets and `verify`: since schema 11 the events table
    /// does not keep them (`CurrentStateColumn.stored`).
    /// - Throws: when the JSON is not an object of the kind (the archive never stores such a version).
    public func searchTexts(raw: [UInt8]) throws -> [String] {
        try objectType.init(json: raw).searchableValues.map { value in
            if case .text(let text) = value { text } else { "" }
        }
    }
}
