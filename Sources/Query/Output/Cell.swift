/// One output column.
public struct Column: Sendable, Hashable {
    /// The header in tables and CSV, the key in JSON and NDJSON objects.
    public var name: String

    public init(_ name: String) {
        self.name = name
    }
}

/// One value of an output row.
///
/// Typed rather than pre-rendered so each format can write it its own way: a time is an ISO-8601 string
/// in the `--tz` zone everywhere; raw JSON (an event's `source` or `data` exactly as the server sent it)
/// stays JSON inside JSON and NDJSON and becomes its text in CSV and tables.
public enum Cell: Sendable, Hashable {
    case null
    case text(String)
    case integer(Int64)
    case real(Double)
    case boolean(Bool)
    /// Epoch seconds, formatted per `--tz`.
    case time(Int64)
    /// An instant as the server sent it: the epoch and the JSON string token received (quotes included,
    /// e.g. `"2026-11-20T11:37:29.000Z"`). JSON and NDJSON keep the token byte for byte, so an event reads
    /// exactly as the API gave it, unless `--tz` asks for another zone; CSV and tables format the epoch.
    case receivedTime(Int64, [UInt8])
    /// JSON bytes, written verbatim into JSON and NDJSON: they must be one valid JSON value (the archive
    /// stores only what the client parsed). Empty bytes are written as `null`.
    case json([UInt8])
}

/// A cell of a statement's current row as a writer reads it in place (`StatementRow`): the bytes of a text
/// or JSON value stay in SQLite's buffer, valid only inside the call that hands them over; any other cell is
/// a value. Text bytes are written as they are when they are ASCII; other text goes through `String`, which
/// mends invalid UTF-8 exactly as a `.text` cell does, so both paths write the same bytes.
enum BorrowedCell {
    case text(UnsafeRawBufferPointer)
    /// Bytes that hold one JSON value, as `Cell.json`.
    case json(UnsafeRawBufferPointer)
    case value(Cell)
}

/// Writes rows in one output format: the printing part, kept apart from what is searched and matched.
///
/// Call `begin` once, `write` per row (as many cells as columns), `finish` once. Implementations stream:
/// memory stays flat however many rows pass (the table format holds at most its sizing window).
public protocol RowWriter {
    mutating func begin(columns: [Column]) throws
    mutating func write(row: [Cell]) throws
    /// A row that stands for one object as the server sent it (a task, a notification): JSON and NDJSON
    /// write the object itself, every member byte for byte, with the row's `object.addedColumns` appended
    /// as members; tables and CSV write the curated `row`.
    mutating func write(row: [Cell], received object: ReceivedObject) throws
    /// A statement's current row (a report's): JSON, NDJSON and CSV copy its text from SQLite's buffer, a
    /// `String` per cell costing more than the rest of the row; tables and the others write its cells.
    mutating func write(row: StatementRow) throws
    mutating func finish() throws
}

extension RowWriter {
    public mutating func write(row: StatementRow) throws {
        try write(row: row.cells)
    }

    /// Formats of curated columns (tables, CSV, digests) write the row.
    public mutating func write(row: [Cell], received object: ReceivedObject) throws {
        try write(row: row)
    }
}

/// One object exactly as the server sent it, and which of its row's columns the archive adds to it in
/// JSON output (`instance`: the server does not know the name the archive gives it).
public struct ReceivedObject: Sendable, Hashable {
    /// One JSON object as received, without surrounding whitespace (as the archive stores it).
    public var raw: [UInt8]
    /// Indices into the row's columns, appended as members in this order.
    public var addedColumns: [Int]

    public init(raw: [UInt8], addedColumns: [Int]) {
        self.raw = raw
        self.addedColumns = addedColumns
    }
}

/// A row or column misuse of a `RowWriter` (a programming error in the caller, reported, not trapped).
public struct RowShapeError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }

    static func check(row: [Cell], columns: Int) throws {
        try check(cells: row.count, columns: columns)
    }

    static func check(cells: Int, columns: Int) throws {
        guard cells == columns else {
            throw RowShapeError("row has \(cells) cells for \(columns) columns")
        }
    }
}
