import Archiver

/// One report's rows as the HTML page needs them, read with the same cells and the same text the CSV
/// writer uses (`CellEncoding.appendText`), so every figure on the page equals the file it comes from.
///
/// Streams: it keeps the first `keptRows` rows for the page's table and hands every row to `consume`
/// (a chart's tally), so a report of a million rows costs no more memory than one of twenty.
struct ReportDigest: RowWriter {
    /// One cell: its CSV text (nil for NULL) and, for a time, its instant.
    struct Value {
        var text: String?
        var epoch: Int64?
    }

    var columns: [String] = []
    var rowCount = 0
    var firstRows: [[Value]] = []
    let keptRows: Int
    var times: TimestampFormatter
    let consume: ([String: Value]) -> Void

    init(keptRows: Int, times: TimestampFormatter, consume: @escaping ([String: Value]) -> Void = { _ in }) {
        self.keptRows = keptRows
        self.times = times
        self.consume = consume
    }

    mutating func begin(columns: [Column]) throws {
        self.columns = columns.map(\.name)
    }

    mutating func write(row: [Cell]) throws {
        try RowShapeError.check(row: row, columns: columns.count)
        var values: [Value] = []
        values.reserveCapacity(row.count)
        var bytes: [UInt8] = []
        for cell in row {
            bytes.removeAll(keepingCapacity: true)
            CellEncoding.appendText(cell, times: &times, to: &bytes)
            var epoch: Int64?
            switch cell {
            case .time(let value), .receivedTime(let value, _): epoch = value
            default: epoch = nil
            }
            if case .null = cell {
                values.append(Value(text: nil, epoch: nil))
            } else {
                values.append(Value(text: String(decoding: bytes, as: UTF8.self), epoch: epoch))
            }
        }
        rowCount += 1
        if firstRows.count < keptRows { firstRows.append(values) }
        consume(Dictionary(uniqueKeysWithValues: zip(columns, values)))
    }

    mutating func finish() throws {}
}
