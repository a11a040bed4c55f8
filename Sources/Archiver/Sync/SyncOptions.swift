import Client

/// What one `sync` run does.
public struct SyncOptions: Sendable {
    /// The archive's name for this server (several servers share one archive).
    public var instanceName: String
    /// The kinds to sync, named by their stream names on the command line.
    public var streams: Set<ObjectKind>
    /// Archive each finished task's log once (logs rotate away after about 7 days).
    public var taskLogs: Bool
    /// Page size for walks whose depth is unknown (the first sync's backfill).
    public var pageSize: Int
    /// How far below the last completed walk's newest event a walk must read before it may stop.
    /// At least a day, to catch same-day login upserts (box rewrites a `user.login` row of the same day in
    /// place, shifting the rows around its old place; see shared/cloudron-api.md); an hour more absorbs
    /// clock skew between runs.
    public var marginSeconds: Int64
    /// How many extra walks from page 1 a run makes while page 1 keeps moving (new events,
    /// login upserts). Rows arriving after the last walk are picked up by the next run.
    public var maxRewalks: Int
    /// Accept a base URL other than the one archived for this instance name. Off by default: under
    /// one name, another server's stream state would make the walk stop at a foreign high-water mark.
    public var acceptMovedServer = false
    /// Walk the whole event log the server still holds and compare it with the archive (the tamper
    /// check's full form); also done by itself once a day (`recheckInterval`).
    public var recheck = false
    /// Signs the chain head at the end of the run (and of runs a killed process left behind).
    public var signingKey: HeadSigningKey?
    /// Where each signed head is also appended (needs `signingKey`).
    public var witness: WitnessFile?
    /// How the user gave this server's settings: the hint in an unavailable stream's reason names the flags
    /// or the config's keys (`sync --config`).
    public var settingsSource = ClientError.SettingsSource.commandLine
    /// Called after each stored page; the CLI draws a progress line from it on a TTY only.
    public var progress: (@Sendable (SyncProgress) -> Void)?
    /// Called while an upgrade of an older archive fills archived rows (before the sync starts).
    public var upgradeProgress: (@Sendable (UpgradeProgress) -> Void)?

    public init(instanceName: String, streams: Set<ObjectKind> = Set(ObjectKind.allCases), taskLogs: Bool = false,
                pageSize: Int = 500, marginSeconds: Int64 = 25 * 3600, maxRewalks: Int = 4,
                progress: (@Sendable (SyncProgress) -> Void)? = nil) {
        self.instanceName = instanceName
        self.streams = streams
        self.taskLogs = taskLogs
        self.pageSize = pageSize
        self.marginSeconds = marginSeconds
        self.maxRewalks = maxRewalks
        self.progress = progress
    }

    /// Parses `--streams eventlog,notifications,tasks`.
    public static func parseStreams(_ text: String) throws -> Set<ObjectKind> {
        Set(try CommaList.parse(text) { name in
            guard let stream = ObjectKind(streamName: name) else {
                throw SyncError.invalidOption("unknown stream '\(name)': use a comma list of eventlog, notifications, tasks")
            }
            return stream
        })
    }
}

/// A snapshot of a running sync, for progress lines.
public struct SyncProgress: Sendable {
    public var stream: ObjectKind
    public var objects: Int
    public var pages: Int
    public var elapsedSeconds: Double
}
