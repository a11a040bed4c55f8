#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// A small, validating JSON scanner that works on the bytes as received.
//
// Why not JSONDecoder/JSONSerialization: the archive keeps every object's bytes exactly as the server
// sent them, and only a handful of top-level fields are indexed. Splitting a list body into per-object
// byte slices and reading a few members directly is several times faster than building a full tree
// (rows carry whole app manifests, 2-4 KB each) and never re-encodes anything.

/// Why a body is not the JSON we expected; `offset` is a byte index into the scanned bytes.
public struct RawJSONError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var offset: Int
    public var description: String { "\(reason) at byte \(offset)" }
}

/// Public entry points of the scanner. The archive uses `scalarValues` to build full-text search text.
public enum RawJSON {
    /// The elements of the array stored under the top-level `key` of the object `body`, each as a
    /// slice of `body` (indices are `body`'s). The whole body is validated, so a body cut short throws.
    public static func elements(ofArrayAt key: String, in body: [UInt8]) throws -> [ArraySlice<UInt8>] {
        switch try arrayElements(ofArrayAt: key, in: body) {
        case .elements(let slices): return slices
        case .missing: throw RawJSONError(reason: "no \"\(key)\" array in the response", offset: 0)
        case .notArray: throw RawJSONError(reason: "\"\(key)\" is not an array", offset: 0)
        }
    }

    enum ArrayLookup {
        case elements([ArraySlice<UInt8>])
        case missing
        case notArray
    }

    /// One validating pass over the body that also records the element ranges of the array at `key`.
    static func arrayElements(ofArrayAt key: String, in body: [UInt8]) throws -> ArrayLookup {
        let lookup: (ranges: [Range<Int>]?, present: Bool) = try body.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            let keyBytes = Array(key.utf8)
            var ranges: [Range<Int>]?
            var present = false
            let reader = scanner
            try scanner.forEachMember(elementsOf: { keyRange, escaped in
                guard !present, reader.keyEquals(keyRange, escaped: escaped, keyBytes) else { return false }
                present = true
                return true
            }, collect: { ranges = $0 })
            scanner.skipWhitespace()
            guard scanner.index == buffer.count else { throw scanner.fail("unexpected bytes after the JSON object") }
            return (ranges, present)
        }
        guard lookup.present else { return .missing }
        guard let ranges = lookup.ranges else { return .notArray }
        return .elements(ranges.map { body[$0] })
    }

    /// One element of a list answer: its bytes (a slice of the body), and why they are not JSON when not.
    struct FramedElement {
        var bytes: ArraySlice<UInt8>
        var invalid: RawJSONError?
    }

    /// The elements of the array at `key` when the body is well framed but may hold invalid elements: the
    /// body outside that array is validated as JSON, the array's elements are delimited by structure
    /// alone (strings, and brackets that must pair up) and then validated one by one, so that one invalid
    /// object in a page is quarantined instead of failing the page. Throws when the framing itself is
    /// broken (a body cut short, brackets that do not pair up, bytes after the object): then no element
    /// boundary can be trusted. The validating `arrayElements` is tried first; this runs only when it fails.
    static func framedElements(ofArrayAt key: String, in body: [UInt8]) throws -> [FramedElement]? {
        let ranges: [(Range<Int>, RawJSONError?)]? = try body.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            let keyBytes = Array(key.utf8)
            var ranges: [(Range<Int>, RawJSONError?)]?
            let reader = scanner
            scanner.skipWhitespace()
            guard scanner.index < buffer.count, buffer[scanner.index] == 0x7B else {
                throw scanner.fail("expected a JSON object")
            }
            try scanner.forEachMember(validated: false) { member, keyRange, escaped in
                guard ranges == nil, member.index < member.bytes.count, member.bytes[member.index] == 0x5B,
                      reader.keyEquals(keyRange, escaped: escaped, keyBytes) else {
                    return try member.skipValue(depth: 1)
                }
                var found: [(Range<Int>, RawJSONError?)] = []
                try member.forEachElement { element in
                    let start = element.index
                    try element.skipFramed()
                    found.append((start..<element.index, element.validationError(of: start..<element.index, depth: 2)))
                }
                ranges = found
            }
            scanner.skipWhitespace()
            guard scanner.index == buffer.count else { throw scanner.fail("unexpected bytes after the JSON object") }
            return ranges
        }
        return ranges?.map { FramedElement(bytes: body[$0.0], invalid: $0.1) }
    }

    /// Every string, number and boolean leaf value in `object` (keys and nulls excluded), strings
    /// unescaped, numbers as written. Returns what was read before any malformed byte.
    public static func scalarValues(in object: some Collection<UInt8>) -> [String] {
        let bytes = Array(object)
        return bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            var out: [String] = []
            scanner.skipWhitespace()
            _ = try? scanner.collectScalars(into: &out, depth: 0)
            return out
        }
    }

    /// The value of the top-level member `key` of the object `body` as a slice, or nil if absent.
    public static func value(forKey key: String, in body: [UInt8]) throws -> ArraySlice<UInt8>? {
        let range: Range<Int>? = try body.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            return try scanner.topLevelValue(forKey: key)
        }
        return range.map { body[$0] }
    }

    /// The values of several top-level members of the object `body` (nil where absent), in the order of
    /// `keys`, found in one validating pass: the archive reads `source` and `data` of every event this way.
    public static func values(forKeys keys: [String], in body: [UInt8]) throws -> [ArraySlice<UInt8>?] {
        let keyBytes = keys.map { Array($0.utf8) }
        let ranges: [Range<Int>?] = try body.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            var found = [Range<Int>?](repeating: nil, count: keyBytes.count)
            let reader = scanner
            try scanner.forEachMember { keyRange, escaped, valueRange in
                for (position, key) in keyBytes.enumerated()
                where found[position] == nil && reader.keyEquals(keyRange, escaped: escaped, key) {
                    found[position] = valueRange
                }
            }
            scanner.skipWhitespace()
            guard scanner.index == buffer.count else { throw scanner.fail("unexpected bytes after the JSON object") }
            return found
        }
        return ranges.map { range in range.map { body[$0] } }
    }

    /// Validates that `bytes` hold exactly one JSON value (surrounding whitespace allowed).
    public static func validate(_ bytes: some Collection<UInt8>) throws {
        let array = Array(bytes)
        try array.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            scanner.skipWhitespace()
            try scanner.skipValue(depth: 0)
            scanner.skipWhitespace()
            guard scanner.index == buffer.count else {
                throw RawJSONError(reason: "unexpected bytes after the JSON value", offset: scanner.index)
            }
        }
    }
}

/// Recursive-descent scanner over a buffer. Indices are offsets into the buffer.
struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index: Int = 0
    static let maxDepth = 512

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    @inline(__always) func fail(_ reason: String) -> RawJSONError {
        RawJSONError(reason: index >= bytes.count ? "JSON ends early (\(reason))" : reason, offset: index)
    }

    @inline(__always) mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    @inline(__always) mutating func expect(_ byte: UInt8, _ what: String) throws {
        guard index < bytes.count, bytes[index] == byte else { throw fail("expected \(what)") }
        index += 1
    }

    /// Skips a string starting at the opening quote; returns whether it contained escapes. RFC 8259: no
    /// control character unescaped, only its escapes, and UTF-8 (§8.1) checked as RFC 3629 defines it (no
    /// overlong forms, no encoded surrogates, nothing above U+10FFFF): bytes that are not UTF-8 would be
    /// archived as text that SQLite's readers in other languages (Python's, so Datasette's) cannot decode.
    /// An escaped lone surrogate (`\ud800`) is well-formed JSON (§8.2) and is accepted, as box's Node.js
    /// sends it.
    @discardableResult
    mutating func skipString() throws -> Bool {
        try expect(0x22, "'\"'")
        var escaped = false
        while index < bytes.count {
            skipPlainWords()
            guard index < bytes.count else { break }
            let byte = bytes[index]
            if byte >= 0x20, byte < 0x80, byte != 0x22, byte != 0x5C { index += 1; continue }
            if byte == 0x22 { index += 1; return escaped }
            if byte == 0x5C {
                escaped = true
                index += 1
                guard index < bytes.count else { break }
                switch bytes[index] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: index += 1
                case 0x75:
                    guard index + 4 < bytes.count else { index = bytes.count; break }
                    for k in 1...4 where hexValue(bytes[index + k]) == nil {
                        index += k
                        throw fail("bad \\u escape")
                    }
                    index += 5
                default: throw fail("bad escape")
                }
                continue
            }
            if byte < 0x20 { throw fail("control character in string") }
            try skipUTF8Sequence()
        }
        throw fail("unterminated string")
    }

    /// Skips eight bytes at a time while none of them needs a look: no quote, backslash, control character
    /// or byte of a multi-byte sequence (SWAR: each test sets a byte's high bit exactly when some byte
    /// of the word matches, and a borrow only ever crosses from a byte that matched).
    @inline(__always) private mutating func skipPlainWords() {
        guard let base = bytes.baseAddress else { return }
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        while index &+ 8 <= bytes.count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
            let control = (word &- ones &* 0x20) & ~word
            let special = (control | (quote &- ones) & ~quote | (backslash &- ones) & ~backslash | word) & highs
            if special != 0 { return }
            index &+= 8
        }
    }

    /// Skips one multi-byte UTF-8 sequence at `index` (its lead byte is 0x80 or more), or throws.
    private mutating func skipUTF8Sequence() throws {
        let lead = bytes[index]
        let length: Int
        var second: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; second = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; second = 0x80...0x9F
        case 0xF0: length = 4; second = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; second = 0x80...0x8F
        default: throw fail("invalid UTF-8")
        }
        guard index + length <= bytes.count else { index = bytes.count; throw fail("invalid UTF-8") }
        guard second.contains(bytes[index + 1]) else { throw fail("invalid UTF-8") }
        for k in 2..<length where bytes[index + k] & 0xC0 != 0x80 { throw fail("invalid UTF-8") }
        index += length
    }

    /// Skips a number as RFC 8259 writes it: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. What
    /// follows is the caller's to judge (`01` is the number `0` followed by a stray `1`).
    mutating func skipNumber() throws {
        if index < bytes.count, bytes[index] == 0x2D { index += 1 }
        guard index < bytes.count, bytes[index] &- 0x30 < 10 else { throw fail("bad number") }
        if bytes[index] == 0x30 { index += 1 } else { _ = skipDigits() }
        if index < bytes.count, bytes[index] == 0x2E {
            index += 1
            guard skipDigits() else { throw fail("bad number: no digit after '.'") }
        }
        if index < bytes.count, bytes[index] | 0x20 == 0x65 {
            index += 1
            if index < bytes.count, bytes[index] == 0x2B || bytes[index] == 0x2D { index += 1 }
            guard skipDigits() else { throw fail("bad number: no digit in the exponent") }
        }
    }

    /// Skips decimal digits; returns whether there was at least one.
    @inline(__always) private mutating func skipDigits() -> Bool {
        let start = index
        while index < bytes.count, bytes[index] &- 0x30 < 10 { index += 1 }
        return index > start
    }

    mutating func skipLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { index = bytes.count; throw fail("bad literal") }
        let pointer = literal.utf8Start
        for k in 0..<count where bytes[index + k] != pointer[k] { throw fail("bad literal") }
        index += count
    }

    /// Skips any value, validating it. `index` must be at its first byte.
    mutating func skipValue(depth: Int) throws {
        var ignore = IgnoredScalars()
        try walkValue(depth: depth, &ignore)
    }

    /// Walks any value, validating it and showing each scalar leaf to `visitor`; `index` must be at its
    /// first byte. One grammar for validation (`skipValue`) and search text (`collectScalars`): the
    /// visitor is a generic parameter, so the no-op one costs nothing once specialised.
    mutating func walkValue<Visitor: ScalarVisitor>(depth: Int, _ visitor: inout Visitor) throws {
        guard index < bytes.count else { throw fail("missing value") }
        switch bytes[index] {
        case 0x22:
            let start = index
            try skipString()
            visitor.visitString(self, contents: (start + 1)..<(index - 1))
        case 0x7B:
            guard depth < Self.maxDepth else { throw fail("nesting too deep") }
            try forEachMember(validated: false) { scanner, _, _ in try scanner.walkValue(depth: depth + 1, &visitor) }
        case 0x5B:
            guard depth < Self.maxDepth else { throw fail("nesting too deep") }
            try forEachElement { scanner in try scanner.walkValue(depth: depth + 1, &visitor) }
        case 0x74: try skipLiteral("true"); visitor.visitLiteral("true")
        case 0x66: try skipLiteral("false"); visitor.visitLiteral("false")
        case 0x6E: try skipLiteral("null")
        case 0x2D, 0x30...0x39:
            let start = index
            try skipNumber()
            visitor.visitNumber(self, text: start..<index)
        default: throw fail("unexpected byte")
        }
    }

    /// The object grammar, written once: `{`, then `"key": value` members separated by commas, then `}`.
    /// `index` must be at the `{` (the caller has looked at it). For each member `member` gets the scanner
    /// at the value's first byte, the key's range without quotes and whether the key has escapes, and
    /// must leave `index` after the value. Leaves `index` after the closing brace. `validated`: the bytes were validated before (a model's
    /// fields are read after the whole body was), so keys are skipped with `memchr` instead of checked.
    @inline(__always)
    mutating func forEachMember(validated: Bool,
                                _ member: (inout JSONScanner, _ key: Range<Int>, _ escaped: Bool) throws -> Void) throws {
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == 0x7D { index += 1; return }
        while true {
            skipWhitespace()
            let keyStart = index
            let escaped = validated ? skipValidatedString() : try skipString()
            // Unchecked because this runs for every key of every object (the check showed in `walkValue`'s
            // instruction count); `max` keeps the range valid when validated input ends inside a key.
            let keyRange = Range(uncheckedBounds: (keyStart + 1, Swift.max(keyStart + 1, index - 1)))
            skipWhitespace()
            try expect(0x3A, "':'")
            skipWhitespace()
            try member(&self, keyRange, escaped)
            skipWhitespace()
            guard index < bytes.count else { throw fail("unterminated object") }
            if bytes[index] == 0x2C { index += 1; continue }
            if bytes[index] == 0x7D { index += 1; return }
            throw fail("expected ',' or '}'")
        }
    }

    /// The array grammar, written once; `element` gets the scanner at each element's first byte and must
    /// leave `index` after it. `index` must be at the `[` (the caller has looked at it); leaves it after
    /// the closing bracket.
    @inline(__always)
    mutating func forEachElement(_ element: (inout JSONScanner) throws -> Void) throws {
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == 0x5D { index += 1; return }
        while true {
            skipWhitespace()
            try element(&self)
            skipWhitespace()
            guard index < bytes.count else { throw fail("unterminated array") }
            if bytes[index] == 0x2C { index += 1; continue }
            if bytes[index] == 0x5D { index += 1; return }
            throw fail("expected ',' or ']'")
        }
    }

    /// Skips whitespace and checks that an object starts there.
    private mutating func expectObject() throws {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == 0x7B else { throw fail("expected a JSON object") }
    }

    /// Calls `body` with (key range without quotes, whether the key has escapes, value range) for each
    /// member of the object at `index` (after any whitespace), skipping each value (validating it unless
    /// `validated`). Leaves `index` after the closing brace.
    mutating func forEachMember(validated: Bool = false,
                                _ body: (Range<Int>, Bool, Range<Int>) throws -> Void) throws {
        try expectObject()
        try forEachMember(validated: validated) { scanner, key, escaped in
            let valueStart = scanner.index
            if validated { scanner.skipValidated() } else { try scanner.skipValue(depth: 1) }
            try body(key, escaped, valueStart..<scanner.index)
        }
    }

    @inline(__always) func keyEquals(_ range: Range<Int>, escaped: Bool, _ key: StaticString) -> Bool {
        if escaped { return unescapedString(range) == key.description }
        let count = key.utf8CodeUnitCount
        guard range.count == count else { return false }
        let pointer = key.utf8Start
        for k in 0..<count where bytes[range.lowerBound + k] != pointer[k] { return false }
        return true
    }

    func keyEquals(_ range: Range<Int>, escaped: Bool, _ key: [UInt8]) -> Bool {
        if escaped { return Array(unescapedString(range).utf8) == key }
        guard range.count == key.count else { return false }
        for k in 0..<key.count where bytes[range.lowerBound + k] != key[k] { return false }
        return true
    }

    /// Validates the whole buffer as one object and returns the range of the top-level member `key`.
    mutating func topLevelValue(forKey key: String) throws -> Range<Int>? {
        let keyBytes = Array(key.utf8)
        var found: Range<Int>?
        let reader = self
        try forEachMember { keyRange, escaped, valueRange in
            if found == nil, reader.keyEquals(keyRange, escaped: escaped, keyBytes) { found = valueRange }
        }
        skipWhitespace()
        guard index == bytes.count else { throw fail("unexpected bytes after the JSON object") }
        return found
    }

    /// Walks the object at `index`; for the member whose key `wants` accepts, and whose value is an
    /// array, passes the element ranges to `collect` (found in the same pass that validates them).
    mutating func forEachMember(elementsOf wants: (Range<Int>, Bool) -> Bool,
                                collect: ([Range<Int>]) -> Void) throws {
        try expectObject()
        try forEachMember(validated: false) { scanner, key, escaped in
            guard scanner.index < scanner.bytes.count, scanner.bytes[scanner.index] == 0x5B, wants(key, escaped) else {
                return try scanner.skipValue(depth: 1)
            }
            var ranges: [Range<Int>] = []
            try scanner.forEachElement { element in
                let start = element.index
                try element.skipValue(depth: 2)
                ranges.append(start..<element.index)
            }
            collect(ranges)
        }
    }

    /// Skips one array element by its structure only, not checking what is inside its strings or between
    /// its brackets: strings must end, `{`/`[` must pair with `}`/`]`, and a scalar ends at `,`, `]`, `}`
    /// or whitespace. `index` must be at the element's first byte; leaves it after the element.
    mutating func skipFramed() throws {
        guard index < bytes.count else { throw fail("missing value") }
        switch bytes[index] {
        case 0x7B, 0x5B:
            var closers: [UInt8] = []
            repeat {
                guard index < bytes.count else { throw fail("unterminated array element") }
                let byte = bytes[index]
                switch byte {
                case 0x22:
                    try skipFramedString()
                    continue
                case 0x7B: closers.append(0x7D)
                case 0x5B: closers.append(0x5D)
                case 0x7D, 0x5D:
                    guard closers.popLast() == byte else { throw fail("mismatched bracket") }
                default: break
                }
                index += 1
            } while !closers.isEmpty
        case 0x22:
            try skipFramedString()
        default:
            while index < bytes.count {
                switch bytes[index] {
                case 0x2C, 0x5D, 0x7D, 0x20, 0x0A, 0x0D, 0x09: return
                default: index += 1
                }
            }
        }
    }

    /// Skips a string by its quotes alone (an unescaped `"` ends it), or throws when it does not end.
    private mutating func skipFramedString() throws {
        let start = index
        skipValidatedString()
        guard index > start + 1, index <= bytes.count, bytes[index - 1] == 0x22 else {
            index = bytes.count
            throw fail("unterminated string")
        }
    }

    /// Why the bytes at `range` are not one JSON value, nested `depth` deep in the document; nil when they are.
    func validationError(of range: Range<Int>, depth: Int) -> RawJSONError? {
        var element = JSONScanner(UnsafeBufferPointer(rebasing: bytes[range]))
        do {
            try element.skipValue(depth: depth)
            guard element.index == element.bytes.count else { throw element.fail("unexpected bytes after the value") }
            return nil
        } catch let error as RawJSONError {
            return error
        } catch {
            return RawJSONError(reason: "\(error)", offset: 0)
        }
    }

    /// Skips a string of validated JSON; returns whether it had escapes. Finds the closing quote with
    /// memchr and counts the backslashes before it.
    @discardableResult @inline(__always) mutating func skipValidatedString() -> Bool {
        index += 1
        var escaped = false
        guard let base = bytes.baseAddress else { return false }
        while index < bytes.count {
            guard let hit = memchr(base + index, 0x22, bytes.count - index) else { index = bytes.count; return escaped }
            let quote = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - base
            var backslashes = 0
            var k = quote - 1
            while k >= index, bytes[k] == 0x5C { backslashes += 1; k -= 1 }
            if backslashes > 0 { escaped = true }
            index = quote + 1
            if backslashes % 2 == 0 { return escaped }
        }
        return escaped
    }

    /// Skips one value of validated JSON by counting brackets outside strings.
    mutating func skipValidated() {
        guard index < bytes.count else { return }
        switch bytes[index] {
        case 0x22:
            skipValidatedString()
        case 0x7B, 0x5B:
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case 0x22: skipValidatedString(); continue
                case 0x7B, 0x5B: depth += 1
                case 0x7D, 0x5D:
                    depth -= 1
                    if depth == 0 { index += 1; return }
                default: break
                }
                index += 1
            }
        default:
            while index < bytes.count {
                switch bytes[index] {
                case 0x2C, 0x7D, 0x5D, 0x20, 0x0A, 0x0D, 0x09: return
                default: index += 1
                }
            }
        }
    }

    /// The text of a string's content range (without quotes), with escapes resolved.
    func unescapedString(_ range: Range<Int>) -> String {
        var hasEscape = false
        for k in range where bytes[k] == 0x5C { hasEscape = true; break }
        if !hasEscape {
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var k = range.lowerBound
        while k < range.upperBound {
            let byte = bytes[k]
            guard byte == 0x5C, k + 1 < range.upperBound else { out.append(byte); k += 1; continue }
            let next = bytes[k + 1]
            k += 2
            switch next {
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                guard var scalar = hex4(at: k, limit: range.upperBound) else { out.append(0x3F); continue }
                k += 4
                if (0xD800..<0xDC00).contains(scalar), k + 6 <= range.upperBound, bytes[k] == 0x5C,
                   bytes[k + 1] == 0x75, let low = hex4(at: k + 2, limit: range.upperBound),
                   (0xDC00..<0xE000).contains(low) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    k += 6
                }
                let value = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(value)).utf8))
            default: out.append(next)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func hex4(at k: Int, limit: Int) -> UInt32? {
        guard k + 4 <= limit else { return nil }
        var value: UInt32 = 0
        for j in 0..<4 {
            guard let digit = hexValue(bytes[k + j]) else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Appends every scalar leaf value below `index` to `out`.
    mutating func collectScalars(into out: inout [String], depth: Int) throws {
        var collected = CollectedScalars(values: out)
        defer { out = collected.values }
        try walkValue(depth: depth, &collected)
    }
}

/// What `JSONScanner.walkValue` does with each scalar leaf (keys and nulls are not shown).
protocol ScalarVisitor {
    /// A string; `contents` is its range without the quotes, possibly with escapes.
    mutating func visitString(_ scanner: JSONScanner, contents: Range<Int>)
    mutating func visitLiteral(_ literal: String)
    mutating func visitNumber(_ scanner: JSONScanner, text: Range<Int>)
}

/// Validation only.
struct IgnoredScalars: ScalarVisitor {
    @inline(__always) mutating func visitString(_ scanner: JSONScanner, contents: Range<Int>) {}
    @inline(__always) mutating func visitLiteral(_ literal: String) {}
    @inline(__always) mutating func visitNumber(_ scanner: JSONScanner, text: Range<Int>) {}
}

/// Every leaf as text: strings unescaped, numbers as written (the archive's search text).
struct CollectedScalars: ScalarVisitor {
    var values: [String]
    mutating func visitString(_ scanner: JSONScanner, contents: Range<Int>) {
        values.append(scanner.unescapedString(contents))
    }
    mutating func visitLiteral(_ literal: String) { values.append(literal) }
    mutating func visitNumber(_ scanner: JSONScanner, text: Range<Int>) {
        values.append(String(decoding: UnsafeBufferPointer(rebasing: scanner.bytes[text]), as: UTF8.self))
    }
}

@inline(__always) func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: return byte - 0x30
    case 0x41...0x46: return byte - 0x41 + 10
    case 0x61...0x66: return byte - 0x61 + 10
    default: return nil
    }
}
