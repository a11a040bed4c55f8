// Ground truth: what the server holds now and every version it ever held, so a test can prove that
// an archive lost nothing and kept every change.

/// The simulator's ground truth, also served as JSON at `GET /_sim/truth`.
///
/// `json` fields are the objects' exact bytes as the list endpoints serve them (UTF-8 text; compare
/// `Array(record.json.utf8)` with what a client stored). In 2019 mode single-object GETs wrap these
/// in `{"event":…}` / `{"notification":…}`; the truth holds the unwrapped object.
public struct SimulatorTruth: Sendable, Codable, Equatable {
    /// One object as served at one moment.
    public struct Record: Sendable, Codable, Equatable {
        public var id: String
        public var creationTime: String
        public var epochSeconds: Int64
        public var json: String

        public init(id: String, creationTime: String, epochSeconds: Int64, json: String) {
            self.id = id
            self.creationTime = creationTime
            self.epochSeconds = epochSeconds
            self.json = json
        }

        /// The exact bytes served.
        public var bytes: [UInt8] { Array(json.utf8) }
    }

    /// The simulated now, Unix seconds.
    public var now: Int64
    /// Current events, newest first (rows of one second in storage order).
    public var events: [Record]
    /// Every version of every event the server ever held, current and pruned, oldest first.
    /// Initial rows, inserted rows and each upsert are versions; the last one of a live id is current.
    public var eventVersions: [String: [Record]]
    /// Events removed by retention, in the order they were pruned.
    public var prunedEventIds: [String]
    /// Current notifications, newest first.
    public var notifications: [Record]
    /// Every version of every notification (alert rewrites, ack toggles), oldest first.
    public var notificationVersions: [String: [Record]]
    /// Notifications deleted with their pruned event.
    public var deletedNotificationIds: [String]
    /// Current tasks, in the server's order (creationTime DESC, id DESC).
    public var tasks: [Record]
    /// Every version of every task (progress updates), oldest first. The record's `creationTime`
    /// and `epochSeconds` are the version's `ts`.
    public var taskVersions: [String: [Record]]

    public init(now: Int64, events: [Record], eventVersions: [String: [Record]], prunedEventIds: [String],
                notifications: [Record], notificationVersions: [String: [Record]], deletedNotificationIds: [String],
                tasks: [Record], taskVersions: [String: [Record]]) {
        self.now = now
        self.events = events
        self.eventVersions = eventVersions
        self.prunedEventIds = prunedEventIds
        self.notifications = notifications
        self.notificationVersions = notificationVersions
        self.deletedNotificationIds = deletedNotificationIds
        self.tasks = tasks
        self.taskVersions = taskVersions
    }
}

extension ServerState {
    func truth() -> SimulatorTruth {
        func record(_ id: String, _ time: Int64, _ json: [UInt8]) -> SimulatorTruth.Record {
            .init(id: id, creationTime: CloudronTime.iso(time), epochSeconds: time, json: String(decoding: json, as: UTF8.self))
        }
        var eventVersions: [String: [SimulatorTruth.Record]] = [:]
        eventVersions.reserveCapacity(events.count + prunedEventIds.count)
        for event in events where eventHistory[event.id] == nil {
            eventVersions[event.id] = [record(event.id, event.time, event.json)]
        }
        for (id, versions) in eventHistory {
            eventVersions[id] = versions.map { record(id, $0.time, $0.json) }
        }
        var notificationsOut: [String: [SimulatorTruth.Record]] = [:]
        for (id, versions) in notificationVersions {
            notificationsOut[String(id)] = versions.map { record(String(id), $0.time, $0.json) }
        }
        var taskVersionsOut: [String: [SimulatorTruth.Record]] = [:]
        for (id, versions) in taskVersions {
            taskVersionsOut[String(id)] = versions.map { record(String(id), $0.time, $0.json) }
        }
        return SimulatorTruth(
            now: now,
            events: events.reversed().map { record($0.id, $0.time, $0.json) },
            eventVersions: eventVersions,
            prunedEventIds: prunedEventIds,
            notifications: notifications.sorted { ($0.time, $0.id) > ($1.time, $1.id) }
                .map { record(String($0.id), $0.time, $0.json) },
            notificationVersions: notificationsOut,
            deletedNotificationIds: deletedNotificationIds,
            tasks: tasks.sorted { ($0.time, $0.id) > ($1.time, $1.id) }.map { record(String($0.id), $0.time, $0.json) },
            taskVersions: taskVersionsOut)
    }
}
