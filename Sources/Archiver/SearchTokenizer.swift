import CSQLite
import Client
import Foundation

/// Full-text search as the archive's FTS5 index does it, for places that have no such index: the central
/// PostgreSQL store indexes the tokens made here and turns the matching rows' texts into snippets here.
///
/// The work is done by SQLite's FTS5 itself, with the archive's tokenizer (FTS5's default, `unicode61`, as
/// `kind.ftsTable` in schema 0001): a token, its folding (case, diacritics), a syntax error and a snippet are
/// FTS5's own, not an imitation of them. Tokens come from that tokenizer's own `xTokenize` (found through
/// `fts5_api`), as FTS5 receives them when it indexes a row; syntax checks and snippets use a private
/// in-memory FTS5 table with the kind's index columns.
///
/// Not thread-safe: one per thread (each owns its in-memory database and tokenizer instance).
public final class SearchTokenizer {
    public let kind: ObjectKind
    private let database: Database
    /// unicode61's methods, and the instance of it made for this object (freed by `deinit`).
    private let module: fts5_tokenizer
    private let instance: OpaquePointer

    public init(kind: ObjectKind) throws {
        self.kind = kind
        database = try Database(inMemory: ())
        let columns = kind.searchableColumns.joined(separator: ", ")
        try database.execute("CREATE VIRTUAL TABLE documents USING fts5(\(columns))")
        (module, instance) = try Self.unicode61(in: database)
    }

    deinit { module.xDelete?(instance) }

    /// FTS5's `unicode61` tokenizer with its default options (those of a table declared without `tokenize=`),
    /// through the `fts5_api` pointer that `SELECT fts5(?)` hands out (SQLite's documented way to reach it).
    private static func unicode61(in database: Database) throws -> (fts5_tokenizer, OpaquePointer) {
        var api: UnsafeMutablePointer<fts5_api>?
        let statement = try database.prepare("SELECT fts5(?1)")
        let pointerType = strdup("fts5_api_ptr")
        defer { free(pointerType) }
        try withUnsafeMutablePointer(to: &api) { slot in
            guard sqlite3_bind_pointer(statement.handle, 1, slot, pointerType, nil) == SQLITE_OK else {
                throw SQLiteError(kind: .other, code: SQLITE_ERROR, message: "cannot reach SQLite's FTS5 API")
            }
            _ = try statement.step()
        }
        statement.reset()
        var module = fts5_tokenizer()
        var context: UnsafeMutableRawPointer?
        var instance: OpaquePointer?
        guard let api, let find = api.pointee.xFindTokenizer, find(api, "unicode61", &context, &module) == SQLITE_OK,
              let create = module.xCreate, create(context, nil, 0, &instance) == SQLITE_OK, let instance else {
            throw SQLiteError(kind: .other, code: SQLITE_ERROR, message: "SQLite's FTS5 has no unicode61 tokenizer")
        }
        return (module, instance)
    }

    /// The index's columns, in order (`kind.searchableColumns`).
    public var columns: [String] { kind.searchableColumns }

    /// The tokens of each document (one text per index column), per column, in order.
    public func tokens(of documents: [[String]]) throws -> [[[String]]] {
        try documents.map { texts in try columns.indices.map { try tokens(ofColumn: $0 < texts.count ? texts[$0] : "") } }
    }

    /// What FTS5 indexes of one column's text: each token the tokenizer reports, cut at FTS5's longest
    /// token (`FTS5_MAX_TOKEN_SIZE`, as fts5StorageInsertCallback cuts it).
    private func tokens(ofColumn text: String) throws -> [String] {
        final class Collected {
            var tokens: [String] = []
        }
        let collected = Collected()
        var text = text
        let rc = text.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { characters in
                module.xTokenize?(instance, Unmanaged.passUnretained(collected).toOpaque(), FTS5_TOKENIZE_DOCUMENT,
                                  characters.baseAddress, Int32(characters.count)) { context, _, token, length, _, _ in
                    guard let context else { return SQLITE_ERROR }
                    let bytes = UnsafeRawBufferPointer(start: token, count: token == nil ? 0 : Int(min(length, 32_768)))
                    Unmanaged<Collected>.fromOpaque(context).takeUnretainedValue().tokens.append(String(decoding: bytes, as: UTF8.self))
                    return SQLITE_OK
                } ?? SQLITE_ERROR
            }
        }
        guard rc == SQLITE_OK else {
            throw SQLiteError(code: rc, message: "FTS5's unicode61 tokenizer failed")
        }
        return collected.tokens
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
