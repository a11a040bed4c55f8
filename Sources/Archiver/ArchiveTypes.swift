/// What one ingest call did with the objects it was given.
public struct IngestCounts: Sendable, Equatable, Codable {
    /// Ids the archive had never seen: a new object with version 1.
    public var inserted: Int
    /// Known ids whose content differs from their current version: a new version.
    public var changed: Int
    /// Known ids with the same content as their current version: nothing written.
    public var unchanged: Int

    public init(inserted: Int = 0, changed: Int = 0, unchanged: Int = 0) {
        self.inserted = inserted
        self.changed = changed
        self.unchanged = unchanged
    }

    public static func + (lhs: IngestCounts, rhs: IngestCounts) -> IngestCounts {
        IngestCounts(inserted: lhs.inserted + rhs.inserted, changed: lhs.changed + rhs.changed,
                     unchanged: lhs.unchanged + rhs.unchanged)
    }

    public static func += (lhs: inout IngestCounts, rhs: IngestCounts) { lhs = lhs + rhs }
}

/// How a sync run ended. `interrupted` is set on the next run for runs a killed process left `running`.
public enum RunResult: String, Sendable, Codable, CaseIterable {
    case running, success, gap, failed, interrupted
}

/// Per-stream counts of one sync run, stored as JSON in `sync_runs.counts`.
public struct RunCounts: Sendable, Equatable, Codable {
    public var streams: [String: IngestCounts]

    public init(streams: [String: IngestCounts] = [:]) { self.streams = streams }

    public subscript(stream: String) -> IngestCounts {
        get { streams[stream] ?? IngestCounts() }
        set { streams[stream] = newValue }
    }

    public mutating func add(_ counts: IngestCounts, to stream: String) { self[stream] += counts }
}
