import Testing
import TestSupport
@testable import Query

/// Words-mode queries run against a real FTS5 table (the archive's layout: action + searchable text).
@Suite struct FTSQueryTests {
    /// (rowid, action, text)
    static let rows: [(Int, String, String)] = [
        (1, "user.login", "alice 203.0.113.24 oidc user@example.com"),
        (2, "user.login", "bob 10.0.0.1 ldap bob@example.org"),
        (3, "user.login", "carol 10.0.0.12 ldap"),
        (4, "app.install", "wiki.example.com MediaWiki 1.2.0 alice"),
        (5, "app.update", "wiki.example.com from 1.2.0 to 1.3.0 NOT a drill"),
        (6, "app.up", "nextcloud.example.com healthy"),
        (7, "mail.box.add", "O'Brien \"quoted\" (parenthesised) party 🎉 日本語"),
        (8, "backup.finish", "errorMessage timeout AND or NEAR"),
        (9, "user.update", "alicia renamed to alice2"),
    ]

    static func makeDatabase() throws -> TestSQLite {
        let database = try TestSQLite()
        try database.execute("CREATE VIRTUAL TABLE events_fts USING fts5(action, text)")
        for (rowid, action, text) in rows {
            _ = try database.column("INSERT INTO events_fts(rowid, action, text) VALUES (?, ?, ?)",
                                    [String(rowid), action, text])
        }
        return database
    }

    static func search(_ database: TestSQLite, _ query: FTSQuery) throws -> [Int] {
        try database.column("SELECT rowid FROM events_fts WHERE events_fts MATCH ? ORDER BY rowid",
                            [query.matchExpression]).compactMap { $0.flatMap { Int($0) } }
    }

    @Test(arguments: [
        ("user@example.com", [1]),
        ("10.0.0.1", [2]),                  // not 10.0.0.12
        ("10.0.0.12", [3]),
        ("NOT", [5]),
        ("not a drill", [5]),
        ("AND", [8]),
        ("OR", [8]),
        ("NEAR", [8]),
        ("NEAR(timeout", []),               // the adjacent words near timeout: no row has them in a row
        ("NEAR( timeout", [8]),
        ("alice", [1, 4]),
        ("ali*", [1, 4, 9]),                // prefix: alice, alicia, alice2
        ("alice*", [1, 4, 9]),
        ("ALICE", [1, 4]),
        ("\"quoted", [7]),                  // unbalanced quote
        ("\"quoted\"", [7]),
        ("(parenthesised)", [7]),
        ("O'Brien", [7]),
        ("o'brien party", [7]),
        ("app:install", [4]),               // not a column filter: the words app install
        ("app.install", [4]),
        ("app.up", [6]),                    // the phrase app up; app.update is "app update"
        ("action:user", []),                // column-filter syntax is literal words
        ("🎉 party", [7]),                  // emoji are not indexed; the word still counts
        ("日本語", [7]),
        ("wiki.example.com 1.3.0", [5]),
        ("^alice", [1, 4]),
        ("-bob", [2]),
        ("+bob", [2]),
        ("bob AND carol", []),              // literal AND: no row has all three
        ("{text}: alice", []),              // a column filter would find alice; these are the words text alice
        ("a*b", []),
        ("  alice\t\n 203.0.113.24 ", [1]),
        ("alice\u{0}", [1, 4]),
    ] as [(String, [Int])])
    func hostileInputMeansTheLiteralWords(query: String, expected: [Int]) throws {
        let database = try Self.makeDatabase()
        let fts = try FTSQuery(words: query)
        #expect(!fts.isRaw)
        #expect(try Self.search(database, fts) == expected, "\(fts.matchExpression)")
    }

    @Test(arguments: ["", "   ", "\n\t", "*", "***", ":", "()", "\"", "🎉", "🎉 🎈 -- ::"])
    func queriesWithoutWordsAreErrors(query: String) {
        let error = #expect(throws: QueryInputError.self) { try FTSQuery(words: query) }
        #expect(error?.message.contains("\n") == false)
    }

    @Test func quotingDoublesInnerQuotes() throws {
        #expect(try FTSQuery(words: "say \"hi\" O'Brien ali*").matchExpression == "\"say\" \"\"\"hi\"\"\" \"O'Brien\" \"ali\"*")
    }

    @Test func wordCountIsCapped() throws {
        let many = (1...FTSQuery.maximumWords).map { "w\($0)" }.joined(separator: " ")
        #expect(try FTSQuery(words: many).matchExpression.hasPrefix("\"w1\""))
        let error = #expect(throws: QueryInputError.self) { try FTSQuery(words: many + " one-more") }
        #expect(error?.message.contains("at most \(FTSQuery.maximumWords)") == true)
        // Punctuation-only pieces do not count.
        _ = try FTSQuery(words: many + " * : ()")
    }

    @Test func veryLongWordsWork() throws {
        let database = try Self.makeDatabase()
        let long = String(repeating: "abc.", count: 5000)
        #expect(try Self.search(database, try FTSQuery(words: long)) == [])
    }

    /// Random queries over the rows' own words mixed with FTS5 operators and punctuation never make SQLite
    /// fail, and return exactly the rows an independent model of "all these literal words" picks.
    @Test func generatedHostileQueriesAgreeWithAWordModel() throws {
        let database = try Self.makeDatabase()
        let vocabulary = ["alice", "bob", "ldap", "example", "com", "wiki", "1", "2", "0", "party", "user", "login",
                          "app", "update", "not", "and", "drill", "10"]
        let noise = ["NOT", "AND", "OR", "NEAR", "*", ":", "(", ")", "\"", "'", "^", "-", "+", "{", "}", "🎉", ".",
                     "@", "action:", "text:"]
        var generator = SplitMix64(state: 7)
        for _ in 0..<300 {
            var pieces: [String] = []
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                var piece = ""
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    if Bool.random(using: &generator) {
                        piece += vocabulary.randomElement(using: &generator) ?? "x"
                    } else {
                        piece += noise.randomElement(using: &generator) ?? "*"
                    }
                }
                pieces.append(piece)
            }
            let text = pieces.joined(separator: " ")
            let query: FTSQuery
            do {
                query = try FTSQuery(words: text)
            } catch is QueryInputError {
                #expect(Self.modelTerms(text).isEmpty, "\(text) rejected although it has words")
                continue
            }
            let found = try Self.search(database, query)
            let expected = Self.rows.filter { Self.modelMatches(text, action: $0.1, body: $0.2) }.map(\.0)
            #expect(found == expected, "\(text) → \(query.matchExpression)")
        }
    }

    // MARK: - Independent model of the intended meaning

    /// Lower-cased runs of letters and digits: what unicode61 indexes for this ASCII-and-emoji data.
    static func tokens(_ text: String) -> [String] {
        text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
    }

    /// Per whitespace piece: its tokens, and whether it asks for a prefix (ends in `*` after a word).
    static func modelTerms(_ text: String) -> [(tokens: [String], prefix: Bool)] {
        text.split(whereSeparator: \.isWhitespace).compactMap { piece in
            let words = tokens(String(piece))
            guard !words.isEmpty else { return nil }
            var stem = Substring(piece)
            while stem.hasSuffix("*") { stem = stem.dropLast() }
            let prefix = stem.count < piece.count && !tokens(String(stem)).isEmpty
            return (tokens(String(stem)), prefix)
        }
    }

    /// A row matches when every piece's tokens occur consecutively in one column (the last as a prefix).
    static func modelMatches(_ text: String, action: String, body: String) -> Bool {
        modelTerms(text).allSatisfy { term in
            [tokens(action), tokens(body)].contains { column in
                guard column.count >= term.tokens.count else { return false }
                for start in 0...(column.count - term.tokens.count) {
                    let window = column[start..<start + term.tokens.count]
                    let matches = zip(window, term.tokens).enumerated().allSatisfy { index, pair in
                        index == term.tokens.count - 1 && term.prefix ? pair.0.hasPrefix(pair.1) : pair.0 == pair.1
                    }
                    if matches { return true }
                }
                return false
            }
        }
    }
}
