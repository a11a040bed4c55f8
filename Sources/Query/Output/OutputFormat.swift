import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `--format table|csv|json|ndjson`.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table
    case csv
    case json
    case ndjson

    /// - Throws: `QueryInputError` listing the formats.
    public init(parsing text: String) throws {
        guard let format = OutputFormat(rawValue: text.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw QueryInputError("unknown format \(TimeExpression.quoted(text)): use table, csv, json or ndjson")
        }
        self = format
    }

    /// The file name extension for exports (`report --all --output-dir`).
    public var fileExtension: String {
        switch self {
        case .table: return "txt"
        case .csv: return "csv"
        case .json: return "json"
        case .ndjson: return "ndjson"
        }
    }

    /// The format a file name's extension asks for (`--output x.csv` without `--format`): csv, json,
    /// ndjson or jsonl, txt (a table); nil when the name has no extension (`/dev/stdout`).
    /// - Throws: `QueryInputError` for another extension.
    public init?(extensionOf path: String) throws {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        switch name[name.index(after: dot)...].lowercased() {
        case "csv": self = .csv
        case "json": self = .json
        case "ndjson", "jsonl": self = .ndjson
        case "txt": self = .table
        default:
            throw QueryInputError("cannot tell the format of \(TimeExpression.quoted(path)) from its extension: "
                                  + "name it .csv, .json, .ndjson, .jsonl or .txt, or give --format")
        }
    }

    /// A writer of this format onto `sink`.
    /// - Parameter tableWidth: the terminal width for tables (nil: no truncation); ignored by other formats.
    public func makeWriter(sink: OutputSink, times: TimestampFormatter = TimestampFormatter(),
                           tableWidth: Int? = nil) -> any RowWriter {
        switch self {
        case .table: return TableWriter(sink: sink, times: times, maxWidth: tableWidth)
        case .csv: return CSVWriter(sink: sink, times: times)
        case .json: return JSONWriter(sink: sink, times: times)
        case .ndjson: return NDJSONWriter(sink: sink, times: times)
        }
    }
}

/// The width of the terminal a descriptor writes to.
public enum TerminalWidth {
    /// Columns of the terminal behind `fileDescriptor`, nil when it is not a terminal (a file or a pipe,
    /// where tables are not cut). `COLUMNS` from the environment wins when set to a positive number.
    public static func columns(of fileDescriptor: Int32 = STDOUT_FILENO) -> Int? {
        guard isatty(fileDescriptor) == 1 else { return nil }
        if let text = getenv("COLUMNS").map({ String(cString: $0) }), let value = Int(text), value > 0 {
            return value
        }
        var size = winsize()
        if ioctl(fileDescriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
            return Int(size.ws_col)
        }
        return 80
    }

    /// Whether `fileDescriptor` is a terminal (the CLI's default format is `table` only there).
    public static func isTerminal(_ fileDescriptor: Int32 = STDOUT_FILENO) -> Bool {
        isatty(fileDescriptor) == 1
    }
}
