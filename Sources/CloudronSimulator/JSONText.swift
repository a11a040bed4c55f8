// Byte-level JSON writing, the way Node's JSON.stringify does it (box is Node): no spaces, non-ASCII
// as raw UTF-8, only `"`, `\` and control characters escaped. Objects are serialized once and served
// as bytes, which is what makes paging a million events cheap.

/// An append-only JSON text under construction.
struct JSONText {
    var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    /// Appends text that is already JSON (punctuation, keys known to need no escaping, serialized objects).
    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }
    mutating func raw(_ text: [UInt8]) { bytes.append(contentsOf: text) }

    /// Appends `"key":`.
    mutating func key(_ name: String) {
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: name.utf8)
        bytes.append(contentsOf: "\":".utf8)
    }

    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = value
        let clean = text.withUTF8 { utf8 -> Bool in
            // Fast path: most strings need no escaping and are copied whole.
            guard !utf8.contains(where: { $0 < 0x20 || $0 == 34 || $0 == 92 }) else { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if !clean { appendEscaped(text) }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscaped(_ value: String) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
            case 0x0A: bytes.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [92, UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [92, UInt8(ascii: "f")])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: bytes.append(byte)
            }
        }
    }

    mutating func optionalString(_ value: String?) {
        if let value { string(value) } else { raw("null") }
    }

    mutating func int<I: BinaryInteger>(_ value: I) { raw(String(value)) }
    mutating func bool(_ value: Bool) { raw(value ? "true" : "false") }

    /// `"key":"value"` with a leading comma unless `first`.
    mutating func field(_ name: String, _ value: String, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        key(name); string(value)
    }
    mutating func field(_ name: String, int value: Int, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        key(name); int(value)
    }
    mutating func field(_ name: String, bool value: Bool, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        key(name); bool(value)
    }
    mutating func field(_ name: String, optional value: String?, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        key(name); optionalString(value)
    }
    mutating func field(_ name: String, raw value: [UInt8], first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        key(name); raw(value)
    }
    mutating func field(_ name: String, rawText value: String, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        key(name); raw(value)
    }
}

/// Box's timestamps: UTC, ISO 8601 with milliseconds that are always `.000` for the event log
/// (MySQL DATETIME has 1-second resolution).
enum CloudronTime {
    /// `2026-11-20T11:37:29.000Z` for the given Unix seconds (proleptic Gregorian, UTC).
    static func iso(_ seconds: Int64, millis: Int = 0) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (y, m, d) = civil(fromDays: days)
        let hh = secondOfDay / 3600, mm = (secondOfDay % 3600) / 60, ss = secondOfDay % 60
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(hh, 2)):\(pad(mm, 2)):\(pad(ss, 2)).\(pad(Int64(millis), 3))Z"
    }

    /// The UTC day number (days since 1970-01-01) of a Unix time: box's "same day" for login upserts.
    static func day(_ seconds: Int64) -> Int64 {
        seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    /// Howard Hinnant's days-to-civil algorithm.
    private static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

/// SplitMix64: small, fast and deterministic, so the same seed always builds the same server.
struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func chance(_ probability: Double) -> Bool {
        probability > 0 && Double(next() >> 11) / Double(1 << 53) < probability
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }

    /// A lower-case v4 UUID, as box's `uuid.v4()` gives event ids.
    mutating func uuid() -> String {
        let hex = Array("0123456789abcdef".utf8)
        var a = next(), b = next()
        var out = [UInt8](); out.reserveCapacity(36)
        for i in 0..<32 {
            var nibble: Int
            if i < 16 { nibble = Int(a & 15); a >>= 4 } else { nibble = Int(b & 15); b >>= 4 }
            if i == 12 { nibble = 4 }
            if i == 16 { nibble = 8 | (nibble & 3) }
            if i == 8 || i == 12 || i == 16 || i == 20 { out.append(UInt8(ascii: "-")) }
            out.append(hex[nibble])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
