import CSQLite
#if canImport(Client)
@testable import Client // the fuzz target compiles this file together with RawJSON.swift instead
#endif

/// The independent judge of "is this RFC 8259 JSON?" for the differential test (JSONDifferentialTests)
/// and the fuzz target (`make fuzz`, which compiles this file too): SQLite's `json_valid`, the parser that
/// every report and Datasette apply to the archived text, so "RawJSON accepts it" must mean "SQLite
/// reads it". Foundation's JSONSerialization was the other candidate and is not RFC-exact: it accepts
/// `[1,]`, a byte-order mark and a NUL after the value, and rejects `"\ud800"` and `1e999`, which RFC 8259
/// allows. SQLite 3.40's `json_valid` (1 argument) is RFC-exact in grammar, but it sees text through C
/// strings and does not check encodings, so three rules are applied around it, each independent of RawJSON:
/// - a NUL byte anywhere makes the input invalid (JSON writes U+0000 as `\u0000`; SQLite would stop
///   reading at it and judge only what came before);
/// - the input must be UTF-8 (RFC 8259 §8.1), judged by the Swift standard library's decoder;
/// - every object key must be a string: SQLite 3.40 checks only the last node it parsed for a key, so it
///   takes `{"a":1,{"k":"v"}:2}` (an object whose last value is a string, as a key) for JSON (found by
///   `make fuzz`; SQLite 3.45 rewrote the parser);
/// - nesting deeper than `JSONScanner.maxDepth` (512) is invalid: RFC 8259 §9 lets a parser limit depth,
///   RawJSON's recursive descent stops there to stay within a small thread stack, and real Cloudron
///   objects nest a few levels. SQLite reads up to 2000 levels (1000 since 3.45); the depth is counted
///   here, by a bracket counter over text SQLite has already accepted.
final class JSONOracle {
    private var database: OpaquePointer?
    private var statement: OpaquePointer?

    init() {
        precondition(sqlite3_open(":memory:", &database) == SQLITE_OK, "cannot open an in-memory SQLite database")
        precondition(sqlite3_prepare_v2(database, "SELECT json_valid(?1)", -1, &statement, nil) == SQLITE_OK,
                     "this SQLite has no json_valid")
    }

    deinit {
        sqlite3_finalize(statement)
        sqlite3_close(database)
    }

    /// Whether `bytes` are one JSON value (surrounding whitespace allowed) by the rules above.
    func accepts(_ bytes: [UInt8]) -> Bool {
        guard !bytes.contains(0), String(validating: bytes, as: UTF8.self) != nil, sqliteAccepts(bytes) else {
            return false
        }
        return Self.nestingDepth(bytes) <= JSONScanner.maxDepth && Self.keysAreStrings(bytes)
    }

    /// Whether every object key of text SQLite has accepted starts with a quote.
    static func keysAreStrings(_ bytes: [UInt8]) -> Bool {
        var inObject: [Bool] = [], expectingKey = false, inString = false, escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
                continue
            }
            if [0x20, 0x0A, 0x0D, 0x09].contains(byte) { continue }
            if expectingKey, byte != 0x22, byte != 0x7D { return false }
            expectingKey = false
            switch byte {
            case 0x22: inString = true
            case 0x7B: inObject.append(true); expectingKey = true
            case 0x5B: inObject.append(false)
            case 0x5D, 0x7D: _ = inObject.popLast()
            case 0x2C: expectingKey = inObject.last ?? false
            default: break
            }
        }
        return true
    }

    /// SQLite's verdict alone.
    func sqliteAccepts(_ bytes: [UInt8]) -> Bool {
        sqlite3_reset(statement)
        let bound = bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else {
                // An empty array has no storage; a NULL pointer would bind SQL NULL, not the empty text.
                return sqlite3_bind_text(statement, 1, "", 0, csqlite_transient())
            }
            return base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                sqlite3_bind_text(statement, 1, $0, Int32(buffer.count), csqlite_transient())
            }
        }
        precondition(bound == SQLITE_OK && sqlite3_step(statement) == SQLITE_ROW, "json_valid failed to run")
        return sqlite3_column_int(statement, 0) == 1
    }

    /// The deepest nesting of arrays and objects in text that is already known to be JSON.
    static func nestingDepth(_ bytes: [UInt8]) -> Int {
        var depth = 0, deepest = 0, inString = false, escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
                continue
            }
            switch byte {
            case 0x22: inString = true
            case 0x5B, 0x7B: depth += 1; deepest = max(deepest, depth)
            case 0x5D, 0x7D: depth -= 1
            default: break
            }
        }
        return deepest
    }
}
