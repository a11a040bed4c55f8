import Client
import Foundation

/// What a whole `sync` run did, per stream.
public struct SyncReport: Sendable {
    public var run: Int64
    public var result: RunResult
    public var events = EventLogOutcome()
    public var notifications = IngestCounts()
    public var tasks = IngestCounts()
    public var taskLogsStored = 0
    /// Task logs this run asked for in vain (recorded per task in the archive, asked again later).
    public var taskLogsFailed = 0
    /// Selected streams the server does not have or refuses to this token; the others were synced.
    public var unavailableStreams: [UnavailableStream] = []
    /// Malformed list elements met per stream (each kept in quarantine; see `status`).
    public var quarantined: [ObjectKind: Int] = [:]
    /// List requests per stream, as the streams' page readers counted them.
    public var listRequests: [ObjectKind: Int] = [:]
    /// This run is the first of its instance to complete (the CLI's once-per-server note on tokens).
    public var firstCompletedRun = false
    /// Selected streams whose endpoint failed this run (an answer that is not the API, a capped page size,
    /// a server error that outlasted the retries); the other streams were synced, the run is recorded failed.
    public var failedStreams: [StreamFailure] = []
}

/// A stream whose endpoint failed in one run, and why.
public struct StreamFailure: Sendable {
    public var stream: ObjectKind
    public var error: any Error

    public init(stream: ObjectKind, error: any Error) {
        self.stream = stream
        self.error = error
    }
}

/// Runs one sync of one Cloudron server into an archive: the event log losslessly, then
/// notifications and tasks (small sets, re-read whole every run), then task logs when asked.
///
/// The caller holds the `SyncLock`; pages commit with the stream state in one transaction, so a process
/// killed at any moment leaves an archive that the next run completes.
public struct SyncEngine {
    public let client: CloudronClient
    public let archive: Archive
    public let options: SyncOptions
    /// Seconds since the epoch; injectable so tests can follow a simulator's clock.
    public let clock: @Sendable () -> Int64
    /// Whether this client's server already answered as a Cloudron (`confirmCloudron`) in this process.
    var serverConfirmed = false

    public init(client: CloudronClient, archive: Archive, options: SyncOptions,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.client = client
        self.archive = archive
        self.options = options
        self.clock = clock
    }

    /// Syncs every selected stream. A failure is recorded in the run's row before it is rethrown.
    public func run(baseURL: String) async throws -> SyncReport {
        if !options.acceptMovedServer, let archived = try archive.instanceBaseURL(name: options.instanceName),
           archived != baseURL {
            throw SyncError.instanceMoved(name: options.instanceName, archived: archived, given: baseURL)
        }
        // An instance name is bound (or, with --moved, bound anew) to a URL only once a Cloudron answered
        // there: a sync to a mistyped or unreachable URL records nothing, not even a failed run.
        if !serverConfirmed, try archive.instanceBaseURL(name: options.instanceName) != baseURL {
            try await Self.confirmCloudron(client)
        }
        let instance = try archive.instanceID(name: options.instanceName, baseURL: baseURL)
        try witness(try archive.markInterruptedRuns(instance: instance, signer: options.signingKey, now: clock()))
        let streams = ObjectKind.allCases.filter { options.streams.contains($0) }
        let run = try archive.beginRun(instance: instance, streams: streams.map(\.streamName), startedAt: clock())
        // The client may serve several runs (the demo syncs twice): count this run's requests only.
        let requestsBefore = client.statistics().requestsSent
        func requestsMade() -> Int { client.statistics().requestsSent - requestsBefore }
        var report = SyncReport(run: run, result: .running)
        do {
            var refusals: [ClientError] = []
            for stream in streams {
                do {
                    try await sync(stream, instance: instance, run: run, report: &report)
                } catch let error as ClientError where Self.meansStreamUnavailable(error) {
                    report.unavailableStreams.append(UnavailableStream(stream: stream.streamName,
                                                                       reason: error.description(settingsFrom: options.settingsSource)))
                    refusals.append(error)
                } catch where Self.concernsOneStream(error) {
                    // One bad endpoint never stops the others: each page it gave is archived, the next run
                    // reads it again; the run ends failed, with this stream's error.
                    report.failedStreams.append(StreamFailure(stream: stream, error: error))
                }
            }
            if !streams.isEmpty, refusals.count == streams.count {
                // A token refused everywhere is a wrong token, and says so; otherwise this is not (or not
                // for this token) a Cloudron with any of the streams asked for.
                if let first = refusals.first, refusals.allSatisfy({ $0.category == .tokenRejected || $0.category == .forbidden }) {
                    throw first
                }
                throw SyncError.noStreamAvailable(report.unavailableStreams)
            }
            if let first = report.failedStreams.first, refusals.count + report.failedStreams.count == streams.count {
                // Nothing synced: what failed first says what is wrong with this server (one line, as before).
                throw first.error
            }
            report.result = !report.failedStreams.isEmpty ? .failed : report.events.gap == nil ? .success : .gap
            let signed = try archive.finishRun(run, result: report.result, finishedAt: clock(), counts: runCounts(report),
                                               requests: requestsMade(),
                                               errors: report.failedStreams.map { "\($0.stream.streamName): \($0.error)" },
                                               unavailableStreams: report.unavailableStreams, signer: options.signingKey)
            try witness(signed.map { [$0] } ?? [])
            report.firstCompletedRun = try report.result != .failed && archive.isFirstCompletedRun(run, instance: instance)
            return report
        } catch {
            // Cancelled (SIGINT, SIGTERM): each page read was committed, or rolled back whole, before the
            // cancellation reached a request; the run is then ended as interrupted, never left `running`.
            let interrupted = error is CancellationError
            report.result = interrupted ? .interrupted : .failed
            if let signed = try? archive.finishRun(run, result: report.result, finishedAt: clock(), counts: runCounts(report),
                                                   requests: requestsMade(), errors: interrupted ? [] : [String(describing: error)],
                                                   unavailableStreams: report.unavailableStreams,
                                                   signer: options.signingKey) {
                try? witness([signed])
            }
            throw interrupted ? SyncError.interrupted(run: run) : error
        }
    }

    /// Asks the server for its status (no token needed): it answers as a Cloudron, or this throws the
    /// client's error (unreachable, TLS, not the Cloudron API, …).
    static func confirmCloudron(_ client: CloudronClient) async throws {
        _ = try await client.status()
    }

    /// Appends signed heads to the witness file, after the archive committed them: a witnessed head
    /// the archive never stored would make `verify` fail an intact archive.
    private func witness(_ heads: [SignedHead]) throws {
        guard let file = options.witness else { return }
        for head in heads { try file.append(head) }
    }

    private func sync(_ stream: ObjectKind, instance: Int64, run: Int64, report: inout SyncReport) async throws {
        switch stream {
        case .events:
            var eventLog = try EventLogSync(client: client, archive: archive, instance: instance, run: run,
                                            options: options, clock: clock)
            defer {
                report.events.counts = eventLog.counts
                report.listRequests[.events] = eventLog.listRequests
                report.quarantined[.events] = eventLog.quarantined
            }
            report.events = try await eventLog.sync()
        case .notifications:
            report.notifications = try await syncNotifications(instance: instance, run: run, report: &report)
        case .tasks:
            report.tasks = try await syncTasks(instance: instance, run: run, report: &report)
            if options.taskLogs {
                let logs = try await syncTaskLogs(instance: instance, run: run)
                (report.taskLogsStored, report.taskLogsFailed) = (logs.stored, logs.failed)
                report.quarantined[.tasks, default: 0] += logs.quarantinedLines
            }
        }
    }

    /// A failure of one stream's endpoint rather than of the server, the archive or the run: a request's
    /// answer (not the API, too large, a server error or timeout that outlasted the retries) or a list that
    /// cannot be paged losslessly. The other streams are still synced.
    static func concernsOneStream(_ error: any Error) -> Bool {
        switch error {
        case let error as ClientError: return error.concernsOneRequest
        case SyncError.pageSizeCapped, SyncError.tieGroupUnreadable: return true
        default: return false
        }
    }

    /// A stream the server does not have (404: servers before late 2018 have no notifications or tasks)
    /// or does not let this token read (403; 401 "No such token" on box 9 to a token valid elsewhere).
    static func meansStreamUnavailable(_ error: ClientError) -> Bool {
        [.notFound, .forbidden, .tokenRejected].contains(error.category)
    }

    /// Notifications tie on `creationTime` with no tie-breaker, like events, but they are few: the
    /// whole list is read as one page, growing the page until it comes back short, so the set is one
    /// consistent snapshot. A server that caps `per_page` cannot give one: its list is then walked as
    /// the event log is (ties read whole), to its end, and again while its top moves (alert rewrites).
    private func syncNotifications(instance: Int64, run: Int64, report: inout SyncReport) async throws -> IngestCounts {
        let archive = self.archive, clock = self.clock
        let store = { @Sendable (page: ListPage<Client.Notification>) throws -> IngestCounts in
            let seenAt = clock()
            return try archive.archive(page, of: .notifications, instance: instance, run: run, seenAt: seenAt) { notes in
                try archive.ingest(notifications: notes, instance: instance, run: run, seenAt: seenAt)
            }
        }
        var walk = NewestFirstWalk(reader: .notifications(client), clock: clock, progress: options.progress, archiveBatch: store)
        defer {
            report.listRequests[.notifications] = walk.reader.requests
            report.quarantined[.notifications] = walk.quarantined.count
        }
        var perPage = 1000
        while true {
            let answer = try await walk.reader.page(1, perPage: perPage)
            if answer.count < perPage {
                do {
                    try await walk.reader.confirmEnd(answer, page: 1, perPage: perPage)
                } catch SyncError.pageSizeCapped {
                    let whole = try await walk.passAdapting(stopBelow: nil, pageSize: perPage)
                    _ = try await walk.rewalk(below: whole.top, pageSize: perPage, limit: options.maxRewalks)
                    return walk.counts
                }
                report.quarantined[.notifications] = Set(answer.malformed.map(\.raw)).count
                return try store(answer)
            }
            perPage *= 4
        }
    }

    /// Tasks are ordered `creationTime DESC, id DESC`, a stable order: plain paging loses nothing
    /// (new tasks enter at the top and only repeat rows). Unfinished tasks get a new version each
    /// run until they finish, because every run re-reads them. A server that turns out to cap
    /// `per_page` is read again from page 1 with the size it serves.
    private func syncTasks(instance: Int64, run: Int64, report: inout SyncReport) async throws -> IngestCounts {
        var reader = PageReader.tasks(client)
        var quarantined = Set<[UInt8]>()
        defer {
            report.listRequests[.tasks] = reader.requests
            report.quarantined[.tasks] = quarantined.count
        }
        var counts = IngestCounts()
        do {
            try await readTasks(with: &reader, perPage: 1000, instance: instance, run: run, counts: &counts,
                                quarantined: &quarantined)
        } catch SyncError.pageSizeCapped {
            try await readTasks(with: &reader, perPage: reader.pageSize(1000), instance: instance, run: run, counts: &counts,
                                quarantined: &quarantined)
        }
        return counts
    }

    private func readTasks(with reader: inout PageReader<CloudronTask>, perPage: Int, instance: Int64, run: Int64,
                           counts: inout IngestCounts, quarantined: inout Set<[UInt8]>) async throws {
        var page = 1
        while true {
            let answer = try await reader.page(page, perPage: perPage)
            let seenAt = clock()
            counts = counts + (try archive.archive(answer, of: .tasks, instance: instance, run: run, seenAt: seenAt) { tasks in
                try archive.ingest(tasks: tasks, instance: instance, run: run, seenAt: seenAt)
            })
            quarantined.formUnion(answer.malformed.map(\.raw))
            if answer.count < perPage {
                return try await reader.confirmEnd(answer, page: page, perPage: perPage)
            }
            page += 1
        }
    }

    /// Each finished task's log is archived once; an empty answer means it already rotated away,
    /// which the archive records so that it is not asked for again. A log the server cannot give (box
    /// answers 424 or 500 for one task, a log can exceed the size cap or box's request timeout) is
    /// recorded for that task and asked again by later runs: it never stops the other logs. A line the
    /// server sent that is no log line is kept in the tasks stream's quarantine (as received, with the
    /// task and its place in the log) and the log's other lines are stored.
    private func syncTaskLogs(instance: Int64, run: Int64) async throws -> (stored: Int, failed: Int, quarantinedLines: Int) {
        var stored = 0, failed = 0, quarantinedLines = 0
        for taskId in try archive.tasksAwaitingLogs(instance: instance, now: clock()) {
            let log: TaskLog
            do {
                log = try await client.taskLogs(taskId: taskId, lines: SyncEngine.wholeLogLines)
            } catch let error as ClientError where error.category == .notFound {
                log = TaskLog(lines: [])
            } catch let error as ClientError where error.concernsOneRequest {
                try archive.recordTaskLogFailure(instance: instance, taskId: taskId, reason: error.description,
                                                 run: run, at: clock())
                failed += 1
                continue
            }
            try archive.storeTaskLog(instance: instance, taskId: taskId, log: log, run: run, seenAt: clock())
            stored += 1
            quarantinedLines += log.malformed.count
        }
        return (stored, failed, quarantinedLines)
    }

    /// Box answers the last 10 lines unless asked for more (`lines=-1` meant "all" only in 2019):
    /// a count no task log reaches reads the whole file.
    static let wholeLogLines = 1_000_000

    private func runCounts(_ report: SyncReport) -> RunCounts {
        var counts = RunCounts()
        counts.add(report.events.counts, to: ObjectKind.events.streamName)
        counts.add(report.notifications, to: ObjectKind.notifications.streamName)
        counts.add(report.tasks, to: ObjectKind.tasks.streamName)
        return counts
    }
}
