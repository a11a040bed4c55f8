/// Rows as plain lines for people: cells as text, two spaces apart, no header, no alignment beyond the
/// first column: a task log reads as a log (`time  message`), not as a table.
///
/// A null cell is blanks as wide as the column's last value, so a continuation line (box gives it no
/// time) lines up under the message it continues. Cells are neutralised for the terminal as in
/// `TableWriter`: a log line is server text, and nothing in it may move the cursor or recolour the screen.
public struct LinesWriter: RowWriter {
    private let sink: OutputSink
    private var times: TimestampFormatter
    private var columnCount = 0
    private var lastWidths: [Int] = []
    private var line: [UInt8] = []
    private var scratch: [UInt8] = []

    public init(sink: OutputSink, times: TimestampFormatter = TimestampFormatter()) {
        self.sink = sink
        self.times = times
    }

    public mutating func begin(columns: [Column]) throws {
        columnCount = columns.count
        lastWidths = Array(repeating: 0, count: columns.count)
    }

    public mutating func write(row: [Cell]) throws {
        try RowShapeError.check(row: row, columns: columnCount)
        line.removeAll(keepingCapacity: true)
        // Blanks for trailing null cells would only pad the line's end.
        let end = (row.lastIndex { if case .null = $0 { return false } else { return true } } ?? -1) + 1
        for (index, cell) in row.prefix(end).enumerated() {
            if index > 0 { line.append(contentsOf: [0x20, 0x20]) }
            if case .null = cell {
                line.append(contentsOf: repeatElement(0x20, count: lastWidths[index]))
                continue
            }
            scratch.removeAll(keepingCapacity: true)
            CellEncoding.appendText(cell, times: &times, to: &scratch)
            let text = TableWriter.neutralised(String(decoding: scratch, as: UTF8.self))
            lastWidths[index] = DisplayWidth.of(text)
            line.append(contentsOf: text.utf8)
        }
        line.append(0x0A)
        try sink.write(line)
    }

    public mutating func finish() throws {
        try sink.flush()
    }
}
