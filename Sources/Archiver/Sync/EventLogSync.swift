import Client
import Foundation

/// The event-log stream's persistent state, kept as JSON in the archive's stream-state table.
struct EventStreamState: Codable, Equatable {
    /// Newest `creationTime` archived by a *completed* run. Only a completed run moves it, so a run
    /// killed halfway leaves it where it was and the next run walks at least as deep again.
    var highWater: Int64?
    /// When a run last walked the whole log (a first sync or a recheck), epoch seconds.
    var lastFullWalk: Int64?
}

/// What the event-log part of a run found.
public struct EventLogOutcome: Sendable, Equatable {
    public var counts = IngestCounts()
    public var walks = 0
    /// Time range pruned by the server before it was archived, when this run found one.
    public var gap: ClosedRange<Int64>?
    /// Source-tamper alarms this run raised (see `SourceTamperCheck`).
    public var alarms = 0
    /// Whether this run walked the whole log (`--recheck`, the daily recheck, or a first sync).
    public var fullWalk = false
}

/// One lossless incremental sync of the event log: a first walk from page 1 down to the last completed
/// run's high-water mark less a margin (or to the end of the log), walks again from page 1 while the top
/// keeps moving (see `NewestFirstWalk` for why that loses nothing), then records the range covered, any
/// gap the server pruned before it was archived, and the new high-water mark in one transaction.
struct EventLogSync {
    let archive: Archive
    let instance: Int64
    let run: Int64
    let options: SyncOptions
    private var walk: NewestFirstWalk<Event>
    private let previousHighWater: Int64?
    private let previousFullWalk: Int64?
    private let clock: @Sendable () -> Int64

    /// Hourly syncs walk the whole log once a day by themselves: the tamper check then covers everything
    /// the server still holds, not only the margin an incremental run re-reads.
    static let recheckInterval: Int64 = 23 * 3600

    /// List requests this stream's sync has sent.
    var listRequests: Int { walk.reader.requests }
    /// What the walk has archived so far (also when it was interrupted).
    var counts: IngestCounts { walk.counts }
    /// Malformed elements this stream's sync met (each kept in quarantine).
    var quarantined: Int { walk.quarantined.count }

    init(client: CloudronClient, archive: Archive, instance: Int64, run: Int64, options: SyncOptions,
         clock: @escaping @Sendable () -> Int64) throws {
        self.archive = archive
        self.instance = instance
        self.run = run
        self.options = options
        var state = EventStreamState()
        if let bytes = try archive.streamState(instance: instance, stream: ObjectKind.events.streamName) {
            state = try JSONDecoder().decode(EventStreamState.self, from: Data(bytes))
        }
        previousHighWater = state.highWater
        previousFullWalk = state.lastFullWalk
        self.clock = clock
        try archive.beginSeenEvents(instance: instance)
        // Pages commit with the state as it was: only a completed run moves the high-water mark.
        let unchangedState = try JSONEncoder().encode(state)
        walk = NewestFirstWalk(reader: .events(client), clock: clock, progress: options.progress) { page in
            try archive.transaction {
                let seenAt = clock()
                let counts = try archive.archive(page, of: .events, instance: instance, run: run, seenAt: seenAt) { events in
                    let counts = try archive.ingest(events: events, instance: instance, run: run, seenAt: seenAt)
                    try archive.markSeen(events: events.map(\.id), instance: instance)
                    return counts
                }
                try archive.saveStreamState(instance: instance, stream: ObjectKind.events.streamName,
                                            state: Array(unchangedState))
                return counts
            }
        }
    }

    mutating func sync() async throws -> EventLogOutcome {
        // The gap test compares with what the archive really holds, not with the last completed run:
        // a run killed halfway may have archived newer rows already.
        let newestArchived = try archive.newestEventEpoch(instance: instance)
        let started = clock()
        let fullWalk = options.recheck || previousHighWater == nil
            || previousFullWalk.map { started - $0 >= Self.recheckInterval } ?? true
        // Quarantined events are met again (and resolved once well-formed) only by a walk that reaches
        // their place: while the server may still have them (retention), the walk goes that deep.
        let quarantinedPlace = try archive.oldestQuarantinedPlace(instance: instance, stream: ObjectKind.events.streamName,
                                                                  since: walk.clock() - EventLogSync.retention)
        let threshold = fullWalk ? nil : previousHighWater.map { min($0 - options.marginSeconds, quarantinedPlace ?? .max) }

        // An incremental run reads the margin in one request when it can: the archive knows how
        // many events that window held, and a no-op sync then costs two list requests in all.
        let firstPageSize = try threshold.map { try incrementalPageSize(since: $0) } ?? options.pageSize
        let first: NewestFirstWalk<Event>.Pass
        do {
            first = try await walk.passAdapting(stopBelow: threshold, pageSize: firstPageSize)
        } catch let error as ClientError where firstPageSize > options.pageSize
                    && [.responseTooLarge, .serverError, .malformedResponse].contains(error.category) {
            // The large page is only an optimisation; a server that cannot answer it (too large for the
            // response cap, or slower than its own request timeout) is walked with the usual page size.
            first = try await walk.passAdapting(stopBelow: threshold, pageSize: options.pageSize)
        }

        var gap: ClosedRange<Int64>?
        if first.reachedEnd, let newestBefore = newestArchived, let oldest = first.oldest, oldest > newestBefore {
            // The server no longer has anything at or before our newest event: whatever it held in
            // between was pruned before we could archive it.
            gap = newestBefore...oldest
        }
        let coveredFrom = first.reachedEnd ? first.oldest : threshold

        let finalTop = try await walk.rewalk(below: first.top, pageSize: min(options.pageSize, 100),
                                             limit: options.maxRewalks)

        // The run's conclusions commit together: a crash before this point leaves the old high-water
        // mark, and the next run simply walks the same ground again.
        let finalState = EventStreamState(highWater: [previousHighWater, finalTop].compactMap { $0 }.max(),
                                          lastFullWalk: fullWalk && first.reachedEnd ? started : previousFullWalk)
        // Vanished events are looked for only where the walk read everything the server holds: from the
        // margin up, or, at the end of the log, from just above the oldest second still there (rows of
        // that second and older may be pruned while the walk reads them). Only after a rewalk: a login
        // rewritten while the first walk was above its old place is found at the top by the rewalk.
        var vanishedSince: Int64? = first.reachedEnd ? first.lastPageOldest.map { $0 + 1 } : threshold
        if walk.rewalks == 0 { vanishedSince = nil }
        let alarms = try SourceTamperCheck(archive: archive, instance: instance, run: run)
            .run(vanishedSince: vanishedSince, at: clock())
        try archive.transaction {
            if let gap {
                try archive.recordGap(instance: instance, stream: ObjectKind.events.streamName, from: gap.lowerBound,
                                      to: gap.upperBound, reason: "pruned by the server before it was archived", run: run)
            }
            if let from = coveredFrom, let to = finalTop, from <= to {
                try archive.addCoverage(instance: instance, stream: ObjectKind.events.streamName, from: from, to: to, run: run)
            }
            try archive.saveStreamState(instance: instance, stream: ObjectKind.events.streamName,
                                        state: Array(try JSONEncoder().encode(finalState)))
        }
        return EventLogOutcome(counts: walk.counts, walks: walk.passes, gap: gap, alarms: alarms, fullWalk: fullWalk)
    }

    /// Box deletes events older than 10 days.
    static let retention: Int64 = 10 * 86_400

    private func incrementalPageSize(since threshold: Int64) throws -> Int {
        let known = try archive.eventCount(instance: instance, since: threshold)
        return min(max(options.pageSize, known + known / 4 + 50), 20_000)
    }
}
