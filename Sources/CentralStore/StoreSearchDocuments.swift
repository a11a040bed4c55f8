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

    /// Appends the tsvector text of one document (UTF-8) to `bytes`: every token once, in order of first
    /// appearance, with its positions and its column's weight (`'login':1A,7B 'alice':2A`).
    ///
    /// Written byte by byte, without a String per position or lexeme: it runs for every object a push sends
    /// (Benchmarks/NOTES.md, "The central store").
    static func appendDocument(_ columns: [[String]], to bytes: inout [UInt8]) {
        // The tokens in order of first appearance, each with a chain of its occurrences (no array per token).
        var slots: [String: Int] = [:]
        var tokens: [String] = []
        var first: [Int] = [], last: [Int] = []
        var occurrences: [(position: Int, weight: UInt8, next: Int)] = []
        var start = 1
        for (column, columnTokens) in columns.enumerated() {
            let weight = weightLetters[min(column, weightLetters.count - 1)]
            for (offset, token) in columnTokens.enumerated() {
                occurrences.append((min(start + offset, maximumPosition), weight, -1))
                let occurrence = occurrences.count - 1
                if let slot = slots[token] {
                    occurrences[last[slot]].next = occurrence
                    last[slot] = occurrence
                } else {
                    slots[token] = tokens.count
                    tokens.append(token)
                    first.append(occurrence)
                    last.append(occurrence)
                }
            }
            start += columnTokens.count + 1
        }
        for (slot, token) in tokens.enumerated() {
            if slot > 0 { bytes.append(UInt8(ascii: " ")) }
            appendLexeme(token, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            var occurrence = first[slot]
            while occurrence >= 0 {
                if occurrence != first[slot] { bytes.append(UInt8(ascii: ",")) }
                appendDecimal(occurrences[occurrence].position, to: &bytes)
                bytes.append(occurrences[occurrence].weight)
                occurrence = occurrences[occurrence].next
            }
        }
    }

    private static let weightLetters = weights.map { UInt8(ascii: $0.unicodeScalars.first ?? "D") }

    private static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        var divisor = 1
        while divisor * 10 <= value { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// A lexeme as tsvector and tsquery text write it: in single quotes, `'` doubled, `\` escaped.
    /// FTS5's unicode61 tokens are letters and digits only, so the escaping almost never has work to do:
    /// a token is copied as it is unless it holds one of the two bytes.
    static func appendLexeme(_ token: String, to bytes: inout [UInt8]) {
        var token = token
        bytes.append(UInt8(ascii: "'"))
        token.withUTF8 { utf8 in
            if !utf8.contains(where: { $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "\\") }) {
                bytes.append(contentsOf: utf8)
                return
            }
            for byte in utf8 {
                if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\\") { bytes.append(byte) }
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "'"))
    }

    static func lexeme(_ token: String) -> String {
        var bytes: [UInt8] = []
        appendLexeme(token, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension ArchivePush {
    /// Writes the search documents of the kind's current-state rows that `whereClause` picks (over the
    /// archive's current table), which the store must not hold yet; returns how many.
    func sendSearchDocuments(_ kind: ObjectKind, archiveID: String, whereClause: String, values: [SQLValue],
                             tokenizer: SearchTokenizer) throws -> Int {
        let statement = try archive.prepare("""
            SELECT c.id, v.raw FROM (SELECT id, version FROM \(kind.currentTable) WHERE \(whereClause)) c
            JOIN \(kind.versionTable) v ON v.\(kind.parentColumn) = c.id AND v.version = c.version ORDER BY c.id
            """)
        try statement.bind(values)
        return try connection.copyIn("COPY \(CentralSchema.qualified(StoreSearchDocuments.table(kind))) (archive_id, id, document) FROM STDIN") { buffer in
            var ids: [Int64] = []
            var texts: [[String]] = []
            var document: [UInt8] = []
            func flush() throws {
                for (id, columns) in zip(ids, try tokenizer.tokens(of: texts)) {
                    buffer.appendText(archiveID)
                    buffer.appendInteger(id)
                    document.removeAll(keepingCapacity: true)
                    StoreSearchDocuments.appendDocument(columns, to: &document)
                    document.withUnsafeBytes { buffer.appendText($0) }
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
    }
}
