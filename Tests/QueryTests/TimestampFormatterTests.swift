import Foundation
import Testing
import TestSupport
@testable import Query

@Suite struct TimestampFormatterTests {
    @Test func utcWithZ() {
        var formatter = TimestampFormatter()
        #expect(formatter.string(from: 1_795_174_649) == "2026-11-20T11:37:29Z")
        #expect(formatter.string(from: 0) == "1970-01-01T00:00:00Z")
        #expect(formatter.string(from: -1) == "1969-12-31T23:59:59Z")
        #expect(formatter.string(from: 951_782_400) == "2000-02-29T00:00:00Z")
        #expect(formatter.string(from: 253_402_300_799) == "9999-12-31T23:59:59Z")
    }

    @Test func namedUTCKeepsZ() throws {
        var formatter = TimestampFormatter(zone: try TimeZoneOption.parse("UTC"))
        #expect(formatter.string(from: 1_795_174_649) == "2026-11-20T11:37:29Z")
    }

    @Test func zoneWithOffset() throws {
        var berlin = TimestampFormatter(zone: try TimeZoneOption.parse("Europe/Berlin"))
        #expect(berlin.string(from: 1_795_174_649) == "2026-11-20T12:37:29+01:00")
        #expect(berlin.string(from: 1_782_856_800) == "2026-07-01T00:00:00+02:00")
        var kathmandu = TimestampFormatter(zone: try TimeZoneOption.parse("Asia/Kathmandu"))
        #expect(kathmandu.string(from: 1_795_174_649) == "2026-11-20T17:22:29+05:45")
        var stJohns = TimestampFormatter(zone: try TimeZoneOption.parse("America/St_Johns"))
        #expect(stJohns.string(from: 1_795_174_649) == "2026-11-20T08:07:29-03:30")
    }

    /// Every 47 minutes through 2026 (both DST changes), in ascending, descending and shuffled order, in
    /// zones with DST, half-hour DST (Lord Howe), midnight DST (Santiago), southern DST (Sydney) and odd
    /// offsets, compared with Python's zoneinfo (its own tz data and code) instant by instant.
    @Test func agreesWithPythonZoneinfoAcrossDST() throws {
        let zones = ["Europe/Berlin", "America/New_York", "America/Santiago", "Australia/Lord_Howe",
                     "Australia/Sydney", "Asia/Kathmandu", "America/St_Johns", "Europe/London"]
        let start: Int64 = 1_767_225_600   // 2026-01-01T00:00:00Z
        var instants = Array(stride(from: start, to: start + 365 * 86_400, by: 2820))
        instants += [start - 1, 0, 1_774_745_999, 1_774_746_000, 1_792_889_999, 1_792_890_000]
        let script = """
        import sys, datetime, zoneinfo
        instants = [int(line) for line in open(sys.argv[1])]
        for name in sys.argv[2:]:
            zone = zoneinfo.ZoneInfo(name)
            for t in instants:
                print(datetime.datetime.fromtimestamp(t, zone).isoformat())
        """
        let directory = try TemporaryDirectory()
        let inputPath = directory.file("instants.txt")
        try instants.map(String.init).joined(separator: "\n").write(toFile: inputPath, atomically: false, encoding: .utf8)
        let lines = try runPython(script, [inputPath] + zones).split(separator: "\n").map(String.init)
        try #require(lines.count == instants.count * zones.count)
        var generator = SplitMix64(state: 42)
        for (zoneIndex, name) in zones.enumerated() {
            let expected = lines[(zoneIndex * instants.count)..<((zoneIndex + 1) * instants.count)].map { $0 }
            let zone = try TimeZoneOption.parse(name)
            let orders: [[Int]] = [Array(instants.indices), instants.indices.reversed(),
                                   Array(instants.indices.shuffled(using: &generator).prefix(500))]
            for order in orders {
                var formatter = TimestampFormatter(zone: zone)
                var mismatches = 0
                for index in order where formatter.string(from: instants[index]) != expected[index] {
                    mismatches += 1
                    if mismatches <= 3 {
                        Issue.record("\(name) \(instants[index]): \(formatter.string(from: instants[index])) != \(expected[index])")
                    }
                }
                #expect(mismatches == 0, "\(name)")
            }
        }
    }

    /// Parsing what the formatter prints gives the instant back, in any zone.
    @Test func formattedTimesParseBack() throws {
        for name in ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"] {
            let zone = try TimeZoneOption.parse(name)
            var formatter = TimestampFormatter(zone: zone)
            for instant in stride(from: Int64(1_774_700_000), to: 1_774_800_000, by: 937) {
                let text = formatter.string(from: instant)
                #expect(try TimeExpression.parse(text, now: 0, zone: zone) == instant, "\(text)")
            }
        }
    }
}
