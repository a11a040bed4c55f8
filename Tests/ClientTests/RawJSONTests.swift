import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
@testable import Client

@Suite struct RawJSONTests {
    @Test func splitsElementsThroughStringsEscapesAndNesting() throws {
        let elements = [
            #"{"id":"a","data":{"s":"brace } bracket ] quote \" comma , backslash \\"}}"#,
            #"{"id":2,"n":[1,[2,{"x":[]}],-3.5e+2],"t":true,"f":false,"z":null}"#,
            #"{"id":"c","u":"\u00e9\ud83d\ude00","k\"ey":"v"}"#,
        ]
        let body = Array(("{\"other\":[{\"id\":\"x\"}],\n \"eventlogs\" : [ " + elements.joined(separator: " ,\n") + " ] }").utf8)
        let slices = try RawJSON.elements(ofArrayAt: "eventlogs", in: body)
        #expect(slices.map { String(decoding: $0, as: UTF8.self) } == elements)
        #expect(try RawJSON.elements(ofArrayAt: "other", in: body).count == 1)
        #expect(try RawJSON.elements(ofArrayAt: "eventlogs", in: Array(#"{"eventlogs":[]}"#.utf8)).isEmpty)
    }

    @Test(arguments: [
        #"{"eventlogs":[{"id":"a"},{"id":"b""#,       // cut inside an element
        #"{"eventlogs":[{"id":"a"}"#,                  // cut after an element
        #"{"eventlogs":[{"id":"a","n":12"#,            // cut inside a number
        #"{"eventlogs":[{"id":"a\"}]}"#,               // unterminated string
        #"{"eventlogs":[{"id":"a"}]} trailing"#,       // garbage after the body
        #"{"eventlogs":[{"id":"a",}]}"#,               // trailing comma
        #"{"eventlogs":[{"id":"a" "b":1}]}"#,          // missing comma
        #"{"eventlogs":[{"id":"a","t":tru}]}"#,        // bad literal
        "{\"eventlogs\":[{\"id\":\"a\nb\"}]}",         // raw newline inside a string
        #"<html><body>502 Bad Gateway</body></html>"#,
        "",
    ])
    func rejectsMalformedOrTruncatedBodies(_ text: String) {
        #expect(throws: RawJSONError.self) { try RawJSON.elements(ofArrayAt: "eventlogs", in: Array(text.utf8)) }
    }

    @Test func missingArrayKeyThrows() {
        #expect(throws: RawJSONError.self) { try RawJSON.elements(ofArrayAt: "eventlogs", in: Array(#"{"tasks":[]}"#.utf8)) }
    }

    @Test func scalarValuesAreUnescapedLeavesWithoutKeysOrNulls() {
        let object = Array(#"{"id":"e1","user":{"name":"Ren\u00e9e \"R\" \ud83d\ude00","tags":["a,b","=1+1"],"admin":true,"n":-1.5e3,"gone":null,"nl":"x\ny"}}"#.utf8)
        let values = RawJSON.scalarValues(in: object[...])
        #expect(values == ["e1", "Renée \"R\" 😀", "a,b", "=1+1", "true", "-1.5e3", "x\ny"])
        #expect(!values.contains("user") && !values.contains("id"))
    }

    @Test func creationTimeMatchesTimegm() throws {
        var generator = SplitMix64(state: 2026)
        for _ in 0..<2000 {
            var parts = tm()
            parts.tm_year = Int32.random(in: 70...140, using: &generator)
            parts.tm_mon = Int32.random(in: 0...11, using: &generator)
            parts.tm_mday = Int32.random(in: 1...28, using: &generator)
            parts.tm_hour = Int32.random(in: 0...23, using: &generator)
            parts.tm_min = Int32.random(in: 0...59, using: &generator)
            parts.tm_sec = Int32.random(in: 0...59, using: &generator)
            let expected = Int64(timegm(&parts))
            func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
            let text = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
            #expect(CreationTime.epochSeconds(text + ".000Z") == expected, "\(text)")
            #expect(CreationTime.epochSeconds(text + "Z") == expected, "\(text)")
        }
        #expect(CreationTime.epochSeconds("2026-11-20T11:37:29.000Z") == 1_795_174_649)
        #expect(CreationTime.epochSeconds("2026-11-20T12:37:29+01:00") == 1_795_174_649)
        for bad in ["", "2026-11-20", "2026-13-20T11:37:29Z", "2026-11-20T11:37:29.Z", "2026-11-20T11:37:29.000Zjunk", "yesterday"] {
            #expect(CreationTime.epochSeconds(bad) == nil, "\(bad)")
        }
    }
}
