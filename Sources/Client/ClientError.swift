/// Everything that can go wrong talking to a Cloudron. Each `description` is one line that says what
/// happened and what to do; URLs in it never carry the token. `category` lets a command line map
/// errors to exit codes without matching every case.
public indirect enum ClientError: Error, Sendable, CustomStringConvertible {
    /// Bad URL, bad token, unreadable token file: a usage problem.
    case invalidConfiguration(String)
    /// `http://` to a non-loopback host without `allowInsecureHTTP`.
    case insecureHTTP(host: String)
    /// DNS failure, connection refused, timeout or connection dropped.
    case unreachable(hostAndPort: String, reason: String, transient: Bool)
    /// Certificate or pinned-key verification failed, or the TLS handshake did.
    case tls(url: String, reason: String)
    /// 401, with the server's message: box 9 answers "No such token" both to an unknown token and to a
    /// known one on an endpoint it may not read.
    case tokenRejected(url: String, message: String?)
    /// 403, with the server's message.
    case forbidden(url: String, message: String?)
    /// 404.
    case notFound(url: String)
    /// 400, with the server's message (box: "per_page query param has to be a postive number").
    case badRequest(url: String, message: String?)
    /// 429; `retryAfter` in seconds when the server sent `Retry-After`.
    case rateLimited(url: String, retryAfter: Double?)
    /// 5xx.
    case serverError(url: String, status: Int, message: String?)
    /// Any other status code that is not success.
    case unexpectedStatus(url: String, status: Int)
    /// Not JSON (`html` when the body is an HTML page, e.g. a proxy's error), the wrong shape, an object
    /// without id, or a body cut short. `transient` when retrying may help: a body cut short, or one that
    /// does not parse and may have been cut (no Content-Length to tell); never a complete answer.
    case malformedResponse(url: String, reason: String, html: Bool, transient: Bool)
    /// The body exceeded `maxResponseBytes`.
    case responseTooLarge(url: String, limit: Int)
    /// A 3xx: never followed, because following would re-send the token to wherever it points.
    case redirectRefused(url: String, status: Int, locationHost: String?)
    /// Any other libcurl failure.
    case transport(url: String, code: Int, message: String)
    /// libcurl itself cannot be loaded (it is opened at the first request, see CCurl): the reason is dlopen's.
    case libcurlUnavailable(reason: String)
    /// The retry budget ran out; `last` is the final attempt's error.
    case retriesExhausted(attempts: Int, last: ClientError)

    /// Coarse kinds, for exit codes.
    public enum Category: String, Sendable {
        case configuration, unreachable, tls, tokenRejected, forbidden, notFound, badRequest, rateLimited,
             serverError, malformedResponse, responseTooLarge, redirectRefused, transport
    }

    /// The kind of the error; for `retriesExhausted`, the kind of the last attempt's error.
    public var category: Category {
        switch self {
        case .invalidConfiguration, .insecureHTTP: return .configuration
        case .unreachable: return .unreachable
        case .tls: return .tls
        case .tokenRejected: return .tokenRejected
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .badRequest: return .badRequest
        case .rateLimited: return .rateLimited
        case .serverError: return .serverError
        case .unexpectedStatus: return .serverError
        case .malformedResponse: return .malformedResponse
        case .responseTooLarge: return .responseTooLarge
        case .redirectRefused: return .redirectRefused
        case .transport, .libcurlUnavailable: return .transport
        case .retriesExhausted(_, let last): return last.category
        }
    }

    /// Whether another attempt may succeed: connection trouble, timeouts, 5xx, 429, bodies cut short or
    /// not parseable. Never 400/401/403/404, TLS or configuration problems.
    public var isRetryable: Bool {
        switch self {
        case .unreachable(_, _, let transient): return transient
        case .rateLimited, .serverError: return true
        case .malformedResponse(_, _, _, let transient): return transient
        default: return false
        }
    }

    /// Where the user gave this server's settings: an error's hint names the flags, or the config's keys.
    public enum SettingsSource: Sendable {
        /// `--url`/`--domain`, `--token-file`, `--cacert`, … (and their environment variables).
        case commandLine
        /// A `[[server]]` table of a `sync --config` file: `url`/`domain`, `token_file`, `cacert`.
        case configFile
    }

    public var description: String { description(settingsFrom: .commandLine) }

    /// The one-line text, its hint naming the settings as `source` spells them.
    public func description(settingsFrom source: SettingsSource) -> String {
        let config = source == .configFile
        let urlSetting = config ? "this server's url (or domain) in the config" : "--url/CLOUDRON_DOMAIN"
        let tokenSetting = config ? "this server's token_file in the config" : "CLOUDRON_TOKEN, --token-file or --token"
        switch self {
        case .invalidConfiguration(let message):
            return message
        case .insecureHTTP(let host):
            return "refusing plain http:// to \(host): the token would travel unencrypted — use https:// (or allow insecure HTTP explicitly)"
        case .unreachable(let hostAndPort, let reason, _):
            return "cannot reach \(hostAndPort) (\(reason)) — check \(urlSetting) and the network"
        case .tls(let url, let reason):
            return "TLS verification failed for \(url) (\(reason)) — \(config ? "set cacert = FILE" : "pass --cacert FILE") for a private CA, or check the pinned key"
        case .tokenRejected(let url, let message):
            if message == "No such token" {
                return "401 from \(url): No such token — the server does not know this token, or (Cloudron 9) does not let "
                    + "it read this endpoint: use a read-only API token of an admin or owner (\(tokenSetting))"
            }
            return "401 from \(url): token rejected — check the API token (\(tokenSetting))"
        case .forbidden(let url, let message):
            if message == "Missing required scope" {
                return "403 from \(url): Missing required scope — not an admin token: create a read-only API token "
                    + "as an admin or owner of the Cloudron"
            }
            return "403 from \(url): \(message ?? "forbidden") — the token needs admin rights for this endpoint"
        case .notFound(let url):
            return "404 from \(url): not found — check the id, or whether this server version has the endpoint"
        case .badRequest(let url, let message):
            return "400 from \(url): \(message ?? "bad request") — check the paging arguments"
        case .rateLimited(let url, let retryAfter):
            let wait = retryAfter.map { ", retry after \(Self.seconds($0))" } ?? ""
            return "429 from \(url): too many requests\(wait) — slow down or try later"
        case .serverError(let url, let status, let message):
            return "server error \(status) from \(url)\(message.map { ": \($0)" } ?? "") — the server is failing; try later"
        case .unexpectedStatus(let url, let status):
            return "unexpected HTTP status \(status) from \(url) — is this a Cloudron?"
        case .malformedResponse(let url, let reason, let html, _):
            if html { return "server answered HTML, not JSON, at \(url) — is a proxy or login page in front of the Cloudron?" }
            return "malformed response from \(url): \(reason) — retry later, or report the server version"
        case .responseTooLarge(let url, let limit):
            // The CLI has no knob for the cap, so name the one that exists: a page of events holds several KB each.
            let size = limit >= 1 << 20 && limit % (1 << 20) == 0 ? "\(limit >> 20) MiB" : "\(limit) bytes"
            return "response from \(url) exceeds the \(size) limit — not a Cloudron answer, or too large a page: use a smaller --page-size"
        case .redirectRefused(let url, let status, let locationHost):
            let target = locationHost.map { " to \($0)" } ?? ""
            return "\(status) redirect\(target) from \(url) refused (the token is never re-sent) — use the final URL \(config ? "as the server's url in the config" : "with --url")"
        case .transport(let url, let code, let message):
            return "request to \(url) failed (curl error \(code): \(message))"
        case .libcurlUnavailable(let reason):
            return "cannot load libcurl, which sync needs (\(reason)): install Debian's libcurl4 package"
        case .retriesExhausted(let attempts, let last):
            return "retries exhausted after \(attempts) attempts: \(last.description(settingsFrom: source))"
        }
    }

    /// Whether the failure belongs to one request's answer (its status, size, body or time) rather than
    /// to the server as a whole (unreachable, TLS, configuration, redirects): a sync can record that one
    /// object as unavailable and go on with the others.
    public var concernsOneRequest: Bool {
        switch self {
        case .tokenRejected, .forbidden, .notFound, .badRequest, .rateLimited, .serverError, .unexpectedStatus,
             .malformedResponse, .responseTooLarge:
            return true
        case .unreachable(_, let reason, _):
            // libcurl's own request timeout (see CloudronClient.interpret): box is slow on this one answer.
            return reason.hasPrefix(ClientError.timedOutReason)
        case .retriesExhausted(_, let last):
            return last.concernsOneRequest
        case .invalidConfiguration, .insecureHTTP, .tls, .redirectRefused, .transport, .libcurlUnavailable:
            return false
        }
    }

    static let timedOutReason = "timed out"

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
