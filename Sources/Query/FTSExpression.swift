/// An FTS5 query expression, parsed: what `FTSQuery.matchExpression` asks of the archive's FTS5 index,
/// as a tree another engine can translate (the central store's PostgreSQL search).
///
/// The grammar and precedence are FTS5's (its `fts5parse.y`): `OR` binds loosest, then `AND`, then `NOT`
/// (binary: `a NOT b`), then a run of phrases side by side (an implicit AND: `a b NOT c` is `(a b) NOT c`);
/// a phrase is strings joined by `+`, each a bareword or a `"…"` string, with an optional `*` after it (a
/// prefix); a column filter (`col:`, `-col:`, `{a b}:`) applies to a phrase or a parenthesised expression;
/// `^` and `NEAR(…)` are parsed too. Strings are kept as written: the tokenizer that splits them into
/// terms belongs to the index (`SearchTokenizer`).
///
/// Syntax errors are SQLite's to report (the caller checks the expression with FTS5 first); this parser
/// only has to follow what FTS5 accepted, and throws `QueryInputError` for anything else.
public indirect enum FTSExpression: Sendable, Hashable {
    case phrase(Phrase)
    case near(phrases: [Phrase], distance: Int, filters: [ColumnFilter])
    case and(FTSExpression, FTSExpression)
    case or(FTSExpression, FTSExpression)
    /// Rows matching the first but not the second.
    case not(FTSExpression, FTSExpression)

    /// One string of a phrase, as written (unquoted), and whether a `*` followed it.
    public struct Piece: Sendable, Hashable {
        public var text: String
        public var isPrefix: Bool
    }

    public struct Phrase: Sendable, Hashable {
        public var pieces: [Piece]
        /// `^`: the phrase must start the column.
        public var isInitial: Bool
        /// Every filter must allow the column the phrase is found in (nested filters intersect).
        public var filters: [ColumnFilter]
    }

    /// `col:`, `{a b}:` (these columns) or `-col:`, `-{a b}:` (all but these). Names as written; FTS5
    /// compares them with the table's column names without regard to case.
    public struct ColumnFilter: Sendable, Hashable {
        public var names: [String]
        public var isExcluding: Bool

        /// The indexes of `columns` the filter allows.
        public func allowed(in columns: [String]) -> Set<Int> {
            let named = Set(columns.indices.filter { index in names.contains { $0.lowercased() == columns[index].lowercased() } })
            return isExcluding ? Set(columns.indices).subtracting(named) : named
        }
    }

    /// Parses an FTS5 expression.
    /// - Throws: `QueryInputError` for an expression FTS5 would refuse too.
    public init(parsing text: String) throws {
        var parser = Parser(tokens: try Lexer.tokens(of: text))
        let expression = try parser.expression()
        guard parser.peek == .end else { throw parser.failure() }
        self = expression
    }

    /// The expression with `filter` added to every phrase in it (`col : ( … )`).
    func filtered(by filter: ColumnFilter) -> FTSExpression {
        switch self {
        case .phrase(var phrase):
            phrase.filters.append(filter)
            return .phrase(phrase)
        case let .near(phrases, distance, filters): return .near(phrases: phrases, distance: distance, filters: filters + [filter])
        case let .and(left, right): return .and(left.filtered(by: filter), right.filtered(by: filter))
        case let .or(left, right): return .or(left.filtered(by: filter), right.filtered(by: filter))
        case let .not(left, right): return .not(left.filtered(by: filter), right.filtered(by: filter))
        }
    }

    // MARK: Lexer (fts5ExprGetToken)

    enum Token: Equatable {
        case string(String)
        case and, or, not
        case open, close, openBrace, closeBrace, colon, comma, plus, star, minus, caret
        case end
    }

    enum Lexer {
        /// FTS5's barewords: ASCII letters, digits, `_`, 0x1A, and every byte of a non-ASCII character.
        static func isBareword(_ byte: UInt8) -> Bool {
            byte >= 0x80 || byte == 0x1A || byte == UInt8(ascii: "_")
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
        }

        static func tokens(of text: String) throws -> [Token] {
            let bytes = Array(text.utf8)
            var tokens: [Token] = []
            var index = 0
            let punctuation: [UInt8: Token] = [
                UInt8(ascii: "("): .open, UInt8(ascii: ")"): .close, UInt8(ascii: "{"): .openBrace, UInt8(ascii: "}"): .closeBrace,
                UInt8(ascii: ":"): .colon, UInt8(ascii: ","): .comma, UInt8(ascii: "+"): .plus, UInt8(ascii: "*"): .star,
                UInt8(ascii: "-"): .minus, UInt8(ascii: "^"): .caret,
            ]
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) { index += 1; continue }
                if let token = punctuation[byte] { tokens.append(token); index += 1; continue }
                if byte == UInt8(ascii: "\"") {
                    var content: [UInt8] = []
                    index += 1
                    var closed = false
                    while index < bytes.count {
                        if bytes[index] == UInt8(ascii: "\"") {
                            if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") {
                                content.append(bytes[index]); index += 2; continue
                            }
                            closed = true; index += 1; break
                        }
                        content.append(bytes[index]); index += 1
                    }
                    guard closed else { throw QueryInputError("unterminated string in search expression") }
                    tokens.append(.string(String(decoding: content, as: UTF8.self)))
                    continue
                }
                guard isBareword(byte) else {
                    throw QueryInputError("search expression: syntax error near \(TimeExpression.quoted(String(decoding: [byte], as: UTF8.self)))")
                }
                let start = index
                while index < bytes.count, isBareword(bytes[index]) { index += 1 }
                let word = String(decoding: bytes[start ..< index], as: UTF8.self)
                switch word {
                case "AND": tokens.append(.and)
                case "OR": tokens.append(.or)
                case "NOT": tokens.append(.not)
                default: tokens.append(.string(word))
                }
            }
            tokens.append(.end)
            return tokens
        }
    }

    // MARK: Parser (fts5parse.y's rules, by recursive descent)

    struct Parser {
        let tokens: [Token]
        var position = 0

        var peek: Token { tokens[min(position, tokens.count - 1)] }
        func peek(_ ahead: Int) -> Token { tokens[min(position + ahead, tokens.count - 1)] }
        mutating func next() -> Token { defer { position += 1 }; return peek }

        func failure() -> QueryInputError { QueryInputError("search expression: syntax error near token \(position + 1)") }

        mutating func expect(_ token: Token) throws {
            guard next() == token else { throw failure() }
        }

        /// expr OR expr (loosest)
        mutating func expression() throws -> FTSExpression {
            var left = try conjunction()
            while peek == .or { position += 1; left = .or(left, try conjunction()) }
            return left
        }

        /// expr AND expr
        mutating func conjunction() throws -> FTSExpression {
            var left = try negation()
            while peek == .and { position += 1; left = .and(left, try negation()) }
            return left
        }

        /// expr NOT expr
        mutating func negation() throws -> FTSExpression {
            var left = try primary()
            while peek == .not { position += 1; left = .not(left, try primary()) }
            return left
        }

        /// `( expr )`, `colset : ( expr )`, or a run of phrases (implicit AND).
        mutating func primary() throws -> FTSExpression {
            if peek == .open {
                position += 1
                let inner = try expression()
                try expect(.close)
                return inner
            }
            if startsColumnFilter() {
                let start = position
                let filter = try columnFilter()
                if peek == .open {
                    position += 1
                    let inner = try expression()
                    try expect(.close)
                    return inner.filtered(by: filter)
                }
                position = start
            }
            var run = try filteredPhrase()
            while startsPhrase() { run = .and(run, try filteredPhrase()) }
            return run
        }

        func startsColumnFilter() -> Bool {
            switch (peek, peek(1)) {
            case (.minus, _), (.openBrace, _), (.string, .colon): return true
            default: return false
            }
        }

        func startsPhrase() -> Bool {
            switch peek {
            case .string, .caret, .minus, .openBrace: return true
            default: return false
            }
        }

        mutating func columnFilter() throws -> ColumnFilter {
            var excluding = false
            if peek == .minus { excluding = true; position += 1 }
            var names: [String] = []
            if peek == .openBrace {
                position += 1
                while case .string(let name) = peek { names.append(name); position += 1 }
                try expect(.closeBrace)
                guard !names.isEmpty else { throw failure() }
            } else if case .string(let name) = next() {
                names = [name]
            } else {
                throw failure()
            }
            try expect(.colon)
            return ColumnFilter(names: names, isExcluding: excluding)
        }

        /// [colset :] nearset
        mutating func filteredPhrase() throws -> FTSExpression {
            let filters = startsColumnFilter() ? [try columnFilter()] : []
            if peek == .caret {
                position += 1
                var phrase = try self.phrase()
                phrase.isInitial = true
                phrase.filters = filters
                return .phrase(phrase)
            }
            if case .string(let word) = peek, peek(1) == .open {
                guard word == "NEAR" else { throw QueryInputError("search expression: syntax error near \(TimeExpression.quoted(word))") }
                position += 2
                var phrases: [Phrase] = []
                while case .string = peek { phrases.append(try phrase()) }
                var distance = 10
                if peek == .comma {
                    position += 1
                    guard case .string(let text) = next(), let value = Int(text) else { throw failure() }
                    distance = value
                }
                try expect(.close)
                guard !phrases.isEmpty else { throw failure() }
                return .near(phrases: phrases, distance: distance, filters: filters)
            }
            var phrase = try self.phrase()
            phrase.filters = filters
            return .phrase(phrase)
        }

        /// STRING [*] (+ STRING [*])*
        mutating func phrase() throws -> Phrase {
            var pieces: [Piece] = []
            repeat {
                if !pieces.isEmpty { position += 1 }   // the `+`
                guard case .string(let text) = next() else { throw failure() }
                let isPrefix = peek == .star
                if isPrefix { position += 1 }
                pieces.append(Piece(text: text, isPrefix: isPrefix))
            } while peek == .plus
            return Phrase(pieces: pieces, isInitial: false, filters: [])
        }
    }
}
