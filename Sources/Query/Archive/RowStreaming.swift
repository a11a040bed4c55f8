import Foundation
import Archiver

/// Runs one read-only SQL statement and streams its rows into a writer, one row in memory at a time.
enum RowStreaming {
    /// Prepares `fragment` in `session` and streams it (see below).
    static func run<W: RowWriter>(_ session: ReadSession, _ fragment: SQLFragment, columns: [Column],
                                  rawSearch: FTSQuery? = nil, into writer: inout W,
                                  makeRow: (Statement) throws -> [Cell]) throws -> Int {
        let statement = try session.prepare(fragment.sql)
        try statement.bind(fragment.values)
        return try run(statement, columns: columns, rawSearch: rawSearch, into: &writer, makeRow: makeRow)
    }

    /// Streams rows that each stand for one object as received (`RowWriter.write(row:received:)`).
    static func run<W: RowWriter>(_ session: ReadSession, _ fragment: SQLFragment, columns: [Column],
                                  into writer: inout W,
                                  makeReceivedRow: (Statement) throws -> (row: [Cell], received: ReceivedObject))
        throws -> Int {
        let statement = try session.prepare(fragment.sql)
        try statement.bind(fragment.values)
        return try run(statement, columns: columns, into: &writer) { statement, writer in
            let made = try makeReceivedRow(statement)
            try writer.write(row: made.row, received: made.received)
        }
    }

    /// Writes `columns`, then each row of the bound `statement` as `makeRow` builds it; returns the row count.
    /// The first row is read before anything is written, so a query that fails (a report's runtime
    /// error, a raw FTS5 query's syntax error, which SQLite only finds when stepping) prints no header.
    /// The FTS5 syntax error becomes a one-line `QueryInputError`.
    static func run<W: RowWriter>(_ statement: Statement, columns: [Column], rawSearch: FTSQuery? = nil,
                                  into writer: inout W, makeRow: (Statement) throws -> [Cell]) throws -> Int {
        try run(statement, columns: columns, rawSearch: rawSearch, into: &writer) { statement, writer in
            try writer.write(row: try makeRow(statement))
        }
    }

    /// The loop of all: `writeRow` writes the statement's current row.
    static func run<W: RowWriter>(_ statement: Statement, columns: [Column], rawSearch: FTSQuery? = nil,
                                  into writer: inout W,
                                  writeRow: (Statement, inout W) throws -> Void) throws -> Int {
        var count = 0
        do {
            var hasRow = try statement.step()
            try writer.begin(columns: columns)
            while hasRow {
                try writeRow(statement, &writer)
                count += 1
                hasRow = try statement.step()
            }
        } catch let error as SQLiteError {
            if let rawSearch, rawSearch.isRaw, error.code & 0xFF == 1 /* SQLITE_ERROR */ {
                throw rawSearch.syntaxError(error.message)
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
}
