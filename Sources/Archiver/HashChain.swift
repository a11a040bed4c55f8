import Crypto

/// The canonical bytes of one archived record, as hashed into the chain.
///
/// Each field is a type tag, an 8-byte big-endian length and the bytes, so that no two different
/// rows can encode to the same bytes by moving a field boundary. The first field is the table
/// name, so a record cannot be moved to another table either.
struct CanonicalRecord {
    private(set) var bytes: [UInt8] = []

    init(table: String) {
        bytes.reserveCapacity(4096)
        append(table)
    }

    private mutating func appendHeader(_ tag: UInt8, _ length: Int) {
        bytes.append(tag)
        appendBigEndian(UInt64(length))
    }

    private mutating func appendBigEndian(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func append(_ value: Int64) {
        appendHeader(UInt8(ascii: "i"), 8)
        appendBigEndian(UInt64(bitPattern: value))
    }

    mutating func append(_ value: Int64?) {
        if let value { append(value) } else { appendNull() }
    }

    mutating func append(_ value: String) {
        let utf8 = Array(value.utf8)
        appendHeader(UInt8(ascii: "t"), utf8.count)
        bytes.append(contentsOf: utf8)
    }

    /// TEXT stored byte for byte (raw JSON).
    mutating func appendText(bytes text: [UInt8]) {
        appendHeader(UInt8(ascii: "t"), text.count)
        bytes.append(contentsOf: text)
    }

    mutating func appendBlob(_ blob: [UInt8]) {
        appendHeader(UInt8(ascii: "b"), blob.count)
        bytes.append(contentsOf: blob)
    }

    mutating func appendNull() {
        appendHeader(UInt8(ascii: "n"), 0)
    }
}

/// The hash chain over everything the archive has stored, in archive order.
///
/// Chain records are the rows of event_versions, notification_versions, task_versions and task_logs
/// (with its lines). Their INTEGER PRIMARY KEYs come from one shared sequence 1, 2, 3, ... without
/// holes, which is the archive order; each record stores
/// `chain_link = SHA-256(previous link || canonical bytes)`, the first record's previous link being
/// 32 zero bytes. The canonical bytes cover every column of the row except `chain_link` itself, plus
/// the parent's instance id and API id.
///
/// So altering any column, deleting a record or reordering records breaks the chain at that
/// record, which `verify` names. Truncating the newest records, or rewriting the tail and
/// recomputing its links, is only detectable against an anchor kept outside that part of the
/// chain: each sync run stores the head (length and link) it ended with (`sync_runs.chain_head`),
/// `status` prints it, and users who copy it elsewhere can detect any later rewrite.
struct ChainHead: Equatable {
    /// Sequence number of the newest record; 0 when the chain is empty.
    var length: Int64
    var link: [UInt8]

    static let genesis = ChainHead(length: 0, link: [UInt8](repeating: 0, count: 32))

    static func link(previous: [UInt8], record: CanonicalRecord) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: record.bytes)
        return Array(hasher.finalize())
    }

    /// Appends a record that will be stored with sequence number `length + 1`.
    mutating func append(_ record: CanonicalRecord) -> (sequence: Int64, link: [UInt8]) {
        link = Self.link(previous: link, record: record)
        length += 1
        return (length, link)
    }
}

enum ContentHash {
    static func of(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
}

/// Lower-case hex, as chain heads, file digests and blobs are printed.
public enum Hex {
    public static func string(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    var hexString: String { Hex.string(self) }
}
