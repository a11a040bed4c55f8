/// Recomputes the hash chain from its records, fed in sequence order, and checks the chain heads
/// that sync runs recorded. The one implementation behind `verify` on the archive and `verify --from`
/// on a central store, so both read the same canonical bytes (`VersionRecord`, `TaskLogRecord`).
public struct ChainReplay: Sendable {
    /// A chain head the chain must pass through: recorded by a sync run, or signed (`source` says
    /// where the claim comes from: a run's signed head, a witness line).
    public struct Anchor: Sendable {
        public var run: Int64
        public var length: Int64
        public var head: [UInt8]
        public var source: String?
        public init(run: Int64, length: Int64, head: [UInt8], source: String? = nil) {
            self.run = run
            self.length = length
            self.head = head
            self.source = source
        }
    }

    private var head = ChainHead.genesis
    private var anchors: [Int64: [Anchor]] = [:]
    public private(set) var problems: [VerificationReport.Problem] = []
    /// False once a problem was found: the records after it are not checked.
    public var isIntact: Bool { problems.isEmpty }
    public var length: Int64 { head.length }
    public var headHex: String { Hex.string(head.link) }

    public init(anchors: [Anchor]) {
        self.init(anchors: anchors, from: 0, link: ChainHead.genesis.link)
    }

    /// Replays from a head already verified: the record `length + 1` and later are fed, chained to `link`
    /// (an incremental verification, from a recorded full one).
    public init(anchors: [Anchor], from length: Int64, link: [UInt8]) {
        head = ChainHead(length: length, link: link)
        for anchor in anchors { self.anchors[anchor.length, default: []].append(anchor) }
        checkAnchors()
    }

    private mutating func checkAnchors() {
        let length = head.length
        for anchor in anchors[length] ?? [] where anchor.head != head.link {
            let detail = anchor.source.map { "run \(anchor.run)'s \($0) does not match the chain at \(length) records: records up to there were rewritten" }
                ?? "chain head recorded at \(length) records does not match the chain"
            problems.append(.init(check: .anchor, table: "sync_runs", rowid: anchor.run, detail: detail))
            return
        }
    }

    /// Feeds a row of a version table; false when it broke the chain (stop feeding then).
    @discardableResult
    public mutating func feedVersion(table: String, id: Int64, parentID: Int64, instanceID: Int64, apiID: String,
                                     version: Int64, raw: [UInt8], contentHash: [UInt8], creationEpoch: Int64,
                                     firstSeenAt: Int64, runID: Int64, link: [UInt8]) -> Bool {
        guard let kind = ObjectKind.allCases.first(where: { $0.versionTable == table }) else {
            problems.append(.init(check: .chain, table: table, rowid: id, detail: "not a version table"))
            return false
        }
        let record = VersionRecord(kind: kind, id: id, parentID: parentID, instanceID: instanceID, apiID: apiID,
                                   version: version, raw: raw, contentHash: contentHash, creationEpoch: creationEpoch,
                                   firstSeenAt: firstSeenAt, runID: runID)
        return feed(table: table, sequence: id, record: record.canonical, link: link, apiID: apiID)
    }

    /// One line of a task log, as `feedTaskLog` takes it.
    public struct LogLine: Sendable {
        public var lineNo: Int64
        public var timestampMicroseconds: Int64
        public var message: String
        public var raw: [UInt8]
        public init(lineNo: Int64, timestampMicroseconds: Int64, message: String, raw: [UInt8]) {
            self.lineNo = lineNo
            self.timestampMicroseconds = timestampMicroseconds
            self.message = message
            self.raw = raw
        }
    }

    /// Feeds a task log with its lines; false when it broke the chain.
    @discardableResult
    public mutating func feedTaskLog(id: Int64, taskRowID: Int64, instanceID: Int64, apiID: String, rotated: Int64,
                                     lineCount: Int64, contentHash: [UInt8], firstSeenAt: Int64, runID: Int64,
                                     lines: [LogLine], link: [UInt8]) -> Bool {
        let record = TaskLogRecord(id: id, taskRowID: taskRowID, instanceID: instanceID, apiID: apiID, rotated: rotated,
                                   lineCount: lineCount, contentHash: contentHash, firstSeenAt: firstSeenAt, runID: runID,
                                   lines: lines.map { .init(lineNo: $0.lineNo, timestampMicroseconds: $0.timestampMicroseconds,
                                                            message: $0.message, raw: $0.raw) })
        return feed(table: ChainTable.taskLogs.name, sequence: id, record: record.canonical, link: link, apiID: apiID)
    }

    /// Feeds a quarantined element; false when it broke the chain.
    @discardableResult
    public mutating func feedQuarantine(id: Int64, instanceID: Int64, stream: String, apiID: String?, reason: String,
                                        raw: [UInt8], contentHash: [UInt8], placeEpoch: Int64?, firstSeenAt: Int64,
                                        runID: Int64, link: [UInt8]) -> Bool {
        let record = QuarantineRecord(id: id, instanceID: instanceID, stream: stream, apiID: apiID, reason: reason, raw: raw,
                                      contentHash: contentHash, placeEpoch: placeEpoch, firstSeenAt: firstSeenAt, runID: runID)
        return feed(table: ChainTable.quarantine.name, sequence: id, record: record.canonical, link: link, apiID: apiID ?? "")
    }

    /// Feeds a source-tamper alarm; false when it broke the chain.
    @discardableResult
    public mutating func feedAlarm(id: Int64, instanceID: Int64, stream: String, kind: String, apiID: String, detail: String,
                                   noticedAt: Int64, runID: Int64, link: [UInt8]) -> Bool {
        let record = AlarmRecord(id: id, instanceID: instanceID, stream: stream, kind: kind, apiID: apiID, detail: detail,
                                 noticedAt: noticedAt, runID: runID)
        return feed(table: ChainTable.alarms.name, sequence: id, record: record.canonical, link: link, apiID: apiID)
    }

    mutating func feed(table: String, sequence: Int64, record: CanonicalRecord, link: [UInt8], apiID: String) -> Bool {
        guard isIntact else { return false }
        let expected = head.length + 1
        if sequence != expected {
            let detail = sequence > expected
                ? "chain record \(expected) is missing (deleted or renumbered) before this one"
                : "chain sequence number \(sequence) is used twice"
            problems.append(.init(check: .chain, table: table, rowid: sequence, apiID: apiID, detail: detail))
            return false
        }
        let computed = ChainHead.link(previous: head.link, record: record)
        guard computed == link else {
            problems.append(.init(check: .chain, table: table, rowid: sequence, apiID: apiID,
                                  detail: "record differs from what was archived (altered, moved or its link rewritten)"))
            return false
        }
        head = ChainHead(length: expected, link: computed)
        checkAnchors()
        return isIntact
    }

    /// Call after the last record: a run that recorded more records than the chain has means the
    /// newest ones were deleted.
    public mutating func finish() {
        guard isIntact, let beyond = anchors.keys.filter({ $0 > head.length }).min(),
              let claim = anchors[beyond]?.first else { return }
        let source = claim.source.map { " (\($0))" } ?? ""
        problems.append(.init(check: .anchor, table: "sync_runs", rowid: claim.run,
                              detail: "run \(claim.run) ended with \(beyond) chain records\(source) but the archive has \(head.length): the newest records were deleted"))
    }
}
