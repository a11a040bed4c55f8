import Archiver
import Foundation
import Testing

/// `SearchTokenizer` calls FTS5's unicode61 tokenizer directly; what it returns must be what an FTS5 index
/// holds for the same texts. The oracle is such an index: an FTS5 table with the kind's columns, read back
/// through `fts5vocab` (every term with its row, column and position).
@Suite struct SearchTokenizerTests {
    @Test func tokensAreTheTermsAnFTS5IndexHoldsForTheSameTexts() throws {
        let long = String(repeating: "Ab", count: 20_000)   // 40,000 bytes: FTS5 keeps the first 32,768
        let texts = [
            "user.login alice@example.com from 203.0.113.24 via OIDC",
            "Ünïcödé FAÇADE ﬁre ÆØÅ straße İstanbul ΣΊΣΥΦΟΣ 東京 タワー 😀emoji",
            "it's a\\b \"quoted\" tab\there new\nline — dash_under-score 1st 2.50 0x1F",
            "", "   ", "!!!", "x", long, "app.oom redis c1 {\"json\":[1,2]}",
        ]
        // Documents of three columns, each text in several places, some columns missing.
        var documents: [[String]] = []
        for (index, text) in texts.enumerated() {
            documents.append([text, texts[(index + 1) % texts.count], texts[(index + 3) % texts.count]])
            documents.append([text])
        }
        for kind in ObjectKind.allCases {
            let tokenizer = try SearchTokenizer(kind: kind)
            let found = try tokenizer.tokens(of: documents)
            let expected = try Self.indexed(documents, columns: kind.searchableColumns)
            #expect(found == expected, "\(kind)")
        }
        let tokenizer = try SearchTokenizer(kind: .events)
        #expect(try tokenizer.tokens(of: "Ünïcödé FAÇADE it's") == ["unicode", "facade", "it", "s"])
        #expect(try tokenizer.tokens(of: long).first?.utf8.count == 32_768)
    }

    /// The terms an FTS5 table stores for `documents`, per document and column, in position order.
    static func indexed(_ documents: [[String]], columns: [String]) throws -> [[[String]]] {
        let database = try Database(inMemory: ())
        try database.execute("""
            CREATE VIRTUAL TABLE documents USING fts5(\(columns.joined(separator: ", ")));
            CREATE VIRTUAL TABLE terms USING fts5vocab(documents, instance);
            """)
        for (row, texts) in documents.enumerated() {
            try database.run("INSERT INTO documents(rowid, \(columns.joined(separator: ", "))) VALUES (?"
                             + String(repeating: ", ?", count: columns.count) + ")",
                             [.integer(Int64(row))] + columns.indices.map { .text($0 < texts.count ? texts[$0] : "") })
        }
        var found = documents.map { _ in columns.map { _ in [(offset: Int64, term: String)]() } }
        try database.forEachRow("SELECT doc, col, \"offset\", term FROM terms") { row in
            guard let column = columns.firstIndex(of: row.string(at: 1)) else { return }
            found[Int(row.int64(at: 0))][column].append((row.int64(at: 2), row.string(at: 3)))
        }
        return found.map { $0.map { $0.sorted { $0.offset < $1.offset }.map(\.term) } }
    }
}
