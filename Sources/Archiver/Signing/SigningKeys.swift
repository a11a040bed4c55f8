import Client
import Crypto
import Foundation

/// The Ed25519 private key that signs chain heads and report manifests (`key generate`, `--sign-key`).
///
/// Stored as a PKCS#8 PEM file (`-----BEGIN PRIVATE KEY-----`), the format `openssl genpkey -algorithm
/// ed25519` writes, so that the key and every signature can be checked with stock tools. The file is
/// refused when group or others can read it, as token files are (`SecretFile`).
public struct HeadSigningKey: Sendable {
    let key: Curve25519.Signing.PrivateKey

    init(key: Curve25519.Signing.PrivateKey) { self.key = key }

    public static func generate() -> HeadSigningKey { HeadSigningKey(key: Curve25519.Signing.PrivateKey()) }

    /// Reads and checks a private key file.
    public static func load(path: String) throws -> HeadSigningKey {
        let text = String(decoding: try SecretFile.read(path, what: "signing key"), as: UTF8.self)
        guard let der = PEM.decode(text, label: "PRIVATE KEY"), der.count == Ed25519DER.privatePrefix.count + 32,
              der.starts(with: Ed25519DER.privatePrefix),
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: der.suffix(32)) else {
            throw SigningError.badKeyFile(path: path, expected: "an Ed25519 private key (PEM, as 'cloudron-audit key generate' writes)")
        }
        return HeadSigningKey(key: key)
    }

    public var publicKey: HeadPublicKey { HeadPublicKey(key: key.publicKey) }

    /// The 64-byte Ed25519 signature of `message`.
    public func signature(for message: [UInt8]) throws -> [UInt8] {
        Array(try key.signature(for: message))
    }

    /// The key file's text.
    public var pem: String { PEM.encode(Ed25519DER.privatePrefix + Array(key.rawRepresentation), label: "PRIVATE KEY") }

    /// Writes a new key pair: `path` (mode 0600) and `path.pub` (0644). Never replaces an existing file:
    /// overwriting a signing key would orphan every signature made with it.
    public static func generatePair(at path: String) throws -> HeadSigningKey {
        let key = generate()
        let publicPath = path + ".pub"
        for existing in [path, publicPath] where FileManager.default.fileExists(atPath: existing) {
            throw SigningError.keyExists(path: existing)
        }
        try KeyFileWriter.create(path, text: key.pem, mode: 0o600)
        do {
            try KeyFileWriter.create(publicPath, text: key.publicKey.pem, mode: 0o644)
        } catch {
            unlink(path)
            throw error
        }
        return key
    }
}

/// The public half (`FILE.pub`, an SPKI PEM `-----BEGIN PUBLIC KEY-----`): what `verify` needs.
public struct HeadPublicKey: Sendable, Equatable {
    let key: Curve25519.Signing.PublicKey

    public static func == (lhs: HeadPublicKey, rhs: HeadPublicKey) -> Bool { lhs.raw == rhs.raw }

    init(key: Curve25519.Signing.PublicKey) { self.key = key }

    /// From the 32 raw key bytes (as a signed head's statement carries them).
    init?(raw: [UInt8]) {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return nil }
        self.key = key
    }

    public static func load(path: String) throws -> HeadPublicKey {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SigningError.missingFile(path: path, what: "public key")
        }
        guard let der = PEM.decode(String(decoding: data, as: UTF8.self), label: "PUBLIC KEY"),
              der.count == Ed25519DER.publicPrefix.count + 32, der.starts(with: Ed25519DER.publicPrefix),
              let key = HeadPublicKey(raw: Array(der.suffix(32))) else {
            throw SigningError.badKeyFile(path: path, expected: "an Ed25519 public key (PEM, the FILE.pub of 'cloudron-audit key generate')")
        }
        return key
    }

    public var raw: [UInt8] { Array(key.rawRepresentation) }

    /// The first 16 hex digits of SHA-256 over the raw key: enough to tell keys apart in a message.
    public var fingerprint: String { String(Array(SHA256.hash(data: raw)).hexString.prefix(16)) }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        key.isValidSignature(signature, for: message)
    }

    public var pem: String { PEM.encode(Ed25519DER.publicPrefix + raw, label: "PUBLIC KEY") }
}

/// The fixed DER wrappers of Ed25519 keys (RFC 8410): PKCS#8 for the private key, SPKI for the public.
enum Ed25519DER {
    static let privatePrefix: [UInt8] = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
                                         0x04, 0x22, 0x04, 0x20]
    static let publicPrefix: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]
}

/// PEM armour: base64 of DER between BEGIN/END lines, 64 characters a line.
enum PEM {
    static func encode(_ der: [UInt8], label: String) -> String {
        let base64 = Data(der).base64EncodedString()
        var lines = ["-----BEGIN \(label)-----"]
        var rest = Substring(base64)
        while !rest.isEmpty {
            lines.append(String(rest.prefix(64)))
            rest = rest.dropFirst(64)
        }
        lines.append("-----END \(label)-----")
        return lines.joined(separator: "\n") + "\n"
    }

    static func decode(_ text: String, label: String) -> [UInt8]? {
        let begin = "-----BEGIN \(label)-----", end = "-----END \(label)-----"
        guard let start = text.range(of: begin), let stop = text.range(of: end, range: start.upperBound..<text.endIndex) else {
            return nil
        }
        let body = text[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
        return Data(base64Encoded: String(body)).map(Array.init)
    }
}

/// Creates a key file that did not exist, with its final mode from the start (O_EXCL: never follows
/// or replaces what is there).
enum KeyFileWriter {
    static func create(_ path: String, text: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            if errno == EEXIST { throw SigningError.keyExists(path: path) }
            throw SigningError.cannotWrite(path: path, errno: errno)
        }
        defer { close(fd) }
        fchmod(fd, mode)   // the umask may have narrowed the public key's mode
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else {
                let code = errno
                unlink(path)
                throw SigningError.cannotWrite(path: path, errno: code)
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            let code = errno
            unlink(path)
            throw SigningError.cannotWrite(path: path, errno: code)
        }
    }
}

/// Key, signature and witness problems, each a one-line message for the CLI.
public enum SigningError: Error, Sendable, CustomStringConvertible {
    /// The file is not the key it should be.
    case badKeyFile(path: String, expected: String)
    /// `key generate` would replace a file.
    case keyExists(path: String)
    /// An input file (public key, witness for verify) does not exist.
    case missingFile(path: String, what: String)
    /// A key, signature or witness file cannot be written.
    case cannotWrite(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .badKeyFile(let path, let expected): return "\(path) is not \(expected)"
        case .keyExists(let path): return "\(path) already exists — choose another --out (a key is never overwritten)"
        case .missingFile(let path, let what): return "cannot read the \(what) file \(path) — check the path"
        case .cannotWrite(let path, let code): return "cannot write \(path): \(String(cString: strerror(code)))"
        }
    }

    /// errno for write failures (ENOSPC and EIO mean I/O trouble; the rest, a place that cannot be written).
    public var writeErrno: Int32? {
        if case .cannotWrite(_, let code) = self { return code }
        return nil
    }
}
