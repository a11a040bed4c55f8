/// One page of `GET /api/v1/eventlog`, newest first. Box has no total count and no cursor: a page
/// shorter than `perPage` is the end.
public struct EventPage: Sendable {
    public var events: [Event]
    public var page: Int
    public var perPage: Int
    public var isLast: Bool { events.count < perPage }

    public init(events: [Event], page: Int, perPage: Int) {
        self.events = events
        self.page = page
        self.perPage = perPage
    }
}

/// One page of `GET /api/v1/notifications`, newest first.
public struct NotificationPage: Sendable {
    public var notifications: [Notification]
    public var page: Int
    public var perPage: Int
    public var isLast: Bool { notifications.count < perPage }

    public init(notifications: [Notification], page: Int, perPage: Int) {
        self.notifications = notifications
        self.page = page
        self.perPage = perPage
    }
}

/// One page of `GET /api/v1/tasks` (stable order: creationTime DESC, id DESC).
public struct TaskPage: Sendable {
    public var tasks: [CloudronTask]
    public var page: Int
    public var perPage: Int
    public var isLast: Bool { tasks.count < perPage }

    public init(tasks: [CloudronTask], page: Int, perPage: Int) {
        self.tasks = tasks
        self.page = page
        self.perPage = perPage
    }
}

/// What a client has done so far; for `--verbose` summaries and for tests that count requests.
public struct ClientStatistics: Sendable, Equatable {
    /// HTTP requests sent, retries included.
    public var requestsSent = 0
    /// Attempts that were retries of a failed one.
    public var retries = 0
    /// Body bytes received, all attempts.
    public var bytesReceived = 0

    public init() {}
}
