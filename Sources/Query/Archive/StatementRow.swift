import Archiver

/// The current row of a statement, typed per column as a report declares it, read where SQLite holds it.
///
/// A writer asks for each cell in turn (`withCell`): a text cell comes as SQLite's own bytes, so a
/// million-row report is written without building millions of `String`s. `cells` gives the row as values for
/// the writers that keep cells (tables, the HTML page's digest). Valid until the statement steps again.
public struct StatementRow {
    let statement: Statement
    let kinds: [ReportColumn.Kind]

    init(_ statement: Statement, kinds: [ReportColumn.Kind]) {
        self.statement = statement
        self.kinds = kinds
    }

    public var count: Int { kinds.count }

    /// The row as values: what `withCell` hands over, with text and JSON copied out.
    public var cells: [Cell] {
        kinds.indices.map { index in
            withCell(at: index) { cell in
                switch cell {
                case .text(let bytes): .text(String(decoding: bytes, as: UTF8.self))
                case .json(let bytes): .json(Array(bytes))
                case .value(let value): value
                }
            }
        }
    }

    /// Calls `body` with cell `index`, its text or JSON bytes in place. What each kind makes of SQLite's
    /// value: `text` whatever SQLite returned (a BLOB as hex); `integer`, `time`, `bool` a number or NULL;
    /// `json` the bytes of JSON text or NULL.
    func withCell<T>(at index: Int, _ body: (BorrowedCell) throws -> T) rethrows -> T {
        let column = Int32(index)
        let storage = statement.storageClass(at: column)
        if storage == .null { return try body(.value(.null)) }
        switch kinds[index] {
        case .text:
            switch storage {
            case .text: return try statement.withUnsafeBytes(at: column) { try body(.text($0)) }
            case .integer: return try body(.value(.integer(statement.int64(at: column))))
            case .real: return try body(.value(.real(statement.double(at: column))))
            case .blob, .null: return try body(.value(.text(Hex.string(statement.bytes(at: column)))))
            }
        case .integer: return try body(.value(.integer(statement.int64(at: column))))
        case .time: return try body(.value(.time(statement.int64(at: column))))
        case .bool: return try body(.value(.boolean(statement.int64(at: column) != 0)))
        case .json: return try statement.withUnsafeBytes(at: column) { try body(.json($0)) }
        }
    }
}
