import Client

/// The kinds of object a Cloudron keeps that cloudron-audit archives, and everything the archive and
/// its users call each one: the stream name of `sync --streams`, stream state, coverage and runs; the
/// tables; the full-text index; the column a search hit is summarised by; and the current-state columns
/// (whose derivation, `ArchivableObject.columns`, ingest and `verify` share).
///
/// Each kind has a current-state table (one row per API id: what queries and search read), a version
/// table (every distinct content seen for that id, raw JSON as received; a chain table), and an
/// external-content FTS5 index over some current-state columns. The API paths are the Client's:
/// which path and wrapping a server uses is learned per request (the 2019 event-log path), not a
/// property of the kind.
public enum ObjectKind: CaseIterable, Sendable, Hashable {
    case events, notifications, tasks

    /// What users call the kind (`search --in`, the listing commands): the current-state table's name.
    public var name: String { currentTable }

    /// One object of the kind, as search's `kind` column says it.
    public var singular: String {
        switch self {
        case .events: "event"
        case .notifications: "notification"
        case .tasks: "task"
        }
    }

    /// The `sync --streams` value, also the `stream` key of stream state, coverage, gaps and runs.
    /// The event log's stream is named after its API endpoint, not after its objects.
    public var streamName: String {
        switch self {
        case .events: "eventlog"
        case .notifications: "notifications"
        case .tasks: "tasks"
        }
    }

    /// The kind whose stream is called `streamName`, or nil.
    public init?(streamName: String) {
        guard let kind = Self.allCases.first(where: { $0.streamName == streamName }) else { return nil }
        self = kind
    }

    /// The kind called `name` (`events`, `notifications`, `tasks`), or nil.
    public init?(name: String) {
        guard let kind = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }

    /// The current-state table.
    public var currentTable: String {
        switch self {
        case .events: "events"
        case .notifications: "notifications"
        case .tasks: "tasks"
        }
    }

    /// The version table: one chain record per distinct content of an object.
    public var versionTable: String { versionChainTable.name }

    var versionChainTable: ChainTable { .versions(self) }

    /// The version table's column that refers to the current-state row.
    public var parentColumn: String {
        switch self {
        case .events: "event_id"
        case .notifications: "notification_id"
        case .tasks: "task_id"
        }
    }

    /// The external-content FTS5 index over `searchableColumns`, with the current-state table as content
    /// (which holds only the stored ones: the index is fed and queried with values recomputed from the raw JSON).
    public var ftsTable: String {
        switch self {
        case .events: "events_fts"
        case .notifications: "notifications_fts"
        case .tasks: "tasks_fts"
        }
    }

    /// The current-state column that names what an object is about in one word or phrase (search's
    /// `summary`): an event's action, a notification's title, a task's type.
    public var summaryColumn: String {
        switch self {
        case .events: "action"
        case .notifications: "title"
        case .tasks: "type"
        }
    }

    /// The Client's model of the kind, which knows how the current-state columns follow from an object.
    var objectType: any ArchivableObject.Type {
        switch self {
        case .events: Event.self
        case .notifications: Client.Notification.self
        case .tasks: CloudronTask.self
        }
    }

    /// The current-state columns derived from an object (besides `id`, `instance_id`, `api_id` and
    /// `version`), in table order. Ingest stores them and `verify` recomputes them from the same list.
    public var currentStateColumns: [String] { objectType.currentStateColumns }

    /// The columns of `ftsTable`, in its order: current-state columns, some of them not stored (see `CurrentStateColumn.stored`).
    public var searchableColumns: [String] { objectType.searchableColumns }
}
/// The tables that hold chain records: each kind's version table, the task logs, the quarantine and the alarms.
enum ChainTable: CaseIterable, Sendable, Hashable {
    case versions(ObjectKind)
    case taskLogs
    /// List elements that are no usable object, kept as received.
    case quarantine
    /// Source-tamper alarms (see `SourceAlarm`).
    case alarms

    static let allCases: [ChainTable] = ObjectKind.allCases.map(ChainTable.versions) + [.taskLogs, .quarantine, .alarms]

    var name: String {
        switch self {
        case .versions(let kind):
            switch kind {
            case .events: "event_versions"
            case .notifications: "notification_versions"
            case .tasks: "task_versions"
            }
        case .taskLogs: "task_logs"
        case .quarantine: "quarantine"
        case .alarms: "alarms"
        }
    }
}
