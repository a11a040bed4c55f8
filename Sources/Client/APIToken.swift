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

    /// The token in `CLOUDRON_TOKEN`, or nil when the variable is unset. `environment` stands in for
    /// the process's own (read by default), so a test need not change process-wide state.
    public static func fromEnvironment(_ environment: [String: String]? = nil) throws -> APIToken? {
        let value = environment.map { $0["CLOUDRON_TOKEN"] } ?? getenv("CLOUDRON_TOKEN").map { String(cString: $0) }
        guard let value else { return nil }
        return try APIToken(value)
    }

    /// Reads a token file; one that group or others can read is refused (see `SecretFile`): an API
    /// token is an admin credential.
    public static func fromFile(_ path: String) throws -> APIToken {
        try APIToken(String(decoding: try SecretFile.read(path, what: "token file"), as: UTF8.self))
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
