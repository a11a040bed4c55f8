#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Cloudron API token. It prints, debug-prints and reflects as `<redacted>`, so that no log line,
/// error or `dump` can leak it; only the transport reads the secret.
public struct APIToken: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let secret: String

    /// Trims surrounding whitespace and newlines (token files usually end in one); rejects an empty
    /// token and one with control characters, which would corrupt the Authorization header.
    public init(_ value: String) throws {
        let trimmed = value.trimmingWhitespace()
        guard !trimmed.isEmpty else {
            throw ClientError.invalidConfiguration("the API token is empty — set CLOUDRON_TOKEN or pass a token file")
        }
        if let position = trimmed.unicodeScalars.firstIndex(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            let offset = trimmed.unicodeScalars.distance(from: trimmed.unicodeScalars.startIndex, to: position)
            throw ClientError.invalidConfiguration(
                "the API token contains a control character at position \(offset + 1) — copy it again from the dashboard")
        }
        secret = trimmed
    }

    /// The token in `CLOUDRON_TOKEN`, or nil when the variable is unset.
    public static func fromEnvironment() throws -> APIToken? {
        guard let pointer = getenv("CLOUDRON_TOKEN") else { return nil }
        return try APIToken(String(cString: pointer))
    }

    /// Reads a token file. Like ssh with a private key, refuses a file that group or others can read:
    /// an API token is an admin credential.
    public static func fromFile(_ path: String) throws -> APIToken {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ClientError.invalidConfiguration("cannot read token file \(path) (\(errnoText())) — check the path")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw ClientError.invalidConfiguration(
                "token file \(path) is readable by group or others (mode \(String(mode, radix: 8))) — run chmod 600 \(path)")
        }
        guard let file = fopen(path, "rb") else {
            throw ClientError.invalidConfiguration("cannot read token file \(path) (\(errnoText())) — check the path")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 16 {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return try APIToken(String(decoding: bytes, as: UTF8.self))
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "APIToken(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

func errnoText() -> String { String(cString: strerror(errno)) }

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
