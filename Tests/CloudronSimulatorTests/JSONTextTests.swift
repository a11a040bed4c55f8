import Foundation
import Testing
@testable import CloudronSimulator

@Suite struct JSONTextTests {
    @Test(arguments: ["plain", "quote \" and \\ backslash", "line\nbreak\r\ttab", "\u{01}\u{1f}control", "=SUM(A1)",
                      "Zoë 李雷 🚀 👩‍💻", "", "a,b;c"])
    func stringsSurviveAStandardJSONParser(_ text: String) throws {
        var json = JSONText()
        json.raw("["); json.string(text); json.raw("]")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.bytes)) as? [String])
        #expect(parsed == [text])
        // Node's JSON.stringify keeps non-ASCII as raw UTF-8.
        if text.contains("🚀") { #expect(json.bytes.contains(0xF0), "emoji stay raw UTF-8, not \\u escapes") }
    }

    @Test func isoTimesMatchFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        for seconds: Int64 in [0, 951_782_400, 1_709_164_799, 1_798_761_599, 1_798_761_600, 4_102_444_800, 1_795_000_000 + 86_399] {
            #expect(CloudronTime.iso(seconds) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
        }
        #expect(CloudronTime.iso(1_795_000_000, millis: 7).hasSuffix(".007Z"))
    }
}
