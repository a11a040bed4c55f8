/// The `:name` parameters of a report's SQL text, found the way both dialects read them: outside string
/// literals ('…'), quoted identifiers ("…") and `--` comments, and not PostgreSQL's `::type` casts.
///
/// A report's PostgreSQL text keeps SQLite's named parameters, so that one `ReportQuery` binds both; this
/// rewrites them into what PostgreSQL takes: `$n` placeholders for a run, literals for a view.
public enum NamedParameters {
    /// The distinct parameter names in `sql`, in order of first use.
    public static func names(in sql: String) -> [String] {
        var names: [String] = []
        _ = substitute(sql) { name in
            if !names.contains(name) { names.append(name) }
            return ":" + name
        }
        return names
    }

    /// `sql` with every `:name` replaced by `replacement(name)`.
    public static func substitute(_ sql: String, _ replacement: (String) throws -> String) rethrows -> String {
        let bytes = Array(sql.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        func isNameStart(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || byte == UInt8(ascii: "_")
        }
        func isNamePart(_ byte: UInt8) -> Bool { isNameStart(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) }
        /// Copies up to and including the closing `quote` (a doubled quote is an escaped one).
        func copyQuoted(_ quote: UInt8) {
            out.append(bytes[index]); index += 1
            while index < bytes.count {
                out.append(bytes[index]); index += 1
                if bytes[index - 1] == quote {
                    if index < bytes.count && bytes[index] == quote { out.append(bytes[index]); index += 1 } else { return }
                }
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                copyQuoted(byte)
            case UInt8(ascii: "-") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "-"):
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { out.append(bytes[index]); index += 1 }
            case UInt8(ascii: ":") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: ":"):
                out.append(contentsOf: [byte, byte]); index += 2
            case UInt8(ascii: ":") where index + 1 < bytes.count && isNameStart(bytes[index + 1]):
                var end = index + 1
                while end < bytes.count && isNamePart(bytes[end]) { end += 1 }
                out.append(contentsOf: try replacement(String(decoding: bytes[(index + 1)..<end], as: UTF8.self)).utf8)
                index = end
            default:
                out.append(byte); index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
