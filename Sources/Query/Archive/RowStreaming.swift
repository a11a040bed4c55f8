import Foundation
import Archiver

/// Runs one read-only SQL statement and streams its rows into a writer, one row in memory at a time.
enum RowStreaming {
    /// Prepares `fragment`, writes `columns`, then each row as `makeRow` builds it; returns the row count.
    /// A raw FTS5 query's syntax error surfaces here (SQLite parses MATCH when stepping) and becomes a
    /// one-line `QueryInputError`.
    static func run<W: RowWriter>(_ database: Database, _ fragment: SQLFragment, columns: [Column],
                                  rawSearch: FTSQuery? = nil, into writer: inout W,
                                  makeRow: (Statement) throws -> [Cell]) throws -> Int {
        // A listing reads each page once, so a large page cache buys nothing here, while the archive's
        // 64 MB default fills up on a whole-archive export (and bounds SQLite's in-memory sort by the same
        // amount): 8 MB keeps an export of a million events inside 50 MB of RSS (BENCHMARKS.md, B5).
        try database.execute("PRAGMA cache_size = -8192")
        let statement = try database.prepare(fragment.sql)
        try statement.bind(fragment.values)
        var count = 0
        do {
            // The first step runs before anything is written, so an invalid query prints no header.
            var hasRow = try statement.step()
            try writer.begin(columns: columns)
            while hasRow {
                try writer.write(row: try makeRow(statement))
                count += 1
                hasRow = try statement.step()
            }
        } catch let error as SQLiteError {
            if let rawSearch, rawSearch.isRaw, error.code & 0xFF == 1 /* SQLITE_ERROR */ {
                throw QueryInputError("invalid search expression \(TimeExpression.quoted(rawSearch.matchExpression)): "
                                      + error.message.replacingOccurrences(of: "\n", with: " ")
                                      + " (see https://www.sqlite.org/fts5.html#full_text_query_syntax)")
            }
            throw error
        }
        try writer.finish()
        return count
    }
}

extension Statement {
    func textCell(_ index: Int32) -> Cell { isNull(at: index) ? .null : .text(string(at: index)) }
    func integerCell(_ index: Int32) -> Cell { isNull(at: index) ? .null : .integer(int64(at: index)) }
    func booleanCell(_ index: Int32) -> Cell { isNull(at: index) ? .null : .boolean(int64(at: index) != 0) }
    func timeCell(_ index: Int32) -> Cell { isNull(at: index) ? .null : .time(int64(at: index)) }
    func jsonCell(_ index: Int32) -> Cell { isNull(at: index) ? .null : .json(bytes(at: index)) }

    /// A cell for whatever SQLite returned (user reports): integers, reals, text, NULL; blobs as hex.
    func anyCell(_ index: Int32) -> Cell {
        switch value(at: index) {
        case .integer(let value): return .integer(value)
        case .real(let value): return .real(value)
        case .text(let value): return .text(value)
        case .textBytes(let bytes): return .text(String(decoding: bytes, as: UTF8.self))
        case .blob(let bytes): return .text(bytes.map { String(format: "%02x", $0) }.joined())
        case .null: return .null
        }
    }
}
