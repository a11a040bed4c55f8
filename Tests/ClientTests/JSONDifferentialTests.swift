import Testing
import Foundation
import TestSupport
@testable import Client

/// RawJSON accepts exactly RFC 8259 JSON: its verdict equals the oracle's (JSONOracle: SQLite's json_valid
/// plus UTF-8, NUL and depth rules) on seeded generated documents and on mutations of them, and on the
/// cases the issue names; huge or hostile input is rejected without a crash.
@Suite struct JSONDifferentialTests {
    static func rawJSONAccepts(_ bytes: [UInt8]) -> Bool { (try? RawJSON.validate(bytes)) != nil }

    @Test func theIssuesNumbersAndOtherNearMissesAreRejectedByBoth() {
        let oracle = JSONOracle()
        let invalid = ["-01", "2.", "0.e1", "1.0e+", "01", "-", "+1", ".5", "1e", "1E-", "0x10", "1.5.2", "--1", "-.5",
                       "[1,]", "{\"a\":1,}", "[01]", "{\"a\":-}", "\"\\u12G4\"", "\"\\x\"", "\"a\tb\"", "tru", "nul", "NaN",
                       "Infinity", "'a'", "{a:1}", "1 2", "", " ", "\u{FEFF}1", "\u{0C}1", "[1e999", "[]]",
                       // SQLite 3.40 alone accepts an object as a key when its last value is a string (make fuzz).
                       #"{"a":1,{"k":"v"}:2}"#, #"{"id":"","":"sZ",{"&tio\\   1 .true2}":""}:{"n":[-0.5E2],"s":"00 "}   }   "#]
        let valid = ["-0", "0", "1e5", "1E+5", "-1.0e-0", "0.5e07", "123456789012345678901234567890", "1e999", "[-0.0]",
                     "\"\\ud800\"", "\"\\/\"", "\"\u{7F}\"", " {\"a\" : [ true , false , null ] } ", "\"\"", "{}", "[]"]
        for text in invalid {
            #expect(!oracle.accepts(Array(text.utf8)), "oracle accepts \(text.debugDescription)")
            #expect(!Self.rawJSONAccepts(Array(text.utf8)), "RawJSON accepts \(text.debugDescription)")
        }
        for text in valid {
            #expect(oracle.accepts(Array(text.utf8)), "oracle rejects \(text.debugDescription)")
            #expect(Self.rawJSONAccepts(Array(text.utf8)), "RawJSON rejects \(text.debugDescription)")
        }
    }

    @Test func invalidUTF8IsRejectedAndEveryUTF8BoundaryAccepted() {
        let oracle = JSONOracle()
        let invalid: [[UInt8]] = [[0x80], [0xBF], [0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80],
                                  [0xED, 0xBF, 0xBF], [0xF0, 0x80, 0x80, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
                                  [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xC3], [0xFE], [0xFF], [0xC3, 0x28], [0xE2, 0x28, 0xA1]]
        let valid: [[UInt8]] = [[0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],
                                [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0x7F]]
        for sequence in invalid {
            let document = [0x22, 0x61] + sequence + [0x62, 0x22]
            #expect(oracle.sqliteAccepts(document), "SQLite does not check encodings: the oracle's UTF-8 rule decides")
            #expect(!oracle.accepts(document) && !Self.rawJSONAccepts(document), "\(sequence)")
            #expect(!Self.rawJSONAccepts(sequence), "outside a string: \(sequence)")
        }
        for sequence in valid {
            let document = [0x22] + sequence + [0x22]
            #expect(oracle.accepts(document) && Self.rawJSONAccepts(document), "\(sequence)")
        }
        // A NUL is never JSON, inside a string or after the value; SQLite alone would read up to it.
        for document: [UInt8] in [[0x31, 0x00], [0x22, 0x00, 0x22], [0x5B, 0x5D, 0x00]] {
            #expect(!oracle.accepts(document) && !Self.rawJSONAccepts(document))
        }
    }

    /// Strings are scanned eight bytes at a time: every byte value at every offset of a long plain run.
    @Test func everyByteValueAtEveryOffsetOfALongStringGetsTheOraclesVerdict() async {
        let findings = await Findings.offThePool { findings in
            let oracle = JSONOracle()
            for offset in 0..<20 {
                for value in UInt8.min...UInt8.max {
                    for tail: [UInt8] in [[], [0xA9], [0x80, 0x80]] {
                        let document = [0x22] + [UInt8](repeating: 0x61, count: offset) + [value] + tail
                            + [UInt8](repeating: 0x62, count: 20) + [0x22]
                        findings.check(oracle.accepts(document) == Self.rawJSONAccepts(document),
                                       "verdicts differ on \(Self.shown(document))")
                    }
                }
            }
        }
        #expect(findings.failures.isEmpty, "\(findings)")
    }

    @Test func seededGeneratedAndMutatedDocumentsGetTheOraclesVerdict() async {
        let findings = await Findings.offThePool { findings in
            let oracle = JSONOracle()
            var generator = JSONDocumentGenerator(seed: 0x5EED_0010)
            var accepted = 0, rejected = 0
            for _ in 0..<6_000 {
                let document = generator.document()
                for candidate in [document] + (0..<8).map({ _ in generator.mutate(document) }) {
                    let expected = oracle.accepts(candidate)
                    let actual = Self.rawJSONAccepts(candidate)
                    if expected { accepted += 1 } else { rejected += 1 }
                    findings.check(actual == expected,
                                   "RawJSON \(actual ? "accepts" : "rejects") what the oracle \(expected ? "accepts" : "rejects"): \(Self.shown(candidate))")
                    // The list reader shares the grammar: as the second element of a page, the candidate is
                    // read back whole exactly when it is JSON (a candidate like `1],"x":[2` frames a page
                    // too, but not as one element).
                    let page = Array(#"{"eventlogs":[0,"#.utf8) + candidate + Array("]}".utf8)
                    let elements = try? RawJSON.elements(ofArrayAt: "eventlogs", in: page)
                    let framed = elements.map { $0.count == 2 && Array($0[1]) == Self.trimmed(candidate) } ?? false
                    findings.check(framed == expected, "as a page element: \(Self.shown(candidate))")
                    // The lenient framer (a page with one invalid element) agrees: the candidate framed as one
                    // element is marked invalid exactly when the oracle rejects it, and JSON is always framed.
                    findings.check(Self.framerAgrees(candidate, page: page, expected: expected),
                                   "framed as a page element: \(Self.shown(candidate))")
                    _ = RawJSON.scalarValues(in: candidate)
                }
            }
            // Both verdicts must be common, or the comparison proves little.
            findings.check(accepted > 10_000 && rejected > 10_000, "accepted \(accepted), rejected \(rejected)")
        }
        #expect(findings.failures.isEmpty, "\(findings)")
    }

    @Test func nestingIsCappedAt512LevelsAnd100000BracketsAreRejectedWithoutACrash() async {
        let findings = await Findings.offThePool { findings in
            let oracle = JSONOracle()
            func nested(_ levels: Int, object: Bool) -> [UInt8] {
                object ? Array((String(repeating: #"{"a":"#, count: levels) + "1" + String(repeating: "}", count: levels)).utf8)
                    : Array((String(repeating: "[", count: levels) + String(repeating: "]", count: levels)).utf8)
            }
            for object in [false, true] {
                let limit = nested(512, object: object), beyond = nested(513, object: object)
                findings.check(oracle.accepts(limit) && Self.rawJSONAccepts(limit), "512 levels, object: \(object)")
                // The documented difference: SQLite reads 513 levels; RawJSON and the oracle's depth rule do not.
                findings.check(oracle.sqliteAccepts(beyond), "SQLite reads 513 levels")
                findings.check(!oracle.accepts(beyond) && !Self.rawJSONAccepts(beyond), "513 levels, object: \(object)")
                let deep = nested(100_000, object: object)
                findings.check(!oracle.sqliteAccepts(deep) && !Self.rawJSONAccepts(deep), "100,000 levels")
                findings.check(!Self.rawJSONAccepts(Array(deep.prefix(deep.count / 2))), "100,000 levels cut")
                _ = RawJSON.scalarValues(in: deep)
                let page = Array(#"{"tasks":["#.utf8) + deep + Array("]}".utf8)
                findings.check((try? RawJSON.elements(ofArrayAt: "tasks", in: page)) == nil, "a page of 100,000 levels")
                // Well framed, so the one element is kept, as invalid (too deep), not the page failed.
                let framed = (try? RawJSON.framedElements(ofArrayAt: "tasks", in: page)) ?? nil
                findings.check(framed?.count == 1 && framed?.first?.invalid?.reason == "nesting too deep",
                               "a page of 100,000 levels framed")
                let cut = Array(#"{"tasks":["#.utf8) + deep.prefix(deep.count - 1) + Array("]}".utf8)
                findings.check(((try? RawJSON.framedElements(ofArrayAt: "tasks", in: cut)) ?? nil) == nil, "brackets that do not pair up")
            }
        }
        #expect(findings.failures.isEmpty, "\(findings)")
    }

    @Test func hugeStringsAreReadWholeOrRejectedWithoutACrash() async {
        let findings = await Findings.offThePool { findings in
            let oracle = JSONOracle()
            var text: [UInt8] = [0x22]
            let unit = Array("plain ascii, é € 😀 \\\" \\\\ \\n \\u00e9 \\ud83d\\ude00 ".utf8)
            while text.count < 16 << 20 { text.append(contentsOf: unit) }
            let whole = text + [0x22]
            findings.check(oracle.accepts(whole) && Self.rawJSONAccepts(whole), "16 MB string")
            findings.check(!oracle.accepts(text) && !Self.rawJSONAccepts(text), "unterminated")
            var broken = whole
            broken[broken.count / 2] = 0xFF
            findings.check(!oracle.accepts(broken) && !Self.rawJSONAccepts(broken), "one invalid byte in 16 MB")
            let object = Array(#"{"id":"big","data":"#.utf8) + whole + [0x7D]
            let values = try? RawJSON.values(forKeys: ["data"], in: object)
            findings.check(values?.first??.count == whole.count, "the 16 MB member read whole")
            findings.check(RawJSON.scalarValues(in: object).count == 2, "scalar values of the 16 MB object")
        }
        #expect(findings.failures.isEmpty, "\(findings)")
    }

    /// `page` is `{"eventlogs":[0,` candidate `]}`: when the candidate is JSON, the framer gives the two
    /// elements, both valid; when it frames the candidate as the second element, that element is valid
    /// exactly when the oracle accepts it.
    static func framerAgrees(_ candidate: [UInt8], page: [UInt8], expected: Bool) -> Bool {
        let framed = (try? RawJSON.framedElements(ofArrayAt: "eventlogs", in: page)) ?? nil
        guard let framed else { return !expected }
        guard framed.count == 2, Array(framed[1].bytes) == trimmed(candidate) else { return !expected }
        return framed[0].invalid == nil && (framed[1].invalid == nil) == expected
    }

    static func trimmed(_ bytes: [UInt8]) -> [UInt8] {
        let space: Set<UInt8> = [0x20, 0x0A, 0x0D, 0x09]
        return Array(bytes.drop(while: space.contains).reversed().drop(while: space.contains).reversed())
    }

    static func shown(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(300), as: UTF8.self).debugDescription
        return "\(text) (\(bytes.count) bytes: \(bytes.prefix(60).map { String($0, radix: 16) }.joined(separator: " ")))"
    }
}

/// What a CPU-heavy check found, gathered on a thread of its own: Swift Testing runs tests on the
/// cooperative pool, which is only as wide as the machine's cores, and seconds of parsing there would
/// starve the in-process simulators of the suites running beside this one. Issues are recorded back on
/// the test's task, where Swift Testing attributes them.
struct Findings: Sendable, CustomStringConvertible {
    private(set) var failures: [String] = []
    private var checks = 0

    mutating func check(_ passed: Bool, _ what: @autoclosure () -> String) {
        checks += 1
        if !passed, failures.count < 10 { failures.append(what()) }
    }

    var description: String { "\(failures.count) failed of \(checks) checks: \(failures.joined(separator: "; "))" }

    static func offThePool(_ body: @escaping @Sendable (inout Findings) -> Void) async -> Findings {
        await withCheckedContinuation { continuation in
            Thread {
                var findings = Findings()
                body(&findings)
                continuation.resume(returning: findings)
            }.start()
        }
    }
}

/// A seeded generator of JSON documents (every shape RFC 8259 allows: all number forms, every escape,
/// multi-byte UTF-8, whitespace everywhere) and of byte-level mutations of them that land near the
/// grammar's edges.
struct JSONDocumentGenerator {
    private var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(state: seed) }

    private mutating func below(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
    private mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    mutating func document() -> [UInt8] { space() + value(depth: 0) + space() }

    private mutating func space() -> [UInt8] {
        below(3) == 0 ? Array(pick([" ", "\n", "\t", "\r\n", "  ", " \t "]).utf8) : []
    }

    private mutating func value(depth: Int) -> [UInt8] {
        switch below(depth >= 5 ? 4 : 7) {
        case 0: return number()
        case 1: return string()
        case 2: return Array(pick(["true", "false", "null"]).utf8)
        case 3: return below(2) == 0 ? number() : string()
        case 4, 5:
            let items = (0..<below(5)).map { _ in space() + value(depth: depth + 1) + space() }
            return [0x5B] + Array(items.joined(separator: [0x2C])) + [0x5D]
        default:
            let members = (0..<below(5)).map { _ in space() + string() + space() + [0x3A] + space() + value(depth: depth + 1) + space() }
            return [0x7B] + Array(members.joined(separator: [0x2C])) + [0x7D]
        }
    }

    private mutating func digits(_ count: Int) -> String { String((0..<count).map { _ in Character(String(below(10))) }) }

    private mutating func number() -> [UInt8] {
        var text = below(3) == 0 ? "-" : ""
        text += below(3) == 0 ? "0" : String(1 + below(9)) + digits(below(6))
        if below(2) == 0 { text += "." + digits(1 + below(4)) }
        if below(3) == 0 { text += pick(["e", "E"]) + pick(["", "+", "-"]) + digits(1 + below(3)) }
        return Array(text.utf8)
    }

    private mutating func string() -> [UInt8] {
        var out: [UInt8] = [0x22]
        for _ in 0..<below(8) {
            out += Array(pick(["a", "Z", " ", "id", "/", "'", "\u{7F}", "é", "€", "😀", "\u{FFFF}", "\u{10FFFF}", "\u{E000}",
                               "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0000", "\\u00e9", "\\uD83D\\uDE00",
                               "\\ud800", "\\uDFFF", "\\uffff"]).utf8)
        }
        return out + [0x22]
    }

    /// One to three edits: a byte replaced by, or a token inserted from, the grammar's edge cases; a byte
    /// or a run deleted; the document cut short; a run duplicated.
    mutating func mutate(_ document: [UInt8]) -> [UInt8] {
        let bytes: [UInt8] = [0x00, 0x09, 0x0A, 0x0C, 0x1F, 0x20, 0x22, 0x27, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F, 0x30, 0x31, 0x39, 0x3A,
                              0x45, 0x5B, 0x5C, 0x5D, 0x65, 0x66, 0x6E, 0x74, 0x75, 0x7B, 0x7D, 0x7F, 0x80, 0xBF, 0xC0, 0xC2,
                              0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
        let tokens = ["-0", "-01", "1.", ".5", "0.e1", "1.0e+", "e+", "E-", "01", "\\u12", "\\uD800", "tru", "nul", ",", "]]",
                      "{}", "[]", ":", "\"", "\\", "\u{FEFF}", "1e999"]
        var out = document
        for _ in 0..<(1 + below(3)) {
            let at = below(out.count + 1)
            switch below(6) {
            case 0 where at < out.count: out[at] = pick(bytes)
            case 1: out.insert(contentsOf: Array(pick(tokens).utf8), at: at)
            case 2 where at < out.count: out.remove(at: at)
            case 3 where at < out.count: out.removeSubrange(at..<min(out.count, at + 1 + below(4)))
            case 4: out = Array(out.prefix(at))
            default:
                let end = min(out.count, at + 1 + below(6))
                out.insert(contentsOf: out[at..<end], at: at)
            }
        }
        return out
    }
}
