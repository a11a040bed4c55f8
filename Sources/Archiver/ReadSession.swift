/// The one way to read an archive: every command that only reads (listings, search, reports, status,
/// verify) opens a session and runs all of its SQL through it.
///
/// A session owns its connection, read-only (`SQLITE_OPEN_READONLY` and `PRAGMA query_only`, so SQL
/// handed in by a user, a report, cannot change evidence) with the reader's settings (`Database.Mode`).
/// It also owns the snapshot: one read transaction from its first statement until it is released, so
/// a sync committing meanwhile cannot make one answer (the two phases of an event listing, every file
/// and the manifest of `report --all`, the counts of `status`) describe two moments.
///
/// Not thread-safe: use a session from one thread at a time, off Swift's cooperative pool.
public final class ReadSession: @unchecked Sendable {
    private let archive: Archive

    /// The archive file's path as given.
    public var path: String { archive.path }

    /// Opens the archive at `path` for reading.
    ///
    /// An archive written by an older cloudron-audit is upgraded in place first, once, as `sync` would:
    /// migrations only add tables and indexes and never touch an archived row, and without them the
    /// queries of this version cannot run. Where the file cannot be written (read-only media, a copied
    /// evidence folder), the read-only open reports the old schema instead.
    /// While another process upgrades the file, the session waits for it to finish (see
    /// `ArchiveSchema.prepare`) rather than read a shape its queries do not expect.
    /// - Parameter upgradeProgress: told how an upgrade made by this session advances.
    /// - Throws: `SQLiteError` (no such file, not an archive, a schema too old or too new, damage).
    public init(path: String, upgradeProgress: @escaping (UpgradeProgress) -> Void = { _ in }) throws {
        let archive: Archive
        do {
            archive = try Archive(path: path, mode: .readOnly)
        } catch let error as SQLiteError {
            guard case .schemaTooOld = error.kind else { throw error }
            _ = try? Archive(path: path, mode: .readWrite, upgradeProgress: upgradeProgress)
            archive = try Archive(path: path, mode: .readOnly)
        }
        // Deferred: the snapshot is taken by the first statement that reads.
        try archive.database.execute("BEGIN")
        self.archive = archive
    }

    deinit {
        // Nothing was written: ending the read transaction only releases the snapshot.
        try? archive.database.execute("COMMIT")
    }

    /// A new statement over the snapshot, owned by the caller.
    public func prepare(_ sql: String) throws -> Statement {
        try archive.database.prepare(sql)
    }

    /// Calls `row` for each result row of `sql` with `values` bound.
    public func forEachRow(_ sql: String, _ values: [SQLValue] = [], _ row: (Statement) throws -> Void) throws {
        try archive.database.forEachRow(sql, values, row)
    }

    /// What the archive holds (see `Archive.status(configured:)`).
    public func status(configured: [ConfiguredServer]? = nil) throws -> ArchiveStatus {
        try archive.status(configured: configured)
    }

    /// Every source-tamper alarm, oldest first (see `Archive.alarms()`).
    public func alarms() throws -> [SourceAlarm] {
        try archive.alarms()
    }

    /// Checks the archive, and with `signedHeads` its signed heads and witness (see `Archive.verify(signedHeads:)`),
    /// and records the check in the archive where the file can be written; with `incremental`, only what was
    /// archived since the newest recorded one when that can be continued (see `Archive.verifyRecording`).
    public func verify(signedHeads: SignedHeadCheck? = nil, incremental: Bool = false,
                       now: Int64 = Archive.now()) throws -> VerificationReport {
        try archive.verifyRecording(at: now, incremental: incremental, signedHeads: signedHeads)
    }

    /// The archive's id (see `Archive.archiveID()`).
    public func archiveID() throws -> String {
        try archive.archiveID()
    }

    public func schemaVersion() throws -> Int {
        try archive.schemaVersion()
    }

    /// The chain's head in the snapshot: the number of chain records and the newest link.
    public func chainHead() throws -> (length: Int64, link: [UInt8]) {
        try archive.currentChainHead()
    }

    /// The link stored with chain record `sequence` (32 zero bytes for 0), nil when there is none.
    public func chainLink(at sequence: Int64) throws -> [UInt8]? {
        try archive.chainLink(at: sequence)
    }

    /// The recorded coverage and gaps (see `Archive.recordedRanges`).
    public func recordedRanges(within window: RecordedRanges.Window = RecordedRanges.Window()) throws -> [RecordedRanges] {
        try archive.recordedRanges(within: window)
    }
}
