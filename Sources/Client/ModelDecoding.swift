
// Reads the indexed fields of one object's bytes, leniently, as real servers of several versions send them:
// ids as strings or numbers, `error` as an object, a string or null, 2019's `errorMessage`, `ts` as a
// string or a number. Everything else stays in `raw`, untouched.

/// Why one object could not be read; becomes `ClientError.malformedResponse`.
struct ObjectShapeError: Error {
    var reason: String
    /// A body that does not parse may parse on the next try (a proxy hiccup); a wrong shape will not.
    var transient = false
    var html = false
}

/// A JSON value of one top-level member, as the few shapes the indexed fields can take.
enum LooseValue {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case object(Range<Int>)
    case array

    var text: String? {
        switch self {
        case .string(let s), .number(let s): return s
        default: return nil
        }
    }

    var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// Integer from a number (fractions truncated) or a numeric string.
    var int: Int? {
        guard let text else { return nil }
        if let i = Int(text) { return i }
        if let d = Double(text), d.isFinite, abs(d) < 9e18 { return Int(d) }
        return nil
    }
}

extension JSONScanner {
    func looseValue(_ range: Range<Int>) -> LooseValue {
        guard let first = range.first.map({ bytes[$0] }) else { return .null }
        switch first {
        case 0x22: return .string(unescapedString((range.lowerBound + 1)..<(range.upperBound - 1)))
        case 0x74: return .bool(true)
        case 0x66: return .bool(false)
        case 0x6E: return .null
        case 0x7B: return .object(range)
        case 0x5B: return .array
        default: return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
        }
    }

    /// The `message` of an error object (at `range` of validated bytes), or nil.
    func errorObjectMessage(_ range: Range<Int>) -> String? {
        var scanner = JSONScanner(bytes)
        scanner.index = range.lowerBound
        var message: String?
        try? scanner.forEachMember(validated: true) { key, escaped, value in
            if keyEquals(key, escaped: escaped, "message") { message = looseValue(value).text }
        }
        return message
    }

    /// Reads the members of the object at `index` whose keys are in `keys`; other members are skipped.
    /// The object must already be validated (every caller validated the whole body first), so values
    /// are skipped with the fast, non-validating `skipValidated`: a second validating pass over every
    /// embedded manifest would double the decode cost.
    mutating func members(_ keys: [StaticString]) throws -> [LooseValue?] {
        var values = [LooseValue?](repeating: nil, count: keys.count)
        let reader = self
        try forEachMember(validated: true) { key, escaped, value in
            for (slot, wanted) in keys.enumerated()
            where values[slot] == nil && reader.keyEquals(key, escaped: escaped, wanted) {
                values[slot] = reader.looseValue(value)
                break
            }
        }
        return values
    }
}

enum ModelDecoding {
    /// Reads `keys` of the object `raw` and builds a model from their values; `build` also gets the
    /// scanner, to read inside a member (a task's `error` object).
    static func withMembers<T>(_ raw: ArraySlice<UInt8>, _ keys: [StaticString],
                               _ build: (JSONScanner, [LooseValue?]) throws -> T) throws -> T {
        try raw.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            let values: [LooseValue?]
            do {
                values = try scanner.members(keys)
            } catch let error as RawJSONError {
                throw ObjectShapeError(reason: error.description, transient: true)
            }
            return try build(scanner, values)
        }
    }

    static func id(_ value: LooseValue?, _ kind: String) throws -> String {
        guard let id = value?.text, !id.isEmpty else { throw ObjectShapeError(reason: "\(kind) without id") }
        return id
    }

    /// The `id` of an object that could not be decoded, when it has a usable one.
    static func usableID(of raw: ArraySlice<UInt8>) -> String? {
        try? withMembers(raw, ["id"]) { _, v in try id(v[0], "object") }
    }

    /// The `creationTime` of an object that could not be decoded, when it is readable.
    static func usableTime(of raw: ArraySlice<UInt8>) -> Int64? {
        try? withMembers(raw, ["creationTime"]) { _, v in try time(v[0], "object", "").1 }
    }

    static func time(_ value: LooseValue?, _ kind: String, _ id: String) throws -> (String, Int64) {
        guard let text = value?.text, let seconds = CreationTime.epochSeconds(text) else {
            throw ObjectShapeError(reason: "\(kind) \(id) has no readable creationTime")
        }
        return (text, seconds)
    }

    static func event(_ raw: ArraySlice<UInt8>) throws -> Event {
        try withMembers(raw, ["id", "action", "creationTime"]) { _, v in
            let id = try id(v[0], "event")
            let (time, seconds) = try time(v[2], "event", id)
            return Event(id: id, action: v[1]?.text ?? "", creationTime: time, epochSeconds: seconds, raw: Array(raw))
        }
    }

    static func notification(_ raw: ArraySlice<UInt8>) throws -> Notification {
        try withMembers(raw, ["id", "eventId", "title", "creationTime", "acknowledged"]) { _, v in
            let id = try id(v[0], "notification")
            let (time, seconds) = try time(v[3], "notification", id)
            return Notification(id: id, eventId: v[1]?.text, title: v[2]?.text ?? "", creationTime: time,
                                epochSeconds: seconds, acknowledged: v[4]?.bool ?? false, raw: Array(raw))
        }
    }

    static func task(_ raw: ArraySlice<UInt8>) throws -> CloudronTask {
        let keys: [StaticString] = ["id", "type", "percent", "message", "active", "pending", "success", "error",
                                    "errorMessage", "creationTime", "ts"]
        return try withMembers(raw, keys) { scanner, v in
            let id = try id(v[0], "task")
            let (time, seconds) = try time(v[9], "task", id)
            var errorMessage: String?
            switch v[7] {
            case .object(let range)?: errorMessage = scanner.errorObjectMessage(range) ?? "error"
            case .string(let s)?: errorMessage = s
            default: break
            }
            if errorMessage == nil, let legacy = v[8]?.text, !legacy.isEmpty { errorMessage = legacy }
            return CloudronTask(id: id, type: v[1]?.text ?? "", percent: v[2]?.int ?? 0, message: v[3]?.text,
                                active: v[4]?.bool ?? false, pending: v[5]?.bool, success: v[6]?.bool,
                                errorMessage: errorMessage, creationTime: time, epochSeconds: seconds,
                                ts: v[10]?.text, raw: Array(raw))
        }
    }

    static func taskLogLine(_ raw: ArraySlice<UInt8>) throws -> TaskLogLine {
        try withMembers(raw, ["realtimeTimestamp", "message"]) { _, v in
            guard let micros = v[0]?.text.flatMap({ Int64($0) ?? Double($0).map { Int64($0) } }) else {
                throw ObjectShapeError(reason: "task log line without realtimeTimestamp")
            }
            return TaskLogLine(realtimeTimestamp: micros, message: v[1]?.text ?? "", raw: Array(raw))
        }
    }

    static func status(_ raw: ArraySlice<UInt8>) throws -> ServerStatus {
        try withMembers(raw, ["version"]) { _, v in ServerStatus(version: v[0]?.text, raw: Array(raw)) }
    }
}

/// `creationTime` to epoch seconds without DateFormatter (which is slow and locale-dependent):
/// box sends `2026-11-20T11:37:29.000Z`, always UTC; also accepted without millis, and with an
/// explicit `+00:00`/`+HH:MM` offset.
public enum CreationTime {
    public static func epochSeconds(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { epochSeconds(utf8: $0) }
    }

    static func epochSeconds(utf8 b: UnsafeBufferPointer<UInt8>) -> Int64? {
        func digits(_ at: Int, _ count: Int) -> Int64? {
            guard at + count <= b.count else { return nil }
            var value: Int64 = 0
            for k in at..<(at + count) {
                let d = b[k] &- 0x30
                guard d < 10 else { return nil }
                value = value * 10 + Int64(d)
            }
            return value
        }
        guard b.count >= 19, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x20,
              b[13] == 0x3A, b[16] == 0x3A,
              let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
              let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var k = 19
        if k < b.count, b[k] == 0x2E {
            k += 1
            let start = k
            while k < b.count, b[k] &- 0x30 < 10 { k += 1 }
            guard k > start else { return nil }
        }
        var offset: Int64 = 0
        if k < b.count {
            switch b[k] {
            case 0x5A: k += 1
            case 0x2B, 0x2D:
                guard let oh = digits(k + 1, 2), k + 3 < b.count, b[k + 3] == 0x3A, let om = digits(k + 4, 2)
                else { return nil }
                offset = (oh * 3600 + om * 60) * (b[k] == 0x2B ? 1 : -1)
                k += 6
            default: return nil
            }
        }
        guard k == b.count else { return nil }
        let days = CivilTime.days(year: year, month: month, day: day)
        return days * 86400 + hour * 3600 + minute * 60 + second - offset
    }
}
