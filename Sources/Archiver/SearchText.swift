import Client

/// The text that full-text search indexes for an object: leaf values only, never JSON keys
/// (searching "username" must not match every login), each distinct value once, one per line.
/// Built with the Client's scanner over the raw bytes, so nothing is decoded twice or re-encoded.
///
/// Values longer than `maximumValueBytes` are left out: in event data they are prose (the app
/// store description embedded in every app object's manifest, post-install messages), which would
/// triple the archive's size and the index's while answering no audit question. Who, from where,
/// which app, domain, version and error message are all short values. Long values stay in the
/// raw JSON, searchable with LIKE or json_extract.
enum SearchText {
    static let maximumValueBytes = 256

    static func values(of json: ArraySlice<UInt8>?) -> String {
        guard let json else { return "" }
        var seen = Set<String>()
        var text: [UInt8] = []
        text.reserveCapacity(json.count / 2)
        for value in RawJSON.scalarValues(in: json)
        where !value.isEmpty && value.utf8.count <= maximumValueBytes && seen.insert(value).inserted {
            if !text.isEmpty { text.append(0x0A) }
            text.append(contentsOf: value.utf8)
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// Top-level fields read from raw JSON that the Client's models do not decode (a notification's `message`).
enum RawField {
    /// The top-level member `key` when it is a string, number or boolean (as text); nil otherwise.
    static func scalar(_ key: String, in raw: [UInt8]) -> String? {
        guard let slice = try? RawJSON.value(forKey: key, in: raw), let first = slice.first,
              first != UInt8(ascii: "{"), first != UInt8(ascii: "[") else { return nil }
        return RawJSON.scalarValues(in: slice).first
    }
}
