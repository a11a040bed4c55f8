// The objects a Cloudron server returns, as the rest of cloudron-audit sees them.
//
// Each model keeps the object's raw JSON bytes exactly as received next to the few decoded
// fields that the archive indexes: re-encoding every object would cost several times its decoding
// (Benchmarks/NOTES.md), and an audit archive must keep what the server said, unknown fields and
// actions included.
// Ids are normalised to strings: task ids arrive as "412" in lists and as 295 elsewhere.

/// One event-log row.
public struct Event: Sendable, Hashable {
    /// A random UUID on real servers; never usable as a cursor.
    public var id: String
    /// Dotted action name; the set grows by server version, so any string is accepted.
    public var action: String
    /// `creationTime` as sent (always UTC, 1-second resolution, e.g. `2026-11-20T11:37:29.000Z`).
    public var creationTime: String
    /// `creationTime` as seconds since the Unix epoch.
    public var epochSeconds: Int64
    /// The whole object's JSON bytes as received.
    public var raw: [UInt8]

    public init(id: String, action: String, creationTime: String, epochSeconds: Int64, raw: [UInt8]) {
        self.id = id
        self.action = action
        self.creationTime = creationTime
        self.epochSeconds = epochSeconds
        self.raw = raw
    }
}

/// One notification. Alerts (`eventId == nil`) are rewritten in place by title every 30 minutes.
public struct Notification: Sendable, Hashable {
    public var id: String
    public var eventId: String?
    public var title: String
    public var creationTime: String
    public var epochSeconds: Int64
    public var acknowledged: Bool
    public var raw: [UInt8]

    public init(id: String, eventId: String?, title: String, creationTime: String, epochSeconds: Int64,
                acknowledged: Bool, raw: [UInt8]) {
        self.id = id
        self.eventId = eventId
        self.title = title
        self.creationTime = creationTime
        self.epochSeconds = epochSeconds
        self.acknowledged = acknowledged
        self.raw = raw
    }
}

/// One task. Named `CloudronTask` so that it never shadows Swift's `Task`.
public struct CloudronTask: Sendable, Hashable {
    public var id: String
    public var type: String
    public var percent: Int
    public var message: String?
    public var active: Bool
    /// Absent on 2019 servers.
    public var pending: Bool?
    /// Absent on 2019 servers.
    public var success: Bool?
    /// The error's message, whether the server sent an object `{message, code}`, a string, or
    /// (2019) `errorMessage`; nil when there is none.
    public var errorMessage: String?
    public var creationTime: String
    public var epochSeconds: Int64
    /// `ts`, bumped on every update (nil when absent).
    public var ts: String?
    public var raw: [UInt8]

    /// A task is followed by sync until it is neither running nor scheduled. A task interrupted by a
    /// server restart can stay `active:false` with `percent < 100` forever: that counts as finished here.
    public var isFinished: Bool { !active && pending != true }

    public init(id: String, type: String, percent: Int, message: String?, active: Bool, pending: Bool?,
                success: Bool?, errorMessage: String?, creationTime: String, epochSeconds: Int64,
                ts: String?, raw: [UInt8]) {
        self.id = id
        self.type = type
        self.percent = percent
        self.message = message
        self.active = active
        self.pending = pending
        self.success = success
        self.errorMessage = errorMessage
        self.creationTime = creationTime
        self.epochSeconds = epochSeconds
        self.ts = ts
        self.raw = raw
    }
}

/// One line of `GET /api/v1/tasks/{id}/logs?format=json`.
public struct TaskLogLine: Sendable, Hashable {
    /// Microseconds since the epoch.
    public var realtimeTimestamp: Int64
    public var message: String
    public var raw: [UInt8]

    public init(realtimeTimestamp: Int64, message: String, raw: [UInt8]) {
        self.realtimeTimestamp = realtimeTimestamp
        self.message = message
        self.raw = raw
    }
}

/// A task's log as served: its usable lines in order, and the lines that are none (kept apart as received,
/// so that one bad line never costs the rest of the log).
public struct TaskLog: Sendable, Hashable {
    public var lines: [TaskLogLine]
    /// Lines that are not JSON or have no `realtimeTimestamp`; `index` is the line's 0-based position among
    /// the answer's non-blank lines.
    public var malformed: [MalformedObject]

    public init(lines: [TaskLogLine], malformed: [MalformedObject] = []) {
        self.lines = lines
        self.malformed = malformed
    }
}

/// `GET /api/v1/cloudron/status`: a connectivity check only (it does not validate the token).
public struct ServerStatus: Sendable, Hashable {
    public var version: String?
    public var raw: [UInt8]

    public init(version: String?, raw: [UInt8]) {
        self.version = version
        self.raw = raw
    }
}
