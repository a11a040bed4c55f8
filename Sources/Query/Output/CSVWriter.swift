/// RFC 4180 CSV: a header row, UTF-8 (no byte-order mark), CRLF line ends, fields quoted when they hold
/// `"`, `,`, CR or LF (inner quotes doubled). NULL is an empty field.
///
/// Formula-injection guard: event data holds attacker-controlled strings (usernames, app titles, DNS
/// names), and a spreadsheet runs a cell starting with `=`, `+`, `-` or `@` (or a tab or CR before one)
/// as a formula. Every text cell starting with one of those six characters is written with a `'`
/// in front (`=HYPERLINK(…)` → `'=HYPERLINK(…)`), the OWASP recommendation; spreadsheets show the
/// apostrophe-prefixed text as text. Numbers, booleans and times are written as such and never need it.
/// A consumer that needs the exact original strings should use JSON or NDJSON, which are never altered.
public struct CSVWriter: RowWriter {
    private let sink: OutputSink
    private var times: TimestampFormatter
    private var columnCount = 0
    private var line: [UInt8] = []
    private var field: [UInt8] = []

    public init(sink: OutputSink, times: TimestampFormatter = TimestampFormatter()) {
        self.sink = sink
        self.times = times
    }

    public mutating func begin(columns: [Column]) throws {
        columnCount = columns.count
        line.removeAll(keepingCapacity: true)
        for (index, column) in columns.enumerated() {
            if index > 0 { line.append(UInt8(ascii: ",")) }
            appendField(Array(column.name.utf8), guardFormula: true)
        }
        try endLine()
    }

    public mutating func write(row: [Cell]) throws {
        try RowShapeError.check(row: row, columns: columnCount)
        line.removeAll(keepingCapacity: true)
        for (index, cell) in row.enumerated() {
            if index > 0 { line.append(UInt8(ascii: ",")) }
            appendField(cell)
        }
        try endLine()
    }

    public mutating func write(row: StatementRow) throws {
        try RowShapeError.check(cells: row.count, columns: columnCount)
        line.removeAll(keepingCapacity: true)
        for index in 0 ..< row.count {
            if index > 0 { line.append(UInt8(ascii: ",")) }
            row.withCell(at: index) { cell in
                switch cell {
                case .text(let bytes) where CellEncoding.isASCII(bytes), .json(let bytes):
                    appendField(bytes, guardFormula: true)
                case .text:
                    field.removeAll(keepingCapacity: true)
                    CellEncoding.appendText(cell, times: &times, to: &field)
                    field.withUnsafeBytes { appendField($0, guardFormula: true) }
                case .value(let value):
                    appendField(value)
                }
            }
        }
        try endLine()
    }

    public mutating func finish() throws {
        try sink.flush()
    }

    private mutating func endLine() throws {
        line.append(0x0D)
        line.append(0x0A)
        try sink.write(line)
    }

    /// A cell as a field; text and JSON are guarded against formulas, numbers, booleans and times need not be.
    private mutating func appendField(_ cell: Cell) {
        field.removeAll(keepingCapacity: true)
        CellEncoding.appendText(cell, times: &times, to: &field)
        let isText: Bool
        switch cell {
        case .text, .json: isText = true
        default: isText = false
        }
        field.withUnsafeBytes { appendField($0, guardFormula: isText) }
    }

    private mutating func appendField(_ bytes: [UInt8], guardFormula: Bool) {
        bytes.withUnsafeBytes { appendField($0, guardFormula: guardFormula) }
    }

    /// The field's bytes, quoted (inner quotes doubled) when they hold `"`, `,`, CR or LF, and copied whole
    /// when they hold none, as most fields do.
    private mutating func appendField(_ bytes: UnsafeRawBufferPointer, guardFormula: Bool) {
        let guarded = guardFormula && CSVWriter.startsFormula(bytes)
        let needsQuotes = bytes.contains { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: ",") || $0 == 0x0D || $0 == 0x0A }
        if needsQuotes { line.append(UInt8(ascii: "\"")) }
        if guarded { line.append(UInt8(ascii: "'")) }
        if needsQuotes {
            for byte in bytes {
                if byte == UInt8(ascii: "\"") { line.append(byte) }
                line.append(byte)
            }
            line.append(UInt8(ascii: "\""))
        } else {
            line.append(contentsOf: bytes)
        }
    }

    /// Whether a spreadsheet could read the text as a formula: it starts with `=`, `+`, `-`, `@`, tab or CR.
    static func startsFormula(_ bytes: some Collection<UInt8>) -> Bool {
        guard let first = bytes.first else { return false }
        switch first {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D: return true
        default: return false
        }
    }
}
