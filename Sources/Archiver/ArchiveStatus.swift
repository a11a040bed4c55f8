import Foundation

/// What the archive holds, per instance and stream; the CLI prints it as text or JSON.
public struct ArchiveStatus: Sendable, Codable, Equatable {
    /// The members of this value and its parts that hold epoch seconds (written as ISO times by
    /// `status --format json`).
    public static let timeKeys: Set<String> = ["oldest", "newest", "from", "to", "detectedAt", "startedAt", "finishedAt",
                                               "firstSeen", "lastSeen", "firstTry", "lastTry", "noticedAt"]
    public var path: String
    public var schemaVersion: Int
    /// The hash chain's current head: compare it with a copy kept elsewhere to detect rewrites.
    public var chain: ChainAnchor
    public var instances: [InstanceStatus]
    /// Source-tamper alarms of every instance, oldest first (see `SourceAlarm`).
    public var alarms: [SourceAlarm]
    /// With `status --config`: the config's servers without one finished sync (success or gap) in the
    /// archive, in the config's order; nil without a config.
    public var neverSynced: [ConfiguredServer]?
}

/// A server a fleet config lists, by its instance name and URL.
public struct ConfiguredServer: Sendable, Codable, Equatable {
    public var name: String
    public var baseURL: String

    public init(name: String, baseURL: String) {
        self.name = name
        self.baseURL = baseURL
    }
}

public struct ChainAnchor: Sendable, Codable, Equatable {
    /// Number of chain records.
    public var length: Int64
    /// The newest link, hex.
    public var head: String

    public init(length: Int64, head: String) {
        self.length = length
        self.head = head
    }
}

public struct InstanceStatus: Sendable, Codable, Equatable {
    public var name: String
    public var baseURL: String
    public var lastRun: RunSummary?
    public var streams: [StreamStatus]
    public var taskLogs: TaskLogStatus
}

public struct StreamStatus: Sendable, Codable, Equatable {
    public var name: String
    /// Distinct API ids archived.
    public var objects: Int
    /// Versions archived (>= objects: every change is a version).
    public var versions: Int
    /// Oldest and newest creation time (epoch seconds) among the current states.
    public var oldest: Int64?
    public var newest: Int64?
    /// The newest run that synced this stream.
    public var lastRun: RunSummary?
    /// Creation-time ranges known to be archived completely, oldest first, merged.
    public var coverage: [EpochRange]
    public var gaps: [GapRecord]
    /// Elements the server sent that are no usable object, kept as received until an object of
    /// their id arrives well-formed.
    public var quarantined: [QuarantinedObject]
}

public struct EpochRange: Sendable, Codable, Equatable {
    public var from: Int64
    public var to: Int64
    public init(from: Int64, to: Int64) { self.from = from; self.to = to }
}

public struct GapRecord: Sendable, Codable, Equatable {
    public var from: Int64
    public var to: Int64
    public var reason: String
    public var run: Int64
    public var detectedAt: Int64
}

public struct RunSummary: Sendable, Codable, Equatable {
    public var id: Int64
    public var streams: [String]
    public var startedAt: Int64
    public var finishedAt: Int64?
    public var result: RunResult
    public var counts: RunCounts?
    public var requests: Int
    public var errors: [String]
    /// Streams the run could not sync at all (no such endpoint, or refused to the token).
    public var unavailableStreams: [UnavailableStream]
    /// The chain head when the run ended (nil while running).
    public var chain: ChainAnchor?
    /// Whether that head was signed (`sync --sign-key`).
    public var signed: Bool
}

public struct TaskLogStatus: Sendable, Codable, Equatable {
    /// Logs archived, including those found already rotated away.
    public var archived: Int
    public var rotated: Int
    public var lines: Int
    /// Finished tasks whose log is not archived yet and was never refused.
    public var awaiting: Int
    /// Logs the server could not give (retried by later syncs until `givenUp`).
    public var unavailable: [TaskLogFailure]
}

extension Archive {
    /// What the archive holds; with `configured` servers (a fleet config), also which of them never synced.
    public func status(configured: [ConfiguredServer]? = nil) throws -> ArchiveStatus {
        try database.serialized {
            let head = try chainHead()
            var instances: [InstanceStatus] = []
            var rows: [(id: Int64, name: String, url: String)] = []
            try database.forEachRow("SELECT id, name, base_url FROM instances ORDER BY name") {
                rows.append(($0.int64(at: 0), $0.string(at: 1), $0.string(at: 2)))
            }
            var ranges: [String: [String: RecordedRanges]] = [:]
            for entry in try recordedRanges() { ranges[entry.instance, default: [:]][entry.stream] = entry }
            for row in rows {
                instances.append(try instanceStatus(id: row.id, name: row.name, baseURL: row.url,
                                                    ranges: ranges[row.name] ?? [:]))
            }
            var synced: Set<String> = []
            try database.forEachRow("""
                SELECT DISTINCT i.name FROM instances i JOIN sync_runs r ON r.instance_id = i.id WHERE r.result IN (?, ?)
                """, [.text(RunResult.success.rawValue), .text(RunResult.gap.rawValue)]) { synced.insert($0.string(at: 0)) }
            return ArchiveStatus(path: path, schemaVersion: try schemaVersion(),
                                 chain: ChainAnchor(length: head.length, head: head.link.hexString), instances: instances,
                                 alarms: try alarms(), neverSynced: configured?.filter { !synced.contains($0.name) })
        }
    }

    private static let runColumns = "id, streams, started_at, finished_at, result, counts, requests, errors, chain_length, "
        + "chain_head, head_signature IS NOT NULL, unavailable_streams"

    private func runSummary(_ row: Statement) -> RunSummary {
        let decoder = JSONDecoder()
        let counts = row.optionalBytes(at: 5).flatMap { try? decoder.decode(RunCounts.self, from: Data($0)) }
        let errors = (try? decoder.decode([String].self, from: Data(row.bytes(at: 7)))) ?? []
        let chain = row.optionalInt64(at: 8).map { ChainAnchor(length: $0, head: row.bytes(at: 9).hexString) }
        let unavailable = (try? decoder.decode([UnavailableStream].self, from: Data(row.bytes(at: 11)))) ?? []
        var result = RunResult(rawValue: row.string(at: 4)) ?? .failed
        // A run still `running` in the file while no sync holds the archive's lock was ended by a kill
        // that nothing can catch (SIGKILL, a crash, power): the next sync records it as interrupted,
        // and status says so already.
        if result == .running, !SyncLock.isHeld(archivePath: path) { result = .interrupted }
        return RunSummary(id: row.int64(at: 0), streams: row.string(at: 1).split(separator: ",").map(String.init),
                          startedAt: row.int64(at: 2), finishedAt: row.optionalInt64(at: 3),
                          result: result, counts: counts,
                          requests: row.int(at: 6), errors: errors, unavailableStreams: unavailable, chain: chain,
                          signed: row.int(at: 10) != 0)
    }

    private func instanceStatus(id: Int64, name: String, baseURL: String, ranges: [String: RecordedRanges]) throws
        -> InstanceStatus {
        var lastRun: RunSummary?
        try database.forEachRow("SELECT \(Self.runColumns) FROM sync_runs WHERE instance_id = ? ORDER BY id DESC LIMIT 1",
                                [.integer(id)]) { lastRun = runSummary($0) }

        var streamNames = ObjectKind.allCases.map(\.streamName)
        try database.forEachRow("""
            SELECT stream FROM coverage WHERE instance_id = ?1 UNION SELECT stream FROM gaps WHERE instance_id = ?1
            UNION SELECT stream FROM stream_state WHERE instance_id = ?1 ORDER BY 1
            """, [.integer(id)]) { row in
            let stream = row.string(at: 0)
            if !streamNames.contains(stream) { streamNames.append(stream) }
        }
        var streams: [StreamStatus] = []
        for stream in streamNames {
            var status = StreamStatus(name: stream, objects: 0, versions: 0, oldest: nil, newest: nil, lastRun: nil,
                                      coverage: ranges[stream]?.coverage ?? [], gaps: ranges[stream]?.gaps ?? [],
                                      quarantined: try quarantined(instance: id, stream: stream))
            if let kind = ObjectKind(streamName: stream) {
                try database.forEachRow("""
                    SELECT count(*), min(creation_epoch), max(creation_epoch),
                           (SELECT count(*) FROM \(kind.versionTable) v JOIN \(kind.currentTable) c ON c.id = v.\(kind.parentColumn)
                            WHERE c.instance_id = ?1)
                    FROM \(kind.currentTable) WHERE instance_id = ?1
                    """, [.integer(id)]) { row in
                    status.objects = row.int(at: 0)
                    status.oldest = row.optionalInt64(at: 1)
                    status.newest = row.optionalInt64(at: 2)
                    status.versions = row.int(at: 3)
                }
            }
            try database.forEachRow("""
                SELECT \(Self.runColumns) FROM sync_runs
                WHERE instance_id = ? AND instr(',' || streams || ',', ',' || ? || ',') > 0 ORDER BY id DESC LIMIT 1
                """, [.integer(id), .text(stream)]) { status.lastRun = runSummary($0) }
            streams.append(status)
        }

        var taskLogs = TaskLogStatus(archived: 0, rotated: 0, lines: 0, awaiting: 0, unavailable: try taskLogFailures(instance: id))
        try database.forEachRow("""
            SELECT count(*), coalesce(sum(l.rotated), 0), coalesce(sum(l.line_count), 0)
            FROM task_logs l JOIN tasks t ON t.id = l.task_id WHERE t.instance_id = ?
            """, [.integer(id)]) { row in
            taskLogs.archived = row.int(at: 0)
            taskLogs.rotated = row.int(at: 1)
            taskLogs.lines = row.int(at: 2)
        }
        taskLogs.awaiting = try tasksAwaitingLogs(instance: id).count - taskLogs.unavailable.filter { !$0.givenUp }.count
        return InstanceStatus(name: name, baseURL: baseURL, lastRun: lastRun, streams: streams, taskLogs: taskLogs)
    }
}
