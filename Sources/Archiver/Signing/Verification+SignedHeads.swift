import Foundation

/// What `verify --public-key FILE.pub [--witness PATH]` adds to the checks.
public struct SignedHeadCheck: Sendable {
    public var publicKey: HeadPublicKey
    /// The witness file's lines (numbered from 1), or nil without `--witness`.
    public var witness: [(number: Int, text: String)]?

    public init(publicKey: HeadPublicKey, witness: [(number: Int, text: String)]? = nil) {
        self.publicKey = publicKey
        self.witness = witness
    }
}

/// A chain head that the chain must still reach: recorded by a run (`source` nil) or signed (`source`
/// says where the signature was found).
typealias HeadClaim = ChainReplay.Anchor

extension Archive {
    /// Checks every run's signed head and every witness line against the key and the runs' rows, and
    /// returns the signed heads the chain walk must then confirm.
    ///
    /// Which tampering each part catches: a record rewritten with its links recomputed (and the run's
    /// recorded head with them) leaves the run's signature over the old head, so the chain no longer
    /// reaches it; a head re-recorded to match has no valid signature; a removed signature leaves a run
    /// unsigned after signed ones; runs deleted from the end (with their records) are still in the witness.
    func checkSignedHeads(_ check: SignedHeadCheck, problems: inout [VerificationReport.Problem]) throws -> [HeadClaim] {
        struct Run {
            var id: Int64
            var instance: String
            var result: String
            var length: Int64?
            var head: [UInt8]?
            var signed: SignedHead?
        }
        var runs: [Int64: Run] = [:]
        var order: [Int64] = []
        try database.forEachRow("""
            SELECT r.id, coalesce(i.name, ''), r.result, r.chain_length, r.chain_head, r.head_statement, r.head_signature
            FROM sync_runs r LEFT JOIN instances i ON i.id = r.instance_id ORDER BY r.id
            """) { row in
            let signed = row.optionalString(at: 5).map { SignedHead(statement: $0, signature: row.optionalBytes(at: 6) ?? []) }
            let run = Run(id: row.int64(at: 0), instance: row.string(at: 1), result: row.string(at: 2),
                          length: row.optionalInt64(at: 3), head: row.optionalBytes(at: 4), signed: signed)
            runs[run.id] = run
            order.append(run.id)
        }
        func problem(_ run: Int64?, _ detail: String) {
            problems.append(.init(check: .signature, table: run == nil ? nil : "sync_runs", rowid: run, detail: detail))
        }
        var claims: [HeadClaim] = []
        var firstSigned: Int64?
        for id in order {
            guard let run = runs[id] else { continue }
            guard let signed = run.signed else {
                if let firstSigned, run.result != RunResult.running.rawValue {
                    problem(id, "run \(id) has no signed head although run \(firstSigned) before it was signed (signature removed, or a sync without --sign-key)")
                }
                continue
            }
            firstSigned = firstSigned ?? id
            guard signed.isSigned(by: check.publicKey) else {
                problem(id, "run \(id)'s signed head does not verify with key \(check.publicKey.fingerprint) (the run's record was altered, or another key signed it)")
                continue
            }
            guard let statement = signed.decoded, let head = [UInt8](hex: statement.head), statement.run == id,
                  statement.instance == run.instance, statement.length == run.length, head == run.head else {
                problem(id, "run \(id)'s recorded chain head differs from the head it signed (the run's record was altered)")
                continue
            }
            claims.append(HeadClaim(run: id, length: statement.length, head: head, source: "signed head"))
        }
        if firstSigned == nil {
            problem(nil, "no sync run has a signed head — sync with --sign-key FILE before verifying with --public-key")
        }
        guard let witness = check.witness else { return claims }
        if witness.isEmpty { problem(nil, "the witness file holds no signed head") }
        for line in witness {
            guard let signed = SignedHead(witnessLine: line.text), let statement = signed.decoded,
                  let head = [UInt8](hex: statement.head) else {
                problem(nil, "witness line \(line.number) is not a signed chain head")
                continue
            }
            guard signed.isSigned(by: check.publicKey) else {
                problem(statement.run, "witness line \(line.number) (run \(statement.run)) does not verify with key \(check.publicKey.fingerprint)")
                continue
            }
            if let run = runs[statement.run] {
                if run.signed?.statement != signed.statement {
                    problem(statement.run, "run \(statement.run)'s record differs from its signed head in the witness (line \(line.number))")
                }
            } else {
                problem(statement.run, "run \(statement.run) (witness line \(line.number)) is missing from the archive: runs were deleted")
            }
            claims.append(HeadClaim(run: statement.run, length: statement.length, head: head,
                                    source: "signed head in witness line \(line.number)"))
        }
        return claims
    }
}

extension Array where Element == UInt8 {
    /// Bytes from lower- or upper-case hex; nil for anything else.
    init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self = bytes
    }
}
