import Client
import Foundation

/// Walks a newest-first list from page 1 without losing an object, committing what it reads as it goes.
///
/// Box pages its lists newest-first by `creationTime` (1-second resolution, no tie-breaker for events
/// and notifications, offset paging only), so the walk relies on one fact checked against box: between
/// two requests rows only ever move *down* (new objects and login upserts enter at the top; pruning
/// removes the oldest). Hence a walk from page 1 can only miss (a) rows of one second that a page
/// boundary splits, since every request shuffles tied rows afresh, and (b) rows that arrive at the top
/// while it walks. (a) is closed here by reading every boundary-straddling second whole in one request
/// (one request is one consistent query, and `per_page` has no maximum); (b) by the caller walking again
/// from page 1 until a walk finds nothing new. Duplicates are harmless: ingest dedupes by id and keeps
/// changed rows as versions.
struct NewestFirstWalk<Item: ListedObject> {
    var reader: PageReader<Item>
    /// Archives a batch of read objects (and quarantines its malformed ones), with the stream's state,
    /// in one transaction.
    let archiveBatch: (ListPage<Item>) throws -> IngestCounts
    /// Seconds since the epoch, on the server's clock as far as retention goes.
    let clock: @Sendable () -> Int64
    let progress: (@Sendable (SyncProgress) -> Void)?
    /// What every pass so far archived.
    private(set) var counts = IngestCounts()
    private(set) var passes = 0
    /// The malformed elements met by every pass so far (kept in quarantine), by their bytes.
    private(set) var quarantined = Set<[UInt8]>()
    /// Walks `rewalk` made. A login that box rewrote while the first walk was still above its old place
    /// is missed by that walk, and sits at the top for the first rewalk to find.
    private(set) var rewalks = 0
    private let startedAt = Date().timeIntervalSince1970

    init(reader: PageReader<Item>, clock: @escaping @Sendable () -> Int64,
         progress: (@Sendable (SyncProgress) -> Void)?, archiveBatch: @escaping (ListPage<Item>) throws -> IngestCounts) {
        self.reader = reader
        self.clock = clock
        self.progress = progress
        self.archiveBatch = archiveBatch
    }

    /// What one pass read.
    struct Pass {
        var top: Int64?
        var oldest: Int64?
        var reachedEnd = false
        /// Objects that changed the archive (new ids or new versions).
        var fresh = 0
        /// The oldest `creationTime` on the last non-empty page read: at the end of the list, what the
        /// server still held when the pass got there (its retention edge, as far as this pass can tell).
        var lastPageOldest: Int64?
    }

    /// Age beyond which read rows are committed page by page (box prunes events at 10 days, every 30
    /// minutes, and the notifications that point at them).
    static var retentionEdge: Int64 { 9 * 86_400 }

    /// Rows committed together (ten pages of 500). Every commit rewrites each index page it touched, and
    /// new ids land all over the id index, so committing every page costs most of a backfill's time
    /// (Benchmarks/NOTES.md, B1). Losing nothing does not depend on it: rows read but not committed when
    /// a run dies are read again by the next run, whose walk starts below the unchanged high-water mark.
    static var rowsPerCommit: Int { 5000 }

    /// `pass`, again with the server's page size when it turns out to cap `per_page`.
    mutating func passAdapting(stopBelow: Int64?, pageSize: Int) async throws -> Pass {
        do {
            return try await pass(stopBelow: stopBelow, pageSize: reader.pageSize(pageSize))
        } catch SyncError.pageSizeCapped(_, let served, _) where served < pageSize {
            return try await pass(stopBelow: stopBelow, pageSize: reader.pageSize(pageSize))
        }
    }

    /// Walks again from page 1 down to `top` while each walk finds something new (objects that arrived
    /// at the top, or moved there, while the last one walked), at most `limit` times. Returns the newest
    /// second seen; whatever arrives after the last walk is picked up by the next run.
    mutating func rewalk(below top: Int64?, pageSize: Int, limit: Int) async throws -> Int64? {
        var top = top
        var rewalks = 0
        while rewalks < limit, let newest = top {
            let again = try await passAdapting(stopBelow: newest, pageSize: pageSize)
            rewalks += 1
            top = max(newest, again.top ?? newest)
            self.rewalks += 1
            if again.fresh == 0 { break }
        }
        return top
    }

    /// Pages from page 1 until a page ends below `stopBelow` (or at the end of the list).
    mutating func pass(stopBelow: Int64?, pageSize: Int) async throws -> Pass {
        passes += 1
        var result = Pass()
        var previousLast: Int64?
        var previousEndsMalformed = false
        var secondsReadWhole = Set<Int64>()
        // Pages read but not yet committed (see `rowsPerCommit`); committed before the pass returns.
        var uncommitted = ListPage<Item>(items: [])
        defer { reader.cancelPrefetch() }
        do {
            var page = 1
            while true {
                let answer = try await reader.page(page, perPage: pageSize)
                let items = answer.items
                let isShort = answer.count < pageSize
                let reachesStop = stopBelow.map { stop in (items.last?.epochSeconds ?? stop) < stop } ?? false
                // Whether the pass goes on depends only on this page: the next one can be on its way.
                if !isShort && !reachesStop { reader.prefetch(page + 1, perPage: pageSize) }

                var batch = items
                if let split = previousLast, let first = items.first {
                    // The last second of the previous page may continue on this one, in another order. A
                    // malformed object at the boundary hides which second continues: both are read whole.
                    let boundaryHidden = previousEndsMalformed || answer.startsMalformed
                    var straddling: [Int64] = []
                    if first.epochSeconds >= split || boundaryHidden { straddling.append(split) }
                    if boundaryHidden, first.epochSeconds != split { straddling.append(first.epochSeconds) }
                    for second in straddling where !secondsReadWhole.contains(second) {
                        let group = try await reader.readWholeSecond(second, nearOffset: (page - 1) * pageSize)
                        batch += group.items
                        uncommitted.malformed += group.malformed
                        secondsReadWhole.insert(second)
                    }
                }
                if let last = items.last { result.lastPageOldest = last.epochSeconds }
                for item in batch {
                    result.top = max(result.top ?? item.epochSeconds, item.epochSeconds)
                    result.oldest = min(result.oldest ?? item.epochSeconds, item.epochSeconds)
                }
                uncommitted.items += batch
                uncommitted.malformed += answer.malformed
                // Rows near the retention edge are committed at once: if this run dies, the next one may
                // come after the server has pruned them.
                let nearRetentionEdge = (items.last?.epochSeconds ?? .max) < clock() - Self.retentionEdge
                if isShort || reachesStop || uncommitted.count >= Self.rowsPerCommit || nearRetentionEdge {
                    try commit(&uncommitted, into: &result)
                }

                if isShort {
                    try await reader.confirmEnd(answer, page: page, perPage: pageSize)
                    result.reachedEnd = true
                    return result
                }
                if reachesStop { return result }
                previousLast = items.last?.epochSeconds ?? previousLast
                previousEndsMalformed = answer.endsMalformed || (items.isEmpty && previousEndsMalformed)
                page += 1
            }
        } catch {
            // A request that failed after all its retries must not take the pages already read with it.
            if uncommitted.count > 0 { try? commit(&uncommitted, into: &result) }
            throw error
        }
    }

    private mutating func commit(_ pending: inout ListPage<Item>, into result: inout Pass) throws {
        let batch = pending
        pending.items.removeAll(keepingCapacity: true)
        pending.malformed.removeAll()
        let committed = try archiveBatch(batch)
        quarantined.formUnion(batch.malformed.map(\.raw))
        counts = counts + committed
        result.fresh += committed.inserted + committed.changed
        progress?(SyncProgress(stream: reader.stream, objects: counts.inserted + counts.changed,
                               pages: reader.requests, elapsedSeconds: Date().timeIntervalSince1970 - startedAt))
    }
}
