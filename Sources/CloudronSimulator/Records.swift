// The server's rows, each kept with the exact bytes it is served as.

/// One event-log row. `json` is the object as served; `source`/`data` locate those members in it
/// (box's `search` looks only there, and its login upsert compares `source` byte for byte).
struct EventRecord: Sendable {
    let id: String
    let action: String
    var time: Int64
    var json: [UInt8]
    var source: Range<Int>
    var data: Range<Int>

    init(id: String, action: String, time: Int64, source: [UInt8], data: [UInt8]) {
        self.id = id
        self.action = action
        self.time = time
        var j = JSONText(capacity: source.count + data.count + 160)
        j.raw("{"); j.field("id", id, first: true); j.field("action", action)
        j.raw(",\"source\":")
        let s0 = j.bytes.count
        j.raw(source)
        let s1 = j.bytes.count
        j.raw(",\"data\":")
        let d0 = j.bytes.count
        j.raw(data)
        let d1 = j.bytes.count
        j.field("creationTime", CloudronTime.iso(time))
        j.raw("}")
        self.json = j.bytes
        self.source = s0..<s1
        self.data = d0..<d1
    }

    var sourceBytes: ArraySlice<UInt8> { json[source] }
    var dataBytes: ArraySlice<UInt8> { json[data] }

    /// The same row rewritten by an upsert: same id and source, new time and data.
    func upserted(time: Int64, data: [UInt8]) -> EventRecord {
        EventRecord(id: id, action: action, time: time, source: Array(sourceBytes), data: data)
    }
}

/// One version of an object as it was served at some point.
struct StoredVersion: Sendable {
    let time: Int64
    let json: [UInt8]
}

/// One notification. Alerts have `eventId == nil` and are rewritten in place by title.
struct NotificationRecord: Sendable {
    let id: Int
    let eventId: String?
    let title: String
    var message: String
    var time: Int64
    var acknowledged: Bool
    var json: [UInt8] = []

    /// Re-serializes after a change. 2019 servers kept per-admin copies with a `userId`.
    mutating func serialize(legacyUserId: String?) {
        var j = JSONText(capacity: 200 + message.utf8.count)
        j.raw("{"); j.field("id", String(id), first: true)
        if let legacyUserId { j.field("userId", legacyUserId) }
        j.field("eventId", optional: eventId); j.field("title", title); j.field("message", message)
        j.field("creationTime", CloudronTime.iso(time)); j.field("acknowledged", bool: acknowledged)
        j.raw("}")
        json = j.bytes
    }
}

/// One task. `ts` is bumped on every update; a task interrupted by a restart stays
/// `active:false`, `percent < 100` forever.
struct TaskRecord: Sendable {
    let id: Int
    let type: String
    var percent: Int
    var message: String
    var errorMessage: String?
    var errorCode: String?
    var active: Bool
    var pending: Bool
    let time: Int64
    var ts: Int64
    var resultJSON: String
    var success: Bool
    /// Kept in box's table, but no answer carries it (2019's list picks its fields without `args`).
    let argsJSON: String
    /// Whether this task will end in an error when it finishes under `taskProgress`.
    let failsWhenDone: Bool
    var json: [UInt8] = []

    var isRunning: Bool { active || pending }

    mutating func serialize(legacy: Bool) {
        var j = JSONText(capacity: 300)
        j.raw("{"); j.field("id", String(id), first: true); j.field("type", type)
        j.field("percent", int: percent); j.field("message", message)
        if legacy {
            j.field("errorMessage", optional: errorMessage)
        } else if let errorMessage {
            j.raw(",\"error\":{"); j.field("message", errorMessage, first: true)
            j.field("code", errorCode ?? "crashed"); j.raw("}")
        } else {
            j.field("error", rawText: "null")
        }
        j.field("active", bool: active)
        if !legacy { j.field("pending", bool: pending) }
        j.field("creationTime", CloudronTime.iso(time)); j.field("ts", CloudronTime.iso(ts))
        j.field("result", rawText: resultJSON)
        if !legacy { j.field("success", bool: success) }
        j.raw("}")
        json = j.bytes
    }
}
