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
        try RowShapeError.check(row: row, columns: keys.count)
        line.removeAll(keepingCapacity: true)
        line.append(contentsOf: rowCount == 0 ? [0x0A] : [UInt8(ascii: ","), 0x0A])
        JSONObjectRow.append(row, keys: keys, times: &times, to: &line)
        rowCount += 1
        try sink.write(line)
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
        try RowShapeError.check(row: row, columns: keys.count)
        line.removeAll(keepingCapacity: true)
        JSONObjectRow.append(row, keys: keys, times: &times, to: &line)
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
            CellEncoding.appendJSONString(column.name.utf8, to: &key)
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
}
