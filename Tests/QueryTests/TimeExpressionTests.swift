import Foundation
import Testing
@testable import Query

private let utc = TimeZone(identifier: "UTC")!
private let berlin = TimeZone(identifier: "Europe/Berlin")!
private let newYork = TimeZone(identifier: "America/New_York")!
private let santiago = TimeZone(identifier: "America/Santiago")!
/// 2026-11-20T12:00:00Z, the "now" of relative times.
private let now: Int64 = 1_795_176_000

// Expected instants were computed with Python's datetime/zoneinfo, an independent implementation.
@Suite struct TimeExpressionTests {
    @Test(arguments: [
        ("2026-11-20", 1_795_132_800),
        ("2026-11-20T11:37:29Z", 1_795_174_649),
        ("2026-11-20T11:37:29z", 1_795_174_649),
        ("2026-11-20T11:37:29.000Z", 1_795_174_649),   // as the Cloudron API writes it
        ("2026-11-20T11:37:29.999Z", 1_795_174_649),   // fractions cut, never rounded up
        ("2026-11-20T11:37:29+01:00", 1_795_171_049),
        ("2026-11-20T11:37:29+0100", 1_795_171_049),
        ("2026-11-20T11:37:29+01", 1_795_171_049),
        ("2026-11-20T10:37:29-01:00", 1_795_174_649 - 7200 + 3600 + 3600),
        ("2026-11-20 11:37", 1_795_174_620),
        ("2026-11-20T11:37", 1_795_174_620),
        ("  2026-11-20T11:37:29Z  ", 1_795_174_649),
        ("2024-02-29", 1_709_164_800),
        ("30s", 1_795_176_000 - 30),
        ("30m", 1_795_176_000 - 1800),
        ("24h", 1_795_176_000 - 86_400),
        ("7d", 1_795_176_000 - 604_800),
        ("2w", 1_795_176_000 - 1_209_600),
        ("0d", 1_795_176_000),
    ] as [(String, Int64)])
    func acceptedFormsInUTC(text: String, expected: Int64) throws {
        #expect(try TimeExpression.parse(text, now: now, zone: utc) == expected)
    }

    @Test func dateMeansStartOfDayInTheZone() throws {
        #expect(try TimeExpression.parse("2026-11-20", now: now, zone: berlin) == 1_795_129_200)
        #expect(try TimeExpression.parse("2026-07-01", now: now, zone: berlin) == 1_782_856_800)   // CEST
        // DST ends in New York at 02:00 on 2026-11-01 and starts at 02:00 on 2026-03-08: midnight is EDT/EST.
        #expect(try TimeExpression.parse("2026-11-01", now: now, zone: newYork) == 1_793_505_600)
        #expect(try TimeExpression.parse("2026-03-08", now: now, zone: newYork) == 1_772_946_000)
        // Chile springs forward at midnight: 2026-09-06 starts at 01:00 local (-03:00).
        #expect(try TimeExpression.parse("2026-09-06", now: now, zone: santiago) == 1_788_667_200)
    }

    @Test func explicitOffsetIgnoresTheZone() throws {
        #expect(try TimeExpression.parse("2026-11-20T11:37:29Z", now: now, zone: berlin) == 1_795_174_649)
        #expect(try TimeExpression.parse("2026-11-20T11:37:29+01:00", now: now, zone: newYork) == 1_795_171_049)
    }

    @Test func ambiguousLocalTimeMeansTheFirstOccurrence() throws {
        // 02:30 happens twice in Berlin on 2026-10-25 (CEST, then CET): the earlier instant is taken.
        #expect(try TimeExpression.parse("2026-10-25T02:30", now: now, zone: berlin) == 1_792_888_200)
        #expect(try TimeExpression.parse("2026-10-25 03:30", now: now, zone: berlin) == 1_792_891_800 + 3600)
    }

    @Test func skippedLocalTimeMovesForwardByTheGap() throws {
        // 02:30 does not exist in Berlin on 2026-03-29; it is read as 03:30 CEST.
        #expect(try TimeExpression.parse("2026-03-29T02:30", now: now, zone: berlin) == 1_774_747_800)
        #expect(try TimeExpression.parse("2026-03-29T03:30", now: now, zone: berlin) == 1_774_747_800)
    }

    @Test(arguments: [
        "", "   ", "yesterday", "now", "7", "7y", "7M", "-7d", "+7d", "7 d", "d", "1234567890d",
        "2026-13-45", "2026-13-01", "2026-00-10", "2026-02-29", "2026-04-31", "0000-01-01",
        "2026-11-20T24:00", "2026-11-20T11:60", "2026-11-20T11:37:60", "2026-11-20T1:37",
        "2026-11-20X11:37", "2026-11-20T11:37:29+25:00", "2026-11-20T11:37:29+01:61", "2026-11-20T11:37:29 UTC",
        "2026-11-20T11:37:29.", "2026-1-2", "26-11-20", "２０２６-11-20", "2026/11/20", "2026-11-20T",
        "2026-11-20T11:37:29+01:00:00", "2026-11-20\n", "1795174649",
    ])
    func rejectedFormsThrowOneLineNamingTheAcceptedForms(text: String) {
        do {
            let value = try TimeExpression.parse(text, now: now, zone: utc)
            Issue.record("\(String(reflecting: text)) parsed as \(value)")
        } catch let error as QueryInputError {
            #expect(!error.message.contains("\n"))
            #expect(error.message.hasPrefix("invalid time"))
            #expect(error.message.contains("2026-11-20T11:37:29+01:00"))
            #expect(error.message.contains("7d"))
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test func impossibleDateSaysWhy() throws {
        #expect(throws: QueryInputError.self) { try TimeExpression.parse("2026-13-45", now: now, zone: utc) }
        for (text, why) in [("2026-02-30", "day 30 does not exist in 2026-02"), ("2026-02-29", "day 29 does not exist in 2026-02"),
                            ("2026-04-31T10:00", "day 31 does not exist in 2026-04")] {
            let error = try #require(throws: QueryInputError.self, "\(text) parsed") {
                try TimeExpression.parse(text, now: now, zone: utc)
            }
            #expect(error.message.contains(why), "\(text): \(error.message)")
        }
        // A leap year has the day: the refusal above is about the calendar, not the day number.
        #expect(throws: Never.self) { try TimeExpression.parse("2028-02-29", now: now, zone: utc) }
    }

    @Test func hostileTextInTheMessageIsEscapedAndCapped() throws {
        let error = try #require(throws: QueryInputError.self) {
            try TimeExpression.parse("\u{1B}[31m" + String(repeating: "x", count: 500), now: now, zone: utc)
        }
        #expect(!error.message.unicodeScalars.contains { $0.value < 0x20 })
        #expect(error.message.count < 400)
    }

    @Test func durations() throws {
        #expect(try TimeExpression.parseDuration("5m") == 300)
        #expect(try TimeExpression.parseDuration("90s") == 90)
        #expect(try TimeExpression.parseDuration("1w") == 604_800)
        for bad in ["0m", "", "5", "-5m", "5 minutes"] {
            #expect(throws: QueryInputError.self) { try TimeExpression.parseDuration(bad) }
        }
    }
}

@Suite struct TimeZoneOptionTests {
    @Test func knownZones() throws {
        #expect(try TimeZoneOption.parse("UTC").secondsFromGMT() == 0)
        #expect(try TimeZoneOption.parse("utc").secondsFromGMT() == 0)
        #expect(try TimeZoneOption.parse("Europe/Berlin").identifier == "Europe/Berlin")
        #expect(try TimeZoneOption.parse("Asia/Kathmandu").secondsFromGMT(for: Date(timeIntervalSince1970: 1_795_176_000))
                == 5 * 3600 + 45 * 60)
    }

    @Test(arguments: ["Mars/Olympus", "", "Europe/", "../../etc/passwd", "Berlin"])
    func unknownZonesAreRejectedInOneLine(name: String) {
        do {
            let zone = try TimeZoneOption.parse(name)
            Issue.record("\(name) accepted as \(zone.identifier)")
        } catch let error as QueryInputError {
            #expect(error.message.hasPrefix("unknown time zone"))
            #expect(error.message.contains("Europe/Berlin"))
            #expect(!error.message.contains("\n"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
