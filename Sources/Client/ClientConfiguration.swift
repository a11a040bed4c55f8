/// How the token travels. Cloudron accepts both; the header keeps it out of proxy and server access logs.
public enum AuthStyle: Sendable {
    /// `Authorization: Bearer <token>` (default).
    case bearerHeader
    /// `?access_token=<token>`: for proxies that strip the Authorization header.
    case queryParameter
}

/// Backoff for transient failures: exponential with full jitter, so that several archivers that failed
/// together do not retry together.
public struct RetryPolicy: Sendable, Equatable {
    /// Total attempts, the first included.
    public var maxAttempts: Int
    /// Seconds; the n-th retry waits a random time in `0 ... min(maxDelay, baseDelay * 2^(n-1))`.
    public var baseDelay: Double
    public var maxDelay: Double
    /// A server's `Retry-After` is honoured up to this many seconds.
    public var retryAfterCap: Double

    public init(maxAttempts: Int = 6, baseDelay: Double = 0.25, maxDelay: Double = 8, retryAfterCap: Double = 30) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(0, baseDelay)
        self.maxDelay = max(0, maxDelay)
        self.retryAfterCap = max(0, retryAfterCap)
    }

    public static let `default` = RetryPolicy()
    /// One attempt, no retries.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// Delay before retry number `retry` (1-based), or the server's Retry-After when it sent one.
    func delay(beforeRetry retry: Int, retryAfter: Double?) -> Double {
        if let retryAfter { return min(max(0, retryAfter), retryAfterCap) }
        let ceiling = min(maxDelay, baseDelay * Double(1 << min(retry - 1, 30)))
        guard ceiling > 0 else { return 0 }
        var generator = SystemRandomNumberGenerator()
        return Double.random(in: 0...ceiling, using: &generator)
    }
}

/// Where and how to reach one Cloudron.
public struct ClientConfiguration: Sendable {
    /// Normalised `scheme://host[:port]`: no trailing slash, no path, query or credentials.
    public var baseURL: String
    public var token: APIToken
    public var authStyle: AuthStyle = .bearerHeader
    /// PEM bundle for a private CA (`--cacert`), as CURLOPT_CAINFO.
    public var caFile: String?
    /// `sha256//BASE64[;sha256//…]` or a PEM/DER public-key file, as CURLOPT_PINNEDPUBLICKEY.
    public var pinnedPublicKey: String?
    /// Plain `http://` is refused except to loopback (127.0.0.0/8, ::1, localhost) unless this is true:
    /// the token would travel in clear text.
    public var allowInsecureHTTP = false
    /// Seconds.
    public var connectTimeout: Double = 10
    /// Seconds for one whole request. Box aborts requests after about 10 s itself.
    public var requestTimeout: Double = 60
    public var maxResponseBytes: Int = 64 << 20
    public var retry: RetryPolicy = .default

    /// Accepts `https://host[:port]` (a trailing slash is dropped), a bare domain (`my.example.com`,
    /// becoming `https://my.example.com`) or `http://127.0.0.1:PORT`.
    public init(baseURL: String, token: APIToken) throws {
        self.baseURL = try BaseURL(baseURL).normalized
        self.token = token
    }

    /// From a Cloudron's dashboard domain, as `CLOUDRON_DOMAIN` holds it (`my.example.com`).
    public static func domain(_ domain: String, token: APIToken) throws -> ClientConfiguration {
        let trimmed = domain.trimmingWhitespace()
        guard !trimmed.contains("://") else { return try ClientConfiguration(baseURL: trimmed, token: token) }
        return try ClientConfiguration(baseURL: "https://" + trimmed, token: token)
    }
}

/// A parsed base URL: scheme, host and port only.
struct BaseURL: Sendable, Equatable {
    var scheme: String
    /// Lowercased; IPv6 literals without brackets.
    var host: String
    var port: Int

    init(_ text: String) throws {
        var rest = Substring(text.trimmingWhitespace())
        func bad(_ why: String) -> ClientError {
            .invalidConfiguration("bad Cloudron URL \"\(BaseURL.redactForDisplay(String(rest)))\": \(why) — use https://my.example.com or the domain alone")
        }
        guard !rest.isEmpty else { throw ClientError.invalidConfiguration("no Cloudron URL given — pass --url or set CLOUDRON_DOMAIN") }
        if let range = rest.firstRange(of: "://") {
            scheme = rest[..<range.lowerBound].lowercased()
            rest = rest[range.upperBound...]
        } else {
            scheme = "https"
        }
        guard scheme == "https" || scheme == "http" else {
            rest = Substring(text.trimmingWhitespace())   // name the whole URL: the scheme is what is wrong
            throw bad("only https:// (or http:// to loopback) is supported")
        }
        let original = rest
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/") else { rest = original; throw bad("give the server only, without a path") }
        guard !rest.contains("?"), !rest.contains("#") else { rest = original; throw bad("no query or fragment") }
        guard !rest.contains("@") else { rest = original; throw bad("no credentials in the URL; the token goes in CLOUDRON_TOKEN") }
        var hostPart = rest
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw bad("unclosed IPv6 bracket") }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw bad("junk after the IPv6 address") }
            guard !hostPart.isEmpty, hostPart.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw bad("bad IPv6 address")
            }
        } else {
            if let colon = rest.lastIndex(of: ":") {
                hostPart = rest[..<colon]
                portText = rest[rest.index(after: colon)...]
            }
            guard !hostPart.isEmpty, !hostPart.hasPrefix("."), !hostPart.hasPrefix("-"),
                  hostPart.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "." || $0 == "-" })
            else { throw bad("bad host name") }
        }
        host = hostPart.lowercased()
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else { throw bad("bad port") }
            self.port = port
        } else {
            port = scheme == "https" ? 443 : 80
        }
    }

    var isDefaultPort: Bool { port == (scheme == "https" ? 443 : 80) }

    var normalized: String {
        let hostText = host.contains(":") ? "[\(host)]" : host
        return isDefaultPort ? "\(scheme)://\(hostText)" : "\(scheme)://\(hostText):\(port)"
    }

    /// `host:port` as error messages name the server.
    var hostAndPort: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// 127.0.0.0/8, ::1 and localhost: the only places plain HTTP may carry a token by default.
    var isLoopback: Bool {
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in UInt8(part) != nil }
    }

    /// A URL as typed by a user, fit for an error message: credentials and token values removed.
    static func redactForDisplay(_ text: String) -> String {
        var text = redactQuery(text)
        if let at = text.lastIndex(of: "@") {
            let start = text.firstRange(of: "://")?.upperBound ?? text.startIndex
            if start <= at { text.replaceSubrange(start..<at, with: "<redacted>") }
        }
        return text
    }

    /// Removes the value of every `access_token=…` from URL-ish text about to be shown.
    static func redactQuery(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let range = rest.firstRange(of: "access_token=") {
            out += rest[..<range.upperBound]
            out += "<redacted>"
            let tail = rest[range.upperBound...]
            let stops: Set<Character> = ["&", " ", "#", "\"", "'"]
            let end = tail.firstIndex(where: { stops.contains($0) }) ?? tail.endIndex
            rest = tail[end...]
        }
        return out + rest
    }
}
