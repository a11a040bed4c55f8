#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-level rendering of cells shared by the writers.
enum CellEncoding {
    /// The cell as plain text (CSV, tables): nil for SQL NULL.
    static func appendText(_ cell: Cell, times: inout TimestampFormatter, to out: inout [UInt8]) {
        switch cell {
        case .null: break
        case .text(let text): out.append(contentsOf: text.utf8)
        case .integer(let value): out.append(contentsOf: String(value).utf8)
        case .real(let value): appendReal(value, to: &out, nonFinite: Array(String(value).utf8))
        case .boolean(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .time(let epoch), .receivedTime(let epoch, _): times.append(epoch, to: &out)
        case .json(let bytes): out.append(contentsOf: bytes)
        }
    }

    /// A borrowed cell as plain text: what `appendText` writes for the same cell as a value.
    static func appendText(_ cell: BorrowedCell, times: inout TimestampFormatter, to out: inout [UInt8]) {
        switch cell {
        case .text(let bytes):
            if isASCII(bytes) { out.append(contentsOf: bytes) } else { out.append(contentsOf: String(decoding: bytes, as: UTF8.self).utf8) }
        case .json(let bytes): out.append(contentsOf: bytes)
        case .value(let value): appendText(value, times: &times, to: &out)
        }
    }

    /// A borrowed cell as one JSON value: what `appendJSON` writes for the same cell as a value.
    static func appendJSON(_ cell: BorrowedCell, times: inout TimestampFormatter, to out: inout [UInt8]) {
        switch cell {
        case .text(let bytes):
            if isASCII(bytes) {
                appendJSONString(bytes, to: &out)
            } else {
                var text = String(decoding: bytes, as: UTF8.self)
                text.withUTF8 { appendJSONString(UnsafeRawBufferPointer($0), to: &out) }
            }
        case .json(let bytes): appendJSONValue(bytes, to: &out)
        case .value(let value): appendJSON(value, times: &times, to: &out)
        }
    }

    /// The cell as one JSON value.
    static func appendJSON(_ cell: Cell, times: inout TimestampFormatter, to out: inout [UInt8]) {
        switch cell {
        case .null: out.append(contentsOf: "null".utf8)
        case .text(var text): text.withUTF8 { appendJSONString(UnsafeRawBufferPointer($0), to: &out) }
        case .integer(let value): out.append(contentsOf: String(value).utf8)
        case .real(let value): appendReal(value, to: &out, nonFinite: Array("null".utf8))
        case .boolean(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .receivedTime(_, let token) where times.zone == nil && token.first == UInt8(ascii: "\""):
            out.append(contentsOf: token)
        case .time(let epoch), .receivedTime(let epoch, _):
            out.append(UInt8(ascii: "\""))
            times.append(epoch, to: &out)
            out.append(UInt8(ascii: "\""))
        case .json(let bytes): bytes.withUnsafeBytes { appendJSONValue($0, to: &out) }
        }
    }

    /// JSON bytes as a value: verbatim on one line, `null` when empty.
    private static func appendJSONValue(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        if bytes.isEmpty {
            out.append(contentsOf: "null".utf8)
        } else {
            appendOneLine(bytes, to: &out)
        }
    }

    /// Valid JSON bytes on one line. Raw line breaks can only be whitespace between tokens in valid JSON
    /// (inside strings they are escaped), so turning them into spaces keeps the value and NDJSON's
    /// one-line rule.
    static func appendOneLine(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        guard let base = bytes.baseAddress else { return }
        if memchr(base, 0x0A, bytes.count) != nil || memchr(base, 0x0D, bytes.count) != nil {
            for byte in bytes { out.append(byte == 0x0A || byte == 0x0D ? 0x20 : byte) }
        } else {
            out.append(contentsOf: bytes)
        }
    }

    /// Whether every byte is ASCII: such text is valid UTF-8 as it stands.
    @inline(__always)
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var any: UInt8 = 0
        for byte in bytes { any |= byte }
        return any < 0x80
    }

    /// A JSON string literal of UTF-8 text: `"` `\` and control characters escaped, the rest verbatim. The
    /// stretches between bytes to escape are copied whole; most text has none.
    static func appendJSONString(_ utf8: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var start = 0
        for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: utf8[start ..< index]))
            start = index + 1
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\\"))
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            default:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 0x0F))
            }
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: utf8[start...]))
        out.append(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// Swift's shortest round-trip form (`0.1`, `1e-05`), which is valid JSON when finite.
    private static func appendReal(_ value: Double, to out: inout [UInt8], nonFinite: [UInt8]) {
        if value.isFinite {
            out.append(contentsOf: value.description.utf8)
        } else {
            out.append(contentsOf: nonFinite)
        }
    }
}
