/// One JSON array of objects (column name → value), streamed: `[` is written before the first row and
/// `]` after the last, one object per line in between, so the whole file is never held in memory.
public struct JSONWriter: RowWriter {
    private let sink: OutputSink
    private var times: TimestampFormatter
    private var keys: [[UInt8]] = []
    private var rowCount = 0
    private var line: [UInt8] = []

    public init(sink: OutputSink, times: TimestampFormatter = TimestampFormatter()) {
        self.sink = sink
        self.times = times
    }

    public mutating func begin(columns: [Column]) throws {
        keys = JSONObjectRow.encodedKeys(columns)
        rowCount = 0
        try sink.write(UInt8(ascii: "["))
    }

    public mutating func write(row: [Cell]) throws {
        try write(row: row, received: nil)
    }

    public mutating func write(row: [Cell], received object: ReceivedObject) throws {
        try write(row: row, received: Optional(object))
    }

    public mutating func write(row: StatementRow) throws {
        try RowShapeError.check(cells: row.count, columns: keys.count)
        startLine()
        JSONObjectRow.append(row, keys: keys, times: &times, to: &line)
        try sink.write(line)
    }

    private mutating func write(row: [Cell], received object: ReceivedObject?) throws {
        try RowShapeError.check(row: row, columns: keys.count)
        startLine()
        JSONObjectRow.append(row, received: object, keys: keys, times: &times, to: &line)
        try sink.write(line)
    }

    /// The separator before a row: a line break, and a comma after the first.
    private mutating func startLine() {
        line.removeAll(keepingCapacity: true)
        if rowCount > 0 { line.append(UInt8(ascii: ",")) }
        line.append(0x0A)
        rowCount += 1
    }

    public mutating func finish() throws {
        try sink.write(rowCount == 0 ? Array("]\n".utf8) : Array("\n]\n".utf8))
        try sink.flush()
    }
}

/// Newline-delimited JSON: one object per line, LF line ends, nothing before or after.
public struct NDJSONWriter: RowWriter {
    private let sink: OutputSink
    private var times: TimestampFormatter
    private var keys: [[UInt8]] = []
    private var line: [UInt8] = []

    public init(sink: OutputSink, times: TimestampFormatter = TimestampFormatter()) {
        self.sink = sink
        self.times = times
    }

    public mutating func begin(columns: [Column]) throws {
        keys = JSONObjectRow.encodedKeys(columns)
    }

    public mutating func write(row: [Cell]) throws {
        try write(row: row, received: nil)
    }

    public mutating func write(row: [Cell], received object: ReceivedObject) throws {
        try write(row: row, received: Optional(object))
    }

    public mutating func write(row: StatementRow) throws {
        try RowShapeError.check(cells: row.count, columns: keys.count)
        line.removeAll(keepingCapacity: true)
        JSONObjectRow.append(row, keys: keys, times: &times, to: &line)
        line.append(0x0A)
        try sink.write(line)
    }

    private mutating func write(row: [Cell], received object: ReceivedObject?) throws {
        try RowShapeError.check(row: row, columns: keys.count)
        line.removeAll(keepingCapacity: true)
        JSONObjectRow.append(row, received: object, keys: keys, times: &times, to: &line)
        line.append(0x0A)
        try sink.write(line)
    }

    public mutating func finish() throws {
        try sink.flush()
    }
}

/// `{"column":value,…}` for both JSON formats.
enum JSONObjectRow {
    /// Each column's `"name":` bytes, encoded once.
    static func encodedKeys(_ columns: [Column]) -> [[UInt8]] {
        columns.map { column in
            var key: [UInt8] = []
            var name = column.name
            name.withUTF8 { CellEncoding.appendJSONString(UnsafeRawBufferPointer($0), to: &key) }
            key.append(UInt8(ascii: ":"))
            return key
        }
    }

    static func append(_ row: [Cell], keys: [[UInt8]], times: inout TimestampFormatter, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (index, cell) in row.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: keys[index])
            CellEncoding.appendJSON(cell, times: &times, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    static func append(_ row: StatementRow, keys: [[UInt8]], times: inout TimestampFormatter, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for index in 0 ..< row.count {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: keys[index])
            row.withCell(at: index) { CellEncoding.appendJSON($0, times: &times, to: &out) }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The received object with the added columns appended before its closing brace (its members are
    /// not re-encoded: values, escapes and number spellings stay as sent); the curated row when there is
    /// none, or when the bytes are no JSON object (the archive stores only objects; this is a guard).
    static func append(_ row: [Cell], received object: ReceivedObject?, keys: [[UInt8]], times: inout TimestampFormatter,
                       to out: inout [UInt8]) {
        guard let object, let members = objectBody(object.raw) else {
            return append(row, keys: keys, times: &times, to: &out)
        }
        out.append(UInt8(ascii: "{"))
        object.raw.withUnsafeBytes { CellEncoding.appendOneLine(UnsafeRawBufferPointer(rebasing: $0[members]), to: &out) }
        var first = !object.raw[members].contains { !isWhitespace($0) }
        for column in object.addedColumns where column < row.count {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: keys[column])
            CellEncoding.appendJSON(row[column], times: &times, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The range between an object's outer braces, or nil when `raw` is not `{…}` (whitespace around allowed).
    private static func objectBody(_ raw: [UInt8]) -> Range<Int>? {
        guard let open = raw.firstIndex(where: { !isWhitespace($0) }), raw[open] == UInt8(ascii: "{"),
              let close = raw.lastIndex(where: { !isWhitespace($0) }), close > open, raw[close] == UInt8(ascii: "}")
        else { return nil }
        return (open + 1)..<close
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
