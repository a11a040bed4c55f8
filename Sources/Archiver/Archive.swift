import CSQLite
import Foundation

/// The archive: one SQLite file (WAL) holding every version of every event, notification and task
/// that cloudron-audit has read from one or more Cloudron servers, with a hash chain over it.
///
/// Thread safety: all methods run under the connection's lock (see `Database`), so an `Archive`
/// can be handed to the thread that does the blocking SQLite work. Keep that work off Swift's
/// cooperative thread pool.
public final class Archive: @unchecked Sendable {
    public enum AccessMode: Sendable { case readWrite, readOnly }

    public let path: String
    public let mode: AccessMode
    /// The connection, for the query module's read-only SQL.
    public let database: Database

    /// Opens the archive at `path`. Read-write creates it (mode 0600) when missing and upgrades an
    /// older schema in place; read-only never creates a file and refuses to write.
    /// `upgradeProgress` is told how an upgrade that rewrites archived rows advances (a progress line).
    public convenience init(path: String, mode: AccessMode = .readWrite,
                            upgradeProgress: @escaping (UpgradeProgress) -> Void = { _ in }) throws {
        try self.init(path: path, mode: mode, migrations: ArchiveSchema.migrations, upgradeProgress: upgradeProgress)
    }

    /// With another list of migrations: lets tests play an older or newer cloudron-audit.
    init(path: String, mode: AccessMode, migrations: [Migration],
         upgradeProgress: (UpgradeProgress) -> Void = { _ in }) throws {
        self.path = path
        self.mode = mode
        database = try Database(path: path, mode: mode == .readOnly ? .readOnly : .readWrite)
        try ArchiveSchema.prepare(database, now: Self.now(), migrations: migrations, progress: upgradeProgress)
    }

    public static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// Runs `body` in one transaction (BEGIN IMMEDIATE ... COMMIT; ROLLBACK when it throws; a
    /// SAVEPOINT when nested).
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try database.transaction(body)
    }

    /// The schema version stored in the file.
    public func schemaVersion() throws -> Int {
        Int(try database.scalarInt("PRAGMA user_version") ?? 0)
    }

    // MARK: Instances

    /// The id of the instance named `name`, created when new. A changed base URL is updated (a
    /// server can move to another domain). Never pass a token here: it would be stored.
    public func instanceID(name: String, baseURL: String) throws -> Int64 {
        try transaction {
            if let id = try database.scalarInt("SELECT id FROM instances WHERE name = ?", [.text(name)]) {
                try database.run("UPDATE instances SET base_url = ? WHERE id = ? AND base_url <> ?",
                                 [.text(baseURL), .integer(id), .text(baseURL)])
                return id
            }
            try database.run("INSERT INTO instances(name, base_url, created_at) VALUES (?, ?, ?)",
                             [.text(name), .text(baseURL), .integer(Self.now())])
            return database.lastInsertRowID
        }
    }

    /// The base URL recorded for the instance named `name`, or nil when the archive has none by that name.
    public func instanceBaseURL(name: String) throws -> String? {
        try database.scalarString("SELECT base_url FROM instances WHERE name = ?", [.text(name)])
    }

    // MARK: Sync runs

    public func beginRun(instance: Int64, streams: [String], startedAt: Int64) throws -> Int64 {
        try transaction {
            try database.run("INSERT INTO sync_runs(instance_id, streams, started_at, result) VALUES (?, ?, ?, 'running')",
                             [.integer(instance), .text(streams.joined(separator: ",")), .integer(startedAt)])
            return database.lastInsertRowID
        }
    }

    /// Closes a run and records the chain head it ended with (the anchor users can keep elsewhere);
    /// with a `signer`, also the signed head, which is returned for a witness file.
    @discardableResult
    public func finishRun(_ run: Int64, result: RunResult, finishedAt: Int64, counts: RunCounts, requests: Int,
                          errors: [String], unavailableStreams: [UnavailableStream] = [],
                          signer: HeadSigningKey? = nil) throws -> SignedHead? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let countsJSON = String(decoding: try encoder.encode(counts), as: UTF8.self)
        let errorsJSON = String(decoding: try encoder.encode(errors.map { $0.replacingNewlines() }), as: UTF8.self)
        let unavailableJSON = String(decoding: try encoder.encode(unavailableStreams.map {
            UnavailableStream(stream: $0.stream, reason: $0.reason.replacingNewlines())
        }), as: UTF8.self)
        return try transaction {
            let head = try chainHead()
            try database.run("""
                UPDATE sync_runs SET finished_at = ?, result = ?, counts = ?, requests = ?, errors = ?,
                    chain_length = ?, chain_head = ?, unavailable_streams = ? WHERE id = ?
                """, [.integer(finishedAt), .text(result.rawValue), .text(countsJSON), .integer(Int64(requests)),
                      .text(errorsJSON), .integer(head.length), .blob(head.link), .text(unavailableJSON), .integer(run)])
            guard database.changes == 1 else {
                throw SQLiteError(kind: .other, code: 0, message: "no sync run \(run)", context: path)
            }
            guard let signer else { return nil }
            return try signRun(run, head: head, at: finishedAt, with: signer)
        }
    }

    /// Whether `run` is its instance's first run that completed (success or gap). Derived from the runs,
    /// not stored: what `sync` says only once per server (that a read-only token is enough) hangs on it.
    public func isFirstCompletedRun(_ run: Int64, instance: Int64) throws -> Bool {
        try database.scalarInt("""
            SELECT NOT EXISTS (SELECT 1 FROM sync_runs WHERE instance_id = ? AND id < ? AND result IN (?, ?))
            """, [.integer(instance), .integer(run), .text(RunResult.success.rawValue), .text(RunResult.gap.rawValue)]) == 1
    }

    /// Marks runs that a killed process left `running` as `interrupted` (call while holding the sync
    /// lock, so that none of them is still alive), recording the chain head as their anchor, signed
    /// with `signer` when given (returned for a witness file).
    @discardableResult
    public func markInterruptedRuns(instance: Int64, signer: HeadSigningKey? = nil, now: Int64 = Archive.now()) throws
        -> [SignedHead] {
        try transaction {
            let head = try chainHead()
            var runs: [Int64] = []
            try database.forEachRow("SELECT id FROM sync_runs WHERE instance_id = ? AND result = 'running' ORDER BY id",
                                    [.integer(instance)]) { runs.append($0.int64(at: 0)) }
            try database.run("""
                UPDATE sync_runs SET result = 'interrupted', chain_length = ?, chain_head = ?
                WHERE instance_id = ? AND result = 'running'
                """, [.integer(head.length), .blob(head.link), .integer(instance)])
            guard let signer else { return [] }
            return try runs.map { try signRun($0, head: head, at: now, with: signer) }
        }
    }

    /// Signs a run's head and stores the statement and signature in its row (inside the caller's transaction).
    private func signRun(_ run: Int64, head: ChainHead, at epoch: Int64, with signer: HeadSigningKey) throws -> SignedHead {
        let instance = try database.scalarString(
            "SELECT i.name FROM sync_runs r JOIN instances i ON i.id = r.instance_id WHERE r.id = ?", [.integer(run)]) ?? ""
        let signed = try SignedHead.sign(HeadStatement(instance: instance, run: run, chain: head, at: epoch, key: signer.publicKey),
                                         with: signer)
        try database.run("UPDATE sync_runs SET head_statement = ?, head_signature = ? WHERE id = ?",
                         [.text(signed.statement), .blob(signed.signature), .integer(run)])
        return signed
    }

    // MARK: Stream state

    /// The sync engine's opaque state for a stream, or nil before its first commit.
    public func streamState(instance: Int64, stream: String) throws -> [UInt8]? {
        try database.withStatement("SELECT state FROM stream_state WHERE instance_id = ? AND stream = ?") { statement in
            try statement.bind([.integer(instance), .text(stream)])
            return try statement.step() ? statement.bytes(at: 0) : nil
        }
    }

    /// Saves a stream's state; call it in the same transaction as the rows it describes.
    public func saveStreamState(instance: Int64, stream: String, state: [UInt8]) throws {
        try database.run("""
            INSERT INTO stream_state(instance_id, stream, state, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT(instance_id, stream) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
            """, [.integer(instance), .text(stream), .blob(state), .integer(Self.now())])
    }

    // MARK: Event log positions

    /// The newest event creation time archived for the instance (the high-water mark).
    public func newestEventEpoch(instance: Int64) throws -> Int64? {
        try database.scalarInt("SELECT max(creation_epoch) FROM events WHERE instance_id = ?", [.integer(instance)])
    }

    /// Events created at or after `epoch`.
    public func eventCount(instance: Int64, since epoch: Int64) throws -> Int {
        Int(try database.scalarInt("SELECT count(*) FROM events WHERE instance_id = ? AND creation_epoch >= ?",
                                   [.integer(instance), .integer(epoch)]) ?? 0)
    }

    // MARK: Coverage and gaps

    /// Records that [from, to] (creation epochs, inclusive) is archived completely; merges it with
    /// every overlapping or adjacent range of the stream.
    public func addCoverage(instance: Int64, stream: String, from: Int64, to: Int64, run: Int64) throws {
        let (low, high) = (min(from, to), max(from, to))
        try transaction {
            var mergedFrom = low
            var mergedTo = high
            var absorbed: [Int64] = []
            try database.forEachRow("""
                SELECT id, from_epoch, to_epoch FROM coverage
                WHERE instance_id = ? AND stream = ? AND to_epoch >= ? - 1 AND from_epoch <= ? + 1
                """, [.integer(instance), .text(stream), .integer(low), .integer(high)]) { row in
                absorbed.append(row.int64(at: 0))
                mergedFrom = min(mergedFrom, row.int64(at: 1))
                mergedTo = max(mergedTo, row.int64(at: 2))
            }
            for id in absorbed { try database.run("DELETE FROM coverage WHERE id = ?", [.integer(id)]) }
            try database.run("INSERT INTO coverage(instance_id, stream, from_epoch, to_epoch, run_id) VALUES (?, ?, ?, ?, ?)",
                             [.integer(instance), .text(stream), .integer(mergedFrom), .integer(mergedTo), .integer(run)])
        }
    }

    /// Records a range the server pruned before it could be archived. The same range and reason
    /// recorded again is ignored.
    public func recordGap(instance: Int64, stream: String, from: Int64, to: Int64, reason: String, run: Int64) throws {
        try transaction {
            let known = try database.scalarInt("""
                SELECT count(*) FROM gaps WHERE instance_id = ? AND stream = ? AND from_epoch = ? AND to_epoch = ? AND reason = ?
                """, [.integer(instance), .text(stream), .integer(from), .integer(to), .text(reason)]) ?? 0
            guard known == 0 else { return }
            try database.run("""
                INSERT INTO gaps(instance_id, stream, from_epoch, to_epoch, reason, run_id, detected_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.integer(instance), .text(stream), .integer(from), .integer(to), .text(reason), .integer(run),
                      .integer(Self.now())])
        }
    }

    // MARK: Identity and chain head

    /// The archive's own id (schema 3), drawn once; keys its rows in a central store.
    public func archiveID() throws -> String {
        guard let id = try database.scalarString("SELECT archive_id FROM archive_identity WHERE singleton = 1") else {
            throw SQLiteError(kind: .notAnArchive, code: 0, message: "the archive has no id (archive_identity is empty)", context: path)
        }
        return id
    }

    /// The chain's current head: the number of chain records and the newest link.
    public func currentChainHead() throws -> (length: Int64, link: [UInt8]) {
        let head = try chainHead()
        return (head.length, head.link)
    }

    /// The link stored with chain record `sequence`, or nil when there is no such record.
    public func chainLink(at sequence: Int64) throws -> [UInt8]? {
        if sequence == 0 { return ChainHead.genesis.link }
        for table in ChainTable.allCases {
            if let link = try database.withStatement("SELECT chain_link FROM \(table.name) WHERE id = ?", { statement in
                try statement.bind([.integer(sequence)])
                return try statement.step() ? statement.bytes(at: 0) : nil
            }) { return link }
        }
        return nil
    }

    /// The newest chain record's sequence number and link, read from the file (never cached, so a
    /// rolled-back transaction cannot leave a stale head behind).
    func chainHead() throws -> ChainHead {
        var best = ChainHead.genesis
        for table in ChainTable.allCases {
            try database.forEachRow("SELECT id, chain_link FROM \(table.name) ORDER BY id DESC LIMIT 1") { row in
                let id = row.int64(at: 0)
                if id > best.length { best = ChainHead(length: id, link: row.bytes(at: 1)) }
            }
        }
        return best
    }
}
