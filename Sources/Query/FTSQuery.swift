import Foundation

/// A full-text query for the archive's FTS5 tables, safe to pass to `MATCH` as a bound parameter.
///
/// Words mode (the default) takes the user's text as words, never as FTS5 syntax. The text is split at
/// whitespace and every piece becomes one FTS5 string (`"…"`, inner `"` doubled), all pieces AND-ed.
/// Inside a string FTS5 operators and punctuation mean nothing, so `user@example.com`, `10.0.0.1`,
/// `NOT`, `AND`, `:`, `(`, `)`, `^`, `+` and unbalanced quotes are plain words: `"user@example.com"` matches
/// the tokens `user example com` next to each other, which is how the archive indexed that address.
///
/// Prefixes: a piece that ends in `*` after at least one letter or digit is a prefix search
/// (`ali*` → `"ali"*`, which finds `alice`); a `*` anywhere else is literal, i.e. ignored like all
/// punctuation.
///
/// The archive indexes with FTS5's `unicode61` tokenizer, which keeps letters, digits and private-use
/// characters and treats everything else (punctuation, symbols, emoji) as separators. A piece without
/// any of those can never match, so it is left out of the expression; a query with no such piece at
/// all is an error rather than a silent empty result.
///
/// Raw mode (`--raw`) passes FTS5 query syntax through unchanged; SQLite checks it when the query runs,
/// and the query layer turns a syntax error into a one-line message.
public struct FTSQuery: Sendable, Hashable, CustomStringConvertible {
    /// At most this many words in words mode. FTS5 copes with more, but a thousand-word AND is a mistake
    /// (a pasted file), and each word costs an index lookup.
    public static let maximumWords = 64

    /// The expression for `MATCH ?`.
    public let matchExpression: String
    /// Whether the expression is the user's own FTS5 syntax (errors then come from SQLite).
    public let isRaw: Bool

    /// Words mode: the user's words, each matched literally, all required.
    /// - Throws: `QueryInputError` for an empty query, one without letters or digits, or too many words.
    public init(words text: String) throws {
        // Control characters separate words too: a NUL inside an FTS5 string ends the query text early.
        let pieces = text.split(whereSeparator: { character in
            character.isWhitespace || character.isNewline
                || character.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
        })
        guard !pieces.isEmpty else {
            throw QueryInputError("empty search query: give one or more words to search for")
        }
        var terms: [String] = []
        for piece in pieces {
            var word = Substring(piece)
            var isPrefix = false
            if word.hasSuffix("*") {
                var stemEnd = word.endIndex
                while stemEnd > word.startIndex, word[word.index(before: stemEnd)] == "*" {
                    stemEnd = word.index(before: stemEnd)
                }
                if FTSQuery.isSearchable(word[..<stemEnd]) {
                    word = word[..<stemEnd]
                    isPrefix = true
                }
            }
            guard FTSQuery.isSearchable(word) else { continue }
            terms.append(FTSQuery.quoted(word) + (isPrefix ? "*" : ""))
        }
        guard !terms.isEmpty else {
            throw QueryInputError("search query \(TimeExpression.quoted(text)) has no letters or digits: the archive "
                                  + "indexes words, not punctuation or emoji")
        }
        guard terms.count <= FTSQuery.maximumWords else {
            throw QueryInputError("search query has \(terms.count) words: at most \(FTSQuery.maximumWords) are "
                                  + "allowed; use --raw with an OR expression for long word lists")
        }
        matchExpression = terms.joined(separator: " ")
        isRaw = false
    }

    /// Raw mode: FTS5 syntax as given.
    /// - Throws: `QueryInputError` for an empty query (syntax is checked by SQLite when it runs).
    public init(raw text: String) throws {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw QueryInputError("empty search query: give an FTS5 expression such as 'login AND alice'")
        }
        matchExpression = text
        isRaw = true
    }

    public var description: String { matchExpression }

    /// The one-line error for FTS5's complaint (`message`) about a raw expression.
    public func syntaxError(_ message: String) -> QueryInputError {
        QueryInputError("invalid search expression \(TimeExpression.quoted(matchExpression)): "
                        + message.replacingOccurrences(of: "\n", with: " ")
                        + " (see https://www.sqlite.org/fts5.html#full_text_query_syntax)")
    }

    /// An FTS5 string literal: `"` around, inner `"` doubled. Nothing else needs escaping inside one.
    static func quoted<S: StringProtocol>(_ word: S) -> String {
        "\"" + word.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Whether `unicode61` would find at least one token in `word`: a letter, a digit or a private-use
    /// character (its default token characters).
    static func isSearchable<S: StringProtocol>(_ word: S) -> Bool {
        word.unicodeScalars.contains { scalar in
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                 .decimalNumber, .letterNumber, .otherNumber, .privateUse:
                return true
            default:
                return false
            }
        }
    }
}
