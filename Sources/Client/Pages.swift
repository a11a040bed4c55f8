/// One page of `GET /api/v1/eventlog`, newest first. Box has no total count and no cursor: a page
/// shorter than `perPage` is the end.
public struct EventPage: Sendable {
    public var events: [Event]
    /// Elements of the page that are no usable event; they keep their place in the server's order.
    public var malformed: [MalformedObject]
    public var page: Int
    public var perPage: Int
    public var isLast: Bool { events.count + malformed.count < perPage }

    public init(events: [Event], malformed: [MalformedObject] = [], page: Int, perPage: Int) {
        self.events = events
        self.malformed = malformed
        self.page = page
        self.perPage = perPage
    }
}

/// One page of `GET /api/v1/notifications`, newest first.
public struct NotificationPage: Sendable {
    public var notifications: [Notification]
    public var malformed: [MalformedObject]
    public var page: Int
    public var perPage: Int
    public var isLast: Bool { notifications.count + malformed.count < perPage }

    public init(notifications: [Notification], malformed: [MalformedObject] = [], page: Int, perPage: Int) {
        self.notifications = notifications
        self.malformed = malformed
        self.page = page
        self.perPage = perPage
    }
}

/// One page of `GET /api/v1/tasks` (stable order: creationTime DESC, id DESC).
public struct TaskPage: Sendable {
    public var tasks: [CloudronTask]
    public var malformed: [MalformedObject]
    public var page: Int
    public var perPage: Int
    public var isLast: Bool { tasks.count + malformed.count < perPage }

    public init(tasks: [CloudronTask], malformed: [MalformedObject] = [], page: Int, perPage: Int) {
        self.tasks = tasks
        self.malformed = malformed
        self.page = page
        self.perPage = perPage
    }
}

/// An element of a list page that is no usable object: not a JSON object, without a usable `id`, or
/// with an unreadable `creationTime`. Kept exactly as received, so that one bad object never fails the
/// page it is on (the archive quarantines it) and its neighbours are still archived.
public struct MalformedObject: Sendable, Hashable {
    public var raw: [UInt8]
    public var reason: String
    /// The element's `id` when it has a usable one, so that it resolves once it arrives well-formed.
    public var id: String?
    /// Its 0-based position on the page.
    public var index: Int
    /// Its `creationTime` when readable; else a sync may set the time of its place in the order.
    public var epochSeconds: Int64?

    public init(raw: [UInt8], reason: String, id: String?, index: Int, epochSeconds: Int64? = nil) {
        self.raw = raw
        self.reason = reason
        self.id = id
        self.index = index
        self.epochSeconds = epochSeconds
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
