import Client

/// The text that full-text search indexes for an object: leaf values only, never JSON keys
/// (searching "username" must not match every login), each distinct value once, one per line.
/// Built with the Client's scanner over the raw bytes, so nothing is decoded twice or re-encoded.
enum SearchText {
    static func values(of json: ArraySlice<UInt8>?) -> String {
        guard let json else { return "" }
        var seen = Set<String>()
        var lines: [String] = []
        for value in RawJSON.scalarValues(in: json) where !value.isEmpty && seen.insert(value).inserted {
            lines.append(value)
        }
        return lines.joined(separator: "\n")
    }

    /// The searchable text of an event's `source` and `data`.
    static func event(_ raw: [UInt8]) -> (source: String, data: String) {
        (values(of: try? RawJSON.value(forKey: "source", in: raw)),
         values(of: try? RawJSON.value(forKey: "data", in: raw)))
    }
}

/// Top-level fields read back from raw JSON (notification `message`, `verify`'s cross-checks).
enum RawField {
    /// The top-level member `key` when it is a string, number or boolean (as text); nil otherwise.
    static func scalar(_ key: String, in raw: [UInt8]) -> String? {
        guard let slice = try? RawJSON.value(forKey: key, in: raw), let first = slice.first,
              first != UInt8(ascii: "{"), first != UInt8(ascii: "[") else { return nil }
        return RawJSON.scalarValues(in: slice).first
    }

    /// The top-level member `key` as raw bytes (for nested objects).
    static func json(_ key: String, in raw: [UInt8]) -> [UInt8]? {
        (try? RawJSON.value(forKey: key, in: raw)).flatMap { $0.map { Array($0) } }
    }
}
