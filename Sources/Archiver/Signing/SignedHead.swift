import Foundation

/// What a signed chain head asserts: "when run `run` of `instance` ended, the archive's hash chain had
/// `length` records and its newest link was `head`", signed by `key`.
///
/// A sync run's own row already records its head, but whoever can rewrite the archive can rewrite
/// that too. The signature (made with a key kept off the archive) pins the head: a rewritten record
/// changes every later link, so the chain no longer reaches a signed head, and a forged head carries
/// no valid signature. A head appended to a witness file elsewhere also survives the deletion of the
/// newest runs, which nothing inside the archive can.
public struct HeadStatement: Sendable, Codable, Equatable {
    public static let currentFormat = "cloudron-audit-head/1"

    public var format: String
    public var instance: String
    public var run: Int64
    public var length: Int64
    /// The newest link, hex.
    public var head: String
    /// When the head was signed (the run's end), ISO 8601 UTC.
    public var at: String
    /// The signing key's raw public key, base64.
    public var key: String

    init(instance: String, run: Int64, chain: ChainHead, at epoch: Int64, key: HeadPublicKey) {
        format = Self.currentFormat
        self.instance = instance
        self.run = run
        length = chain.length
        head = chain.link.hexString
        at = HeadStatement.isoTime(epoch)
        self.key = Data(key.raw).base64EncodedString()
    }

    static func isoTime(_ epoch: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(epoch)))
    }
}

/// A head statement with its Ed25519 signature. `statement` is kept as the exact text that was signed
/// (compact JSON), so that checking a signature never depends on re-serializing anything.
public struct SignedHead: Sendable, Equatable {
    public var statement: String
    public var signature: [UInt8]

    public init(statement: String, signature: [UInt8]) {
        self.statement = statement
        self.signature = signature
    }

    static func sign(_ statement: HeadStatement, with key: HeadSigningKey) throws -> SignedHead {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = String(decoding: try encoder.encode(statement), as: UTF8.self)
        return SignedHead(statement: text, signature: try key.signature(for: Array(text.utf8)))
    }

    /// The statement's fields, or nil when the text is not a statement this version understands.
    public var decoded: HeadStatement? {
        guard let statement = try? JSONDecoder().decode(HeadStatement.self, from: Data(statement.utf8)),
              statement.format == HeadStatement.currentFormat else { return nil }
        return statement
    }

    public func isSigned(by key: HeadPublicKey) -> Bool {
        key.isValidSignature(signature, for: Array(statement.utf8))
    }

    // MARK: Witness lines

    private struct Line: Codable {
        var statement: String
        var signature: String
    }

    /// One line of a witness file: `{"signature":"<base64>","statement":"<the signed text>"}`.
    /// Checkable without cloudron-audit: the statement string's UTF-8 bytes are what was signed
    /// (`openssl pkeyutl -verify -pubin -inkey FILE.pub -rawin -in statement -sigfile signature`).
    public var witnessLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = Line(statement: statement, signature: Data(signature).base64EncodedString())
        return String(decoding: (try? encoder.encode(line)) ?? Data(), as: UTF8.self)
    }

    public init?(witnessLine text: String) {
        guard let line = try? JSONDecoder().decode(Line.self, from: Data(text.utf8)),
              let signature = Data(base64Encoded: line.signature) else { return nil }
        self.init(statement: line.statement, signature: Array(signature))
    }
}

/// An append-only file of signed heads outside the archive (another disk, a WORM bucket's mount, a file
/// a log shipper tails): `sync --witness PATH` appends one line per signed head, `verify --witness`
/// checks the archive against every line.
///
/// Opened before the sync starts, so a path that cannot be written fails the run before it reads
/// anything. Each line goes out in one `write` on an O_APPEND descriptor (whole lines, even with several
/// writers) and is fsynced: a head the archive committed is on the witness's disk before `sync` exits.
public final class WitnessFile: Sendable {
    public let path: String
    private let descriptor: Int32

    public init(appendingTo path: String) throws {
        self.path = path
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SigningError.cannotWrite(path: path, errno: errno) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    public func append(_ head: SignedHead) throws {
        let bytes = Array((head.witnessLine + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw SigningError.cannotWrite(path: path, errno: written < 0 ? errno : EIO) }
        guard fsync(descriptor) == 0 else { throw SigningError.cannotWrite(path: path, errno: errno) }
    }

    /// Every line of a witness file, numbered from 1, as `verify` reads it (empty lines skipped).
    public static func lines(path: String) throws -> [(number: Int, text: String)] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SigningError.missingFile(path: path, what: "witness")
        }
        var result: [(Int, String)] = []
        for (offset, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            result.append((offset + 1, String(line)))
        }
        return result
    }
}
