import Client
import Foundation

/// Formats epoch seconds as ISO-8601 for display and export.
///
/// Without a zone: UTC with `Z` (`2026-11-20T11:37:29Z`), the form the Cloudron API uses minus its always-zero
/// milliseconds. With `--tz`: wall-clock time in that zone with its offset at that instant
/// (`2026-11-20T12:37:29+01:00`), so every printed time stays an unambiguous instant across DST changes.
///
/// Hand-written and cached because an export formats one time per row: the zone's offset is looked up
/// once per stretch between two transitions, not once per row.
public struct TimestampFormatter {
    /// nil means UTC written with `Z`.
    public let zone: TimeZone?
    private var cache: OffsetStretch?

    /// An instant range over which the zone's offset is constant.
    private struct OffsetStretch {
        var from: Int64
        var until: Int64   // exclusive
        var offset: Int64
    }

    /// - Parameter zone: the `--tz` zone, or nil for UTC with `Z`.
    public init(zone: TimeZone? = nil) {
        // UTC itself keeps the `Z` form, also when asked for by name (`--tz UTC`).
        if let zone, zone.identifier == "UTC" || zone.identifier == "GMT" {
            self.zone = nil
        } else {
            self.zone = zone
        }
    }

    /// The formatted time.
    public mutating func string(from epoch: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(25)
        append(epoch, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the formatted time's UTF-8 bytes.
    public mutating func append(_ epoch: Int64, to out: inout [UInt8]) {
        guard let zone else {
            appendWallClock(epoch, to: &out)
            out.append(UInt8(ascii: "Z"))
            return
        }
        let offset = offset(at: epoch, in: zone)
        appendWallClock(epoch + offset, to: &out)
        appendOffset(offset, to: &out)
    }

    private mutating func offset(at epoch: Int64, in zone: TimeZone) -> Int64 {
        if let stretch = cache, stretch.from <= epoch, epoch < stretch.until {
            return stretch.offset
        }
        let offsets = ZoneOffsets(zone)
        let offset = offsets.offset(at: epoch)
        let date = Date(timeIntervalSince1970: Double(epoch))
        let next = zone.nextDaylightSavingTimeTransition(after: date).map { Int64($0.timeIntervalSince1970.rounded(.up)) }
            ?? Int64.max
        // Extend backwards when there is no transition in the week before, so that newest-first output
        // (descending times) hits the cache too.
        let weekBefore = epoch - 7 * 86_400
        let nextAfterWeekBefore = zone.nextDaylightSavingTimeTransition(
            after: Date(timeIntervalSince1970: Double(weekBefore)))
            .map { Int64($0.timeIntervalSince1970.rounded(.up)) } ?? Int64.max
        let from = nextAfterWeekBefore > epoch ? weekBefore + 1 : epoch
        cache = OffsetStretch(from: from, until: max(next, epoch + 1), offset: offset)
        return offset
    }

    /// `YYYY-MM-DDTHH:MM:SS` of local seconds.
    private func appendWallClock(_ local: Int64, to out: inout [UInt8]) {
        let days = CivilTime.floorDiv(local, 86_400)
        let secondOfDay = local - days * 86_400
        let (year, month, day) = CivilTime.date(days: days)
        if year < 0 || year > 9999 {
            out.append(contentsOf: Array(String(year).utf8))
        } else {
            appendDigits(year, count: 4, to: &out)
        }
        out.append(UInt8(ascii: "-"))
        appendDigits(month, count: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(day, count: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, count: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, count: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, count: 2, to: &out)
    }

    /// `+HH:MM`, or `+HH:MM:SS` for the odd historical offsets that have seconds.
    private func appendOffset(_ offset: Int64, to out: inout [UInt8]) {
        out.append(offset < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        let magnitude = abs(offset)
        appendDigits(magnitude / 3600, count: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(magnitude / 60 % 60, count: 2, to: &out)
        if magnitude % 60 != 0 {
            out.append(UInt8(ascii: ":"))
            appendDigits(magnitude % 60, count: 2, to: &out)
        }
    }

    private func appendDigits(_ value: Int64, count: Int, to out: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}
