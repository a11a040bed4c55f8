import Client
import Foundation

/// The one parser for every time a user types (`--since`, `--until`, `--around … --window`).
///
/// Accepted forms:
/// - a date, `2026-11-20`: the start of that day in the given zone (the first instant of the day, even in
///   zones whose DST change skips midnight);
/// - a date-time, `2026-11-20T11:37`, `2026-11-20 11:37:29`, `2026-11-20T11:37:29.000Z` (as the Cloudron API
///   writes it; fractions are cut to whole seconds, the archive's resolution), with `Z` or an offset
///   (`+01:00`, `+0100`, `+01`) — without one the time is read in the given zone;
/// - an age, `30s`, `30m`, `24h`, `7d`, `2w`: that long before `now`.
///
/// A local time that a DST change skips (02:30 on a spring-forward night) is moved forward by the gap, the way
/// clocks do (02:30 → 03:30); a local time that happens twice (fall-back night) means the first of the two, so
/// that `--since` never drops the earlier hour.
public enum TimeExpression {
    /// The accepted forms, for error messages and help texts.
    public static let acceptedForms =
        "a date (2026-11-20), a date-time (2026-11-20T11:37, 2026-11-20 11:37:29, 2026-11-20T11:37:29Z, "
        + "2026-11-20T11:37:29+01:00) or an age (30m, 24h, 7d, 2w)"

    /// Epoch seconds of `text`; `now` (epoch seconds) anchors ages; `zone` interprets dates and local times.
    /// - Throws: `QueryInputError`, one line naming the accepted forms.
    public static func parse(_ text: String, now: Int64, zone: TimeZone) throws -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let bytes = Array(trimmed.utf8)
        do {
            if let age = try parseAge(bytes) {
                let (result, overflow) = now.subtractingReportingOverflow(age)
                if overflow { throw Reason("too far in the past") }
                return result
            }
            return try parseDateTime(bytes, zone: zone)
        } catch let reason as Reason {
            throw QueryInputError("invalid time \(quoted(text)): \(reason.text); use \(acceptedForms)")
        }
    }

    /// Parses a duration such as `5m` (for `--window`): seconds, always positive.
    public static func parseDuration(_ text: String) throws -> Int64 {
        let bytes = Array(text.trimmingCharacters(in: .whitespaces).utf8)
        do {
            if let seconds = try parseAge(bytes), seconds > 0 { return seconds }
        } catch {}
        throw QueryInputError("invalid duration \(quoted(text)): use a positive number with a unit s, m, h, d or w "
                              + "(90s, 5m, 2h, 1d, 1w)")
    }

    // MARK: - Ages

    private static func parseAge(_ bytes: [UInt8]) throws -> Int64? {
        guard bytes.count >= 2, let unit = bytes.last else { return nil }
        let multiplier: Int64
        switch unit {
        case UInt8(ascii: "s"): multiplier = 1
        case UInt8(ascii: "m"): multiplier = 60
        case UInt8(ascii: "h"): multiplier = 3600
        case UInt8(ascii: "d"): multiplier = 86_400
        case UInt8(ascii: "w"): multiplier = 604_800
        default: return nil
        }
        let digits = bytes.dropLast()
        guard digits.allSatisfy(isDigit) else { return nil }
        guard digits.count <= 9 else { throw Reason("age too large") }
        return number(digits) * multiplier
    }

    // MARK: - Dates and date-times

    private static func parseDateTime(_ b: [UInt8], zone: TimeZone) throws -> Int64 {
        guard b.count >= 10, isDigits(b, 0..<4), b[4] == UInt8(ascii: "-"), isDigits(b, 5..<7),
              b[7] == UInt8(ascii: "-"), isDigits(b, 8..<10)
        else { throw Reason(b.isEmpty ? "empty" : "not a recognised time") }
        let year = number(b[0..<4]), month = number(b[5..<7]), day = number(b[8..<10])
        guard year >= 1 else { throw Reason("year 0000 does not exist") }
        guard (1...12).contains(month) else { throw Reason("month \(month) does not exist") }
        guard day >= 1, day <= CivilTime.daysInMonth(year: year, month: month) else {
            throw Reason("day \(day) does not exist in \(String(decoding: b[0..<7], as: UTF8.self))")
        }
        let dayStart = CivilTime.days(year: year, month: month, day: day) * 86_400
        if b.count == 10 {
            return ZoneOffsets(zone).instant(ofLocal: dayStart)
        }

        var i = 10
        guard b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") || b[i] == UInt8(ascii: " ") else {
            throw Reason("expected T or a space after the date")
        }
        i += 1
        guard i + 5 <= b.count, isDigits(b, i..<i + 2), b[i + 2] == UInt8(ascii: ":"), isDigits(b, i + 3..<i + 5)
        else { throw Reason("expected a time HH:MM after the date") }
        let hour = number(b[i..<i + 2]), minute = number(b[i + 3..<i + 5])
        i += 5
        var second: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ":") {
            guard i + 3 <= b.count, isDigits(b, i + 1..<i + 3) else { throw Reason("expected seconds as SS") }
            second = number(b[i + 1..<i + 3])
            i += 3
            if i < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",") {
                let fractionStart = i + 1
                i = fractionStart
                while i < b.count, isDigit(b[i]) { i += 1 }
                guard i > fractionStart else { throw Reason("expected digits after the decimal point") }
            }
        }
        guard hour <= 23 else { throw Reason("hour \(hour) does not exist") }
        guard minute <= 59 else { throw Reason("minute \(minute) does not exist") }
        guard second <= 59 else { throw Reason("second \(second) does not exist") }
        let local = dayStart + hour * 3600 + minute * 60 + second

        if i == b.count {
            return ZoneOffsets(zone).instant(ofLocal: local)
        }
        let offset = try parseOffset(b[i...])
        return local - offset
    }

    /// `Z`, `+HH:MM`, `+HHMM` or `+HH` (also with `-`); returns seconds east of UTC.
    private static func parseOffset(_ s: ArraySlice<UInt8>) throws -> Int64 {
        let b = Array(s)
        if b == [UInt8(ascii: "Z")] || b == [UInt8(ascii: "z")] { return 0 }
        guard let sign = b.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else {
            throw Reason("unexpected text after the time (expected Z or an offset such as +01:00)")
        }
        let rest = Array(b.dropFirst())
        let hours: Int64, minutes: Int64
        if rest.count == 2, isDigits(rest, 0..<2) {
            hours = number(rest[0..<2]); minutes = 0
        } else if rest.count == 4, isDigits(rest, 0..<4) {
            hours = number(rest[0..<2]); minutes = number(rest[2..<4])
        } else if rest.count == 5, isDigits(rest, 0..<2), rest[2] == UInt8(ascii: ":"), isDigits(rest, 3..<5) {
            hours = number(rest[0..<2]); minutes = number(rest[3..<5])
        } else {
            throw Reason("malformed offset (expected Z or an offset such as +01:00)")
        }
        guard hours <= 18, minutes <= 59 else { throw Reason("offset out of range") }
        let magnitude = hours * 3600 + minutes * 60
        return sign == UInt8(ascii: "-") ? -magnitude : magnitude
    }

    // MARK: - Small helpers

    private struct Reason: Error {
        let text: String
        init(_ text: String) { self.text = text }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func isDigits(_ b: [UInt8], _ range: Range<Int>) -> Bool {
        range.upperBound <= b.count && b[range].allSatisfy(isDigit)
    }

    private static func number<C: Collection<UInt8>>(_ digits: C) -> Int64 {
        digits.reduce(0) { $0 * 10 + Int64($1 - 0x30) }
    }

    /// The user's text quoted with control characters escaped and length capped, safe to print in one line.
    public static func quoted(_ text: String) -> String {
        let capped = text.count > 64 ? String(text.prefix(64)) + "…" : text
        return String(reflecting: capped)
    }
}

/// Offsets of one time zone, for turning local wall-clock times into instants.
struct ZoneOffsets {
    let zone: TimeZone

    init(_ zone: TimeZone) { self.zone = zone }

    /// Seconds east of UTC at an instant.
    func offset(at epoch: Int64) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(epoch))))
    }

    /// The instant at which wall clocks in the zone show `local` (local seconds counted like epoch seconds).
    ///
    /// Candidate offsets are the ones in force two days either side (a single transition lies between
    /// them; zones never change twice within four days) and the one at the naive guess. A candidate is
    /// right if the zone really uses that offset at the resulting instant; of two right ones (fall-back
    /// night) the earlier instant wins. None is right in a spring-forward gap: then the offset from
    /// before the gap applies, which moves the time forward by the gap's length.
    func instant(ofLocal local: Int64) -> Int64 {
        let before = offset(at: local - 2 * 86_400)
        let after = offset(at: local + 2 * 86_400)
        let guess = offset(at: local - before)
        var best: Int64?
        for candidate in [before, after, guess] {
            let instant = local - candidate
            if offset(at: instant) == candidate, best.map({ instant < $0 }) ?? true {
                best = instant
            }
        }
        return best ?? local - before
    }
}

/// The `--tz ZONE` option: one parser for every command.
public enum TimeZoneOption {
    /// A tz database name (`Europe/Berlin`, `America/New_York`) or `UTC`.
    /// - Throws: `QueryInputError` for unknown zones, in one line.
    public static func parse(_ text: String) throws -> TimeZone {
        let name = text.trimmingCharacters(in: .whitespaces)
        if name.uppercased() == "UTC" || name.uppercased() == "Z" {
            if let utc = TimeZone(identifier: "UTC") { return utc }
        }
        if !name.isEmpty, let zone = TimeZone(identifier: name) { return zone }
        throw QueryInputError("unknown time zone \(TimeExpression.quoted(text)): use UTC or a tz database name "
                              + "such as Europe/Berlin or America/New_York")
    }
}
