/// Aligned columns for people at a terminal.
///
/// Column widths come from the header and the first `sizingRows` rows (1000 by default), which are held
/// back until then; later rows stream with those widths, cut with `…` where longer. With a `maxWidth`
/// (the terminal's columns) the widest columns are narrowed until the table fits. Widths count display
/// columns (`DisplayWidth`), so CJK text and emoji keep the columns aligned.
///
/// Cells are neutralised for the terminal: event data is attacker-controlled, so control characters
/// (escape sequences, line breaks, tabs) are shown as their Unicode control pictures (`␛`, `␊`, `␉`) and
/// C1 controls and bidirectional overrides as `�`; nothing in a cell can move the cursor, recolour the
/// terminal or reorder the row.
public struct TableWriter: RowWriter {
    private let sink: OutputSink
    private var times: TimestampFormatter
    private let maxWidth: Int?
    private let sizingRows: Int
    private var header: [String] = []
    private var held: [[RenderedCell]] = []
    private var widths: [Int]?
    private var line: [UInt8] = []
    private var scratch: [UInt8] = []

    private struct RenderedCell {
        var text: String
        var width: Int
        var alignRight: Bool
    }

    /// - Parameters:
    ///   - maxWidth: the terminal width in columns, or nil for no limit (output to a file or pipe).
    ///   - sizingRows: rows held back to size the columns (at least 1).
    public init(sink: OutputSink, times: TimestampFormatter = TimestampFormatter(), maxWidth: Int? = nil,
                sizingRows: Int = 1000) {
        self.sink = sink
        self.times = times
        self.maxWidth = maxWidth
        self.sizingRows = max(1, sizingRows)
    }

    public mutating func begin(columns: [Column]) throws {
        header = columns.map { TableWriter.neutralised($0.name) }
        held.removeAll()
        widths = nil
    }

    public mutating func write(row: [Cell]) throws {
        try RowShapeError.check(row: row, columns: header.count)
        let rendered = render(row)
        if let widths {
            try emit(rendered, widths: widths)
        } else {
            held.append(rendered)
            if held.count >= sizingRows { try layOut() }
        }
    }

    public mutating func finish() throws {
        if widths == nil { try layOut() }
        try sink.flush()
    }

    // MARK: - Layout

    private mutating func layOut() throws {
        var natural = header.map { max(1, DisplayWidth.of($0)) }
        for row in held {
            for (index, cell) in row.enumerated() { natural[index] = max(natural[index], cell.width) }
        }
        let fitted = TableWriter.fit(natural, into: maxWidth)
        widths = fitted
        try emit(header.map { RenderedCell(text: $0, width: DisplayWidth.of($0), alignRight: false) }, widths: fitted)
        try emit(fitted.map { RenderedCell(text: String(repeating: "-", count: $0), width: $0, alignRight: false) },
                 widths: fitted)
        for row in held { try emit(row, widths: fitted) }
        held.removeAll()
    }

    /// Column widths that fit `maxWidth` with two-space gaps: the widest columns are capped at the
    /// largest common width that fits, and what is left over goes to the capped columns from the left.
    static func fit(_ natural: [Int], into maxWidth: Int?) -> [Int] {
        guard let maxWidth, !natural.isEmpty else { return natural }
        let available = maxWidth - 2 * (natural.count - 1)
        if natural.reduce(0, +) <= available { return natural }
        var low = 1, high = natural.max() ?? 1
        while low < high {
            let cap = (low + high + 1) / 2
            if natural.reduce(0, { $0 + min($1, cap) }) <= available { low = cap } else { high = cap - 1 }
        }
        let cap = low
        var widths = natural.map { min($0, cap) }
        var leftover = available - widths.reduce(0, +)
        for index in widths.indices where leftover > 0 && natural[index] > widths[index] {
            let extra = min(leftover, natural[index] - widths[index])
            widths[index] += extra
            leftover -= extra
        }
        return widths
    }

    private mutating func emit(_ row: [RenderedCell], widths: [Int]) throws {
        line.removeAll(keepingCapacity: true)
        for (index, cell) in row.enumerated() {
            let width = widths[index]
            var text = cell.text
            var textWidth = cell.width
            if textWidth > width {
                text = DisplayWidth.truncate(text, to: width)
                textWidth = DisplayWidth.of(text)
            }
            let padding = max(0, width - textWidth)
            let isLast = index == row.count - 1
            if index > 0 { line.append(contentsOf: [0x20, 0x20]) }
            if cell.alignRight { line.append(contentsOf: repeatElement(0x20, count: padding)) }
            line.append(contentsOf: text.utf8)
            if !cell.alignRight && !isLast { line.append(contentsOf: repeatElement(0x20, count: padding)) }
        }
        // No trailing blanks when the last column is empty or short.
        while line.last == 0x20 { line.removeLast() }
        line.append(0x0A)
        try sink.write(line)
    }

    private mutating func render(_ row: [Cell]) -> [RenderedCell] {
        row.map { cell in
            scratch.removeAll(keepingCapacity: true)
            CellEncoding.appendText(cell, times: &times, to: &scratch)
            let text = TableWriter.neutralised(String(decoding: scratch, as: UTF8.self))
            let alignRight: Bool
            switch cell {
            case .integer, .real: alignRight = true
            default: alignRight = false
            }
            return RenderedCell(text: text, width: DisplayWidth.of(text), alignRight: alignRight)
        }
    }

    /// `text` with everything that could steer a terminal made visible and inert.
    static func neutralised(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        guard text.unicodeScalars.contains(where: needsReplacement) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x00..<0x20:
                out.append(Unicode.Scalar(0x2400 + scalar.value) ?? "\u{FFFD}")
            case 0x7F:
                out.append("\u{2421}")
            default:
                out.append(needsReplacement(scalar) ? "\u{FFFD}" : scalar)
            }
        }
        return String(out)
    }

    private static func needsReplacement(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00..<0x20, 0x7F..<0xA0: return true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}
