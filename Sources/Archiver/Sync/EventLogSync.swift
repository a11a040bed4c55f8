import Client
import Foundation

/// The event-log stream's persistent state, kept as JSON in the archive's stream-state table.
struct EventStreamState: Codable, Equatable {
    /// Newest `creationTime` archived by a *completed* run. Only a completed run moves it, so a run
    /// killed halfway leaves it where it was and the next run walks at least as deep again.
    var highWater: Int64?
}

/// What the event-log part of a run found.
public struct EventLogOutcome: Sendable, Equatable {
    public var counts = IngestCounts()
    public var listRequests = 0
    public var walks = 0
    /// Time range pruned by the server before it was archived, when this run found one.
    public var gap: ClosedRange<Int64>?
}

/// One lossless incremental pass over the event log.
///
/// The server pages newest-first by `creationTime` (1-second resolution, no tie-breaker, offset
/// paging only), so the walk relies on one fact checked against box: between two requests rows only
/// ever move *down* (new events and login upserts enter at the top; pruning removes the oldest).
/// Hence a walk from page 1 can only miss (a) rows of one second that a page boundary splits, since
/// every request shuffles tied rows afresh, and (b) rows that arrive at the top while it walks. (a) is
/// closed by reading every boundary-straddling second whole in one request (one request is one
/// consistent query, and `per_page` has no maximum); (b) by walking again from page 1 until a walk
/// finds nothing new. Duplicates are harmless: ingest dedupes by id and keeps changed rows as versions.
struct EventLogSync {
    let client: CloudronClient
    let archive: Archive
    let instance: Int64
    let run: Int64
    let options: SyncOptions
    let clock: @Sendable () -> Int64
    private(set) var outcome = EventLogOutcome()
    /// The most rows the server answers per request, once a capped page showed it.
    private var servedPageSize: Int?
    private var state: EventStreamState
    private let startedAt: Double

    /// Rows read by the last walk that changed the archive (new ids or new versions).
    private struct Walk {
        var top: Int64?
        var oldest: Int64?
        var reachedEnd = false
        var fresh = 0
    }

    init(client: CloudronClient, archive: Archive, instance: Int64, run: Int64, options: SyncOptions,
         clock: @escaping @Sendable () -> Int64) throws {
        self.client = client
        self.archive = archive
        self.instance = instance
        self.run = run
        self.options = options
        self.clock = clock
        if let bytes = try archive.streamState(instance: instance, stream: SyncStream.eventlog.rawValue) {
            state = try JSONDecoder().decode(EventStreamState.self, from: Data(bytes))
        } else {
            state = EventStreamState()
        }
        startedAt = Date().timeIntervalSince1970
    }

    mutating func sync() async throws -> EventLogOutcome {
        let previousHighWater = state.highWater
        // The gap test compares with what the archive really holds, not with the last completed run:
        // a run killed halfway may have archived newer rows already.
        let newestArchived = try archive.newestEventEpoch(instance: instance)
        let threshold = previousHighWater.map { $0 - options.marginSeconds }

        // An incremental run reads the margin in one request when it can: the archive knows how
        // many events that window held, and a no-op sync then costs two list requests in all.
        let firstPageSize = try threshold.map { try incrementalPageSize(since: $0) } ?? options.pageSize
        let first: Walk
        do {
            first = try await walkAdapting(stopBelow: threshold, pageSize: firstPageSize)
        } catch let error as ClientError where firstPageSize > options.pageSize
                    && [.responseTooLarge, .serverError, .malformedResponse].contains(error.category) {
            // The large page is only an optimisation; a server that cannot answer it (too large for the
            // response cap, or slower than its own request timeout) is walked with the usual page size.
            first = try await walkAdapting(stopBelow: threshold, pageSize: options.pageSize)
        }

        var gap: ClosedRange<Int64>?
        if first.reachedEnd, let newestBefore = newestArchived, let oldest = first.oldest, oldest > newestBefore {
            // The server no longer has anything at or before our newest event: whatever it held in
            // between was pruned before we could archive it.
            gap = newestBefore...oldest
        }
        let coveredFrom = first.reachedEnd ? first.oldest : threshold

        var top = first.top
        var rewalks = 0
        while rewalks < options.maxRewalks, let newest = top {
            let again = try await walkAdapting(stopBelow: newest, pageSize: min(options.pageSize, 100))
            rewalks += 1
            top = max(newest, again.top ?? newest)
            if again.fresh == 0 { break }
        }

        // The run's conclusions commit together: a crash before this point leaves the old high-water
        // mark, and the next run simply walks the same ground again.
        let finalTop = top
        state.highWater = [previousHighWater, finalTop].compactMap { $0 }.max()
        let finalState = state
        try archive.transaction {
            if let gap {
                try archive.recordGap(instance: instance, stream: SyncStream.eventlog.rawValue, from: gap.lowerBound,
                                      to: gap.upperBound, reason: "pruned by the server before it was archived", run: run)
            }
            if let from = coveredFrom, let to = finalTop, from <= to {
                try archive.addCoverage(instance: instance, stream: SyncStream.eventlog.rawValue, from: from, to: to, run: run)
            }
            try saveState(finalState)
        }
        outcome.gap = gap
        return outcome
    }

    /// `walk`, again with the server's page size when it turns out to cap `per_page` (box has no
    /// maximum, but a proxy or a later version may): offsets computed with the asked size would skip rows.
    private mutating func walkAdapting(stopBelow: Int64?, pageSize: Int) async throws -> Walk {
        do {
            return try await walk(stopBelow: stopBelow, pageSize: min(pageSize, servedPageSize ?? pageSize))
        } catch SyncError.pageSizeCapped(let served, _) where served < pageSize {
            servedPageSize = served
            return try await walk(stopBelow: stopBelow, pageSize: served)
        }
    }

    /// Pages from page 1 until a page ends below `stopBelow` (or at the end of the log).
    private mutating func walk(stopBelow: Int64?, pageSize: Int) async throws -> Walk {
        outcome.walks += 1
        var result = Walk()
        var page = 1
        var previousLast: Int64?
        var secondsReadWhole = Set<Int64>()
        // The next page is requested as soon as this one shows that the walk goes on, so the server's
        // answer (and its decoding, on the client's thread) overlaps this page's SQLite work. Whether the
        // walk goes on depends only on the page itself, so the requests made are the same as without it.
        var prefetched: Task<EventPage, any Error>?
        defer { prefetched?.cancel() }
        // Pages read but not yet committed (see `rowsPerCommit`); stored before the walk returns.
        var unstored: [Event] = []
        do {
        while true {
            let events: [Event]
            if let next = prefetched {
                prefetched = nil
                events = try await next.value.events
            } else {
                events = try await fetch(page: page, perPage: pageSize).events
            }
            let goesOn = events.count >= pageSize && !(stopBelow.map { stop in (events.last?.epochSeconds ?? stop) < stop } ?? false)
            if goesOn {
                outcome.listRequests += 1
                let client = self.client, nextPage = page + 1
                prefetched = Task { try await client.eventPage(page: nextPage, perPage: pageSize) }
            }
            var batch = events
            if let split = previousLast, let first = events.first, first.epochSeconds >= split,
               !secondsReadWhole.contains(split) {
                // The last second of the previous page may continue on this one, in another order.
                batch += try await readWholeSecond(split, nearOffset: (page - 1) * pageSize)
                secondsReadWhole.insert(split)
            }
            for event in batch {
                result.top = max(result.top ?? event.epochSeconds, event.epochSeconds)
                result.oldest = min(result.oldest ?? event.epochSeconds, event.epochSeconds)
            }
            unstored += batch
            // Rows near the server's 10-day retention edge are committed at once: if this run dies, the
            // next one may come after the server has pruned them.
            let nearRetentionEdge = (events.last?.epochSeconds ?? .max) < clock() - EventLogSync.retentionEdge
            if !goesOn || unstored.count >= EventLogSync.rowsPerCommit || nearRetentionEdge {
                try store(&unstored, into: &result)
            }

            if events.count < pageSize {
                // A short page ends the log, unless the server silently capped `per_page`: then the
                // next page is not empty. One request at the end of a walk that reaches the end.
                if !events.isEmpty, !(try await fetch(page: page + 1, perPage: pageSize).events.isEmpty) {
                    throw SyncError.pageSizeCapped(served: events.count, asked: pageSize)
                }
                result.reachedEnd = true
                return result
            }
            if let stop = stopBelow, let last = events.last, last.epochSeconds < stop {
                return result
            }
            previousLast = events.last?.epochSeconds
            page += 1
        }
        } catch {
            // A request that failed after all its retries must not take the pages already read with it.
            if !unstored.isEmpty { try? store(&unstored, into: &result) }
            throw error
        }
    }

    /// Age beyond which read rows are committed page by page (box prunes at 10 days, every 30 minutes).
    static let retentionEdge: Int64 = 9 * 86_400

    /// Rows committed together (ten pages of 500). Every commit rewrites each index page it touched,
    /// and new ids land all over the id index, so a commit per 500-row page rewrote hundreds of 16 KiB
    /// pages for 500 rows; 5,000 rows per commit took a 100,000-event backfill from 6.6–8 s to 3.8–4 s
    /// on the bench machine (BENCHMARKS.md, B1).
    /// Losing nothing does not depend on it: rows read but not committed when a run dies are read
    /// again by the next run, whose walk starts below the unchanged high-water mark.
    static let rowsPerCommit = 5000

    /// Ingests `rows` with the stream's state in one transaction and empties it.
    private mutating func store(_ rows: inout [Event], into result: inout Walk) throws {
        let stateNow = state
        let batch = rows
        rows.removeAll(keepingCapacity: true)
        let counts = try archive.transaction {
            let counts = try archive.ingest(events: batch, instance: instance, run: run, seenAt: clock())
            try saveState(stateNow)
            return counts
        }
        outcome.counts = outcome.counts + counts
        result.fresh += counts.inserted + counts.changed
        reportProgress()
    }

    /// Reads every event of one second in a single request, whose window is chosen to contain the
    /// whole group with a row of another second (or the log's start or end) on each side.
    private mutating func readWholeSecond(_ second: Int64, nearOffset offset: Int) async throws -> [Event] {
        var margin = 32
        for _ in 0..<8 {
            let window = EventLogSync.pageWindow(covering: max(0, offset - margin), offset + margin)
            let events = try await fetch(page: window.page, perPage: window.perPage).events
            let openAbove = window.page == 1 || (events.first.map { $0.epochSeconds > second } ?? false)
            // A short answer is the log's end, unless it is only as long as the server's known cap.
            let endOfLog = events.count < window.perPage && events.count < (servedPageSize ?? Int.max)
            let openBelow = endOfLog || (events.last.map { $0.epochSeconds < second } ?? false)
            if openAbove && openBelow {
                return events.filter { $0.epochSeconds == second }
            }
            margin *= 4
        }
        throw SyncError.tieGroupUnreadable(second: second)
    }

    /// The smallest `(page, perPage)` whose single page spans offsets `lo...hi`.
    static func pageWindow(covering lo: Int, _ hi: Int) -> (page: Int, perPage: Int) {
        var perPage = max(1, hi - lo + 1)
        while lo / perPage != hi / perPage { perPage += 1 }
        return (lo / perPage + 1, perPage)
    }

    private func incrementalPageSize(since threshold: Int64) throws -> Int {
        let known = try archive.eventCount(instance: instance, since: threshold)
        return min(max(options.pageSize, known + known / 4 + 50), 20_000)
    }

    private mutating func fetch(page: Int, perPage: Int) async throws -> EventPage {
        outcome.listRequests += 1
        return try await client.eventPage(page: page, perPage: perPage)
    }

    private func saveState(_ state: EventStreamState) throws {
        let bytes = try JSONEncoder().encode(state)
        try archive.saveStreamState(instance: instance, stream: SyncStream.eventlog.rawValue, state: Array(bytes))
    }

    private func reportProgress() {
        options.progress?(SyncProgress(stream: .eventlog, objects: outcome.counts.inserted + outcome.counts.changed,
                                       pages: outcome.listRequests,
                                       elapsedSeconds: Date().timeIntervalSince1970 - startedAt))
    }
}
