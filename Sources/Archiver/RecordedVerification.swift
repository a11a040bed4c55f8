import Foundation

/// A full `verify` of the archive, as recorded in it (table `verifications`, schema 14): when, the chain it
/// covered (length and head link), its verdict, and which checks ran or could not.
///
/// The record lets `report --all` check only what was archived since (`Archive.verify(since:)`) instead of
/// the whole archive again, which takes minutes on years of evidence. It is not in the hash chain, on
/// purpose: it is a cache of a check anyone can rerun (`verify`, `report --all --full-verify`), not evidence
/// of what a server said. Whoever can write the archive can forge one, as they can every other unchained
/// row; the most a forged record does is make an incremental check start later, and a bundle's manifest
/// names the record it started from.
public struct RecordedVerification: Sendable, Codable, Equatable {
    static let table = "verifications"

    public var id: Int64
    /// When it finished, epoch seconds.
    public var checkedAt: Int64
    public var chainLength: Int64
    /// Hex of the link of record `chainLength` (32 zero bytes for an empty chain).
    public var chainHead: String
    public var intact: Bool
    public var problems: Int
    /// The checks that ran (`VerificationReport.Problem.Check` raw values).
    public var checks: [String]
    /// The checks that could not run, and why.
    public var notRun: [String]
}

extension Archive {
    /// `verify` that leaves a record for the next incremental check (the check `verify` and `report --all` run).
    ///
    /// With `incremental`, and when the newest recorded full verification is intact and the chain still
    /// has its head link at its length (one lookup), only what was archived since is checked (see
    /// `verify(since:)`); otherwise, and always with `signedHeads`, the whole archive, and that full check
    /// is recorded where the file can be written (see `record(_:at:)`).
    public func verifyRecording(at now: Int64, incremental: Bool = false, signedHeads: SignedHeadCheck? = nil) throws
        -> VerificationReport {
        if incremental, signedHeads == nil, let base = try continuableVerification() {
            return try verify(since: base)
        }
        let report = try verify(signedHeads: signedHeads)
        record(report, at: now)
        return report
    }

    /// The newest recorded full verification, nil when there is none.
    public func newestRecordedVerification() throws -> RecordedVerification? {
        try database.withStatement("""
            SELECT id, checked_at, chain_length, chain_head, intact, problems, checks, not_run
            FROM \(RecordedVerification.table) ORDER BY id DESC LIMIT 1
            """) { row in
            guard try row.step() else { return nil }
            let notRun = (try? JSONDecoder().decode([String].self, from: Data(row.bytes(at: 7)))) ?? []
            return RecordedVerification(id: row.int64(at: 0), checkedAt: row.int64(at: 1), chainLength: row.int64(at: 2),
                                        chainHead: Hex.string(row.bytes(at: 3)), intact: row.int64(at: 4) == 1,
                                        problems: Int(row.int64(at: 5)),
                                        checks: row.string(at: 6).split(separator: ",").map(String.init), notRun: notRun)
        }
    }

    /// The newest recorded full verification when an incremental check may continue it: it found the
    /// archive intact, it replayed the chain, and the chain still holds its head link at its length (a
    /// chain rewritten or cut below that head no longer does).
    func continuableVerification() throws -> RecordedVerification? {
        guard let newest = try newestRecordedVerification(), newest.intact,
              newest.checks.contains(VerificationReport.Problem.Check.chain.rawValue),
              let link = try chainLink(at: newest.chainLength), Hex.string(link) == newest.chainHead else { return nil }
        return newest
    }

    /// Records a full verification through a connection of its own (a reading session's is read-only).
    /// Where the file cannot be written (read-only media, no permission, a sync holding the write lock
    /// past the busy timeout) nothing is recorded and nothing said: the record only saves a later check
    /// time, and `verify` must work on evidence copied to read-only media.
    /// - Returns: whether it was recorded.
    @discardableResult
    func record(_ report: VerificationReport, at now: Int64) -> Bool {
        precondition(!report.isIncremental, "only a full verification is recorded")
        guard let notRun = try? JSONEncoder().encode(report.skipped),
              let connection = try? Database(path: path, mode: .readWrite) else { return false }
        do {
            try connection.run("""
                INSERT INTO \(RecordedVerification.table)(checked_at, chain_length, chain_head, intact, problems, checks, not_run)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.integer(now), .integer(report.chainLength), .blob([UInt8](hex: report.chainHead) ?? []),
                      .integer(report.isIntact ? 1 : 0), .integer(Int64(report.problems.count)),
                      .text(report.checks.map(\.rawValue).joined(separator: ",")), .textBytes(Array(notRun))])
            return true
        } catch {
            return false
        }
    }
}
