import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Talks to one Cloudron over libcurl: the only code in cloudron-audit that does HTTP.
///
/// Every call retries transient failures (connection trouble, timeouts, 5xx, 429, bodies cut short, and
/// bodies that do not parse unless they arrived whole as their Content-Length declared) with jittered
/// backoff, then throws `ClientError.retriesExhausted`; 400/401/403/404 and a complete answer that is not
/// JSON fail at once. Requests of one client run one at a time on the client's own thread.
public final class CloudronClient: Sendable {
    public let configuration: ClientConfiguration
    private let base: BaseURL
    private let connection: CurlConnection
    private let logger = Logger(label: "cloudron-audit.client")
    private let state = Locked(SharedState())

    /// 2017-2019 servers served the event log under `/api/v1/cloudron/eventlog`; which one this server
    /// has is learned from the first 404 and remembered.
    private enum EventLogPath { case unknown, modern, legacy }

    private struct SharedState {
        var eventLogPath = EventLogPath.unknown
        var statistics = ClientStatistics()
    }

    public init(configuration: ClientConfiguration) throws {
        let base = try BaseURL(configuration.baseURL)
        if base.scheme == "http", !base.isLoopback, !configuration.allowInsecureHTTP {
            throw ClientError.insecureHTTP(host: base.host)
        }
        var configuration = configuration
        configuration.baseURL = base.normalized
        self.configuration = configuration
        self.base = base
        connection = try CurlConnection(
            configuration: configuration,
            bearer: configuration.authStyle == .bearerHeader ? configuration.token.secret : nil)
    }

    // MARK: Endpoints

    /// `GET /api/v1/cloudron/status`: reachability only; it does not check the token.
    public func status() async throws -> ServerStatus {
        try await get("/api/v1/cloudron/status") { body in
            try ModelDecoding.status(try Self.jsonObject(body))
        }
    }

    /// `GET /api/v1/profile`, as received. Validates the token (status does not).
    public func profile() async throws -> [UInt8] {
        try await get("/api/v1/profile") { body in Array(try Self.jsonObject(body)) }
    }

    /// One page of the event log, newest first. Falls back to the 2019 path on 404 and remembers it.
    public func eventPage(page: Int, perPage: Int) async throws -> EventPage {
        let query = [("page", String(page)), ("per_page", String(perPage))]
        let list = try await withEventLogPath { root in
            try await self.get(root, query: query) { body in
                try Self.decodeList(body, key: "eventlogs", ModelDecoding.event)
            }
        }
        return EventPage(events: list.objects, malformed: sanitized(list.malformed), page: page, perPage: perPage)
    }

    /// One event; accepts the 2019 wrapping `{"event":{…}}`.
    public func event(id: String) async throws -> Event {
        try await withEventLogPath { root in
            try await self.get(root + "/" + Self.pathSegment(id)) { body in
                try ModelDecoding.event(try Self.unwrap(body, key: "event"))
            }
        }
    }

    public func notificationPage(page: Int, perPage: Int) async throws -> NotificationPage {
        let path = "/api/v1/notifications"
        let list = try await get(path, query: [("page", String(page)), ("per_page", String(perPage))]) { body in
            try Self.decodeList(body, key: "notifications", ModelDecoding.notification)
        }
        return NotificationPage(notifications: list.objects, malformed: sanitized(list.malformed), page: page, perPage: perPage)
    }

    /// One notification; accepts the 2019 wrapping `{"notification":{…}}`.
    public func notification(id: String) async throws -> Notification {
        try await get("/api/v1/notifications/" + Self.pathSegment(id)) { body in
            try ModelDecoding.notification(try Self.unwrap(body, key: "notification"))
        }
    }

    public func taskPage(page: Int, perPage: Int) async throws -> TaskPage {
        let path = "/api/v1/tasks"
        let list = try await get(path, query: [("page", String(page)), ("per_page", String(perPage))]) { body in
            try Self.decodeList(body, key: "tasks", ModelDecoding.task)
        }
        return TaskPage(tasks: list.objects, malformed: sanitized(list.malformed), page: page, perPage: perPage)
    }

    /// One task; accepts `{"task":{…}}` too, in case a server wraps it.
    public func task(id: String) async throws -> CloudronTask {
        try await get("/api/v1/tasks/" + Self.pathSegment(id)) { body in
            try ModelDecoding.task(try Self.unwrap(body, key: "task"))
        }
    }

    /// `GET /api/v1/tasks/{id}/logs?format=json`: not a JSON document but one object per line. An empty
    /// list once box has rotated the log away (after about 7 days). `lines: -1` meant "all" in 2019.
    ///
    /// Box ends every line with a newline, so a bad line that ends the body without one is the answer cut
    /// short (a proxy hiccup): the request fails, to be asked again. A bad line the server sent whole is
    /// that line's problem: it is handed back in `malformed` and the other lines are kept.
    public func taskLogs(taskId: String, lines: Int? = nil) async throws -> TaskLog {
        var query = [("format", "json")]
        if let lines { query.append(("lines", String(lines))) }
        return try await get("/api/v1/tasks/\(Self.pathSegment(taskId))/logs", query: query) { body in
            try Self.rejectHTML(body)
            var log = TaskLog(lines: [])
            var start = 0, position = 0
            while start < body.count {
                let newline = body[start...].firstIndex(of: 0x0A)
                let end = newline ?? body.count
                let line = body[start..<end]
                start = end + 1
                guard line.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) else { continue }
                defer { position += 1 }
                do {
                    try RawJSON.validate(line)
                    log.lines.append(try ModelDecoding.taskLogLine(Self.trimmed(line)))
                } catch let error as RawJSONError {
                    guard newline != nil else {
                        throw ObjectShapeError(reason: "task log line is not JSON: \(error)", transient: true)
                    }
                    log.malformed.append(MalformedObject(raw: Array(line), reason: "not JSON: \(error)", id: nil, index: position))
                } catch let error as ObjectShapeError {
                    log.malformed.append(MalformedObject(raw: Array(line), reason: error.reason, id: nil, index: position))
                }
            }
            return log
        }
    }

    /// `GET /api/v1/tasks/{id}/logs?format=short`: the log as text.
    public func taskLogText(taskId: String, lines: Int? = nil) async throws -> String {
        var query = [("format", "short")]
        if let lines { query.append(("lines", String(lines))) }
        return try await get("/api/v1/tasks/\(Self.pathSegment(taskId))/logs", query: query) { body in
            try Self.rejectHTML(body)
            return String(decoding: body, as: UTF8.self)
        }
    }

    public func statistics() -> ClientStatistics {
        state.withLock { $0.statistics }
    }

    // MARK: Event-log path fallback

    private func withEventLogPath<T>(_ body: (String) async throws -> T) async throws -> T {
        let known = state.withLock { $0.eventLogPath }
        switch known {
        case .modern: return try await body("/api/v1/eventlog")
        case .legacy: return try await body("/api/v1/cloudron/eventlog")
        case .unknown:
            do {
                let result = try await body("/api/v1/eventlog")
                state.withLock { $0.eventLogPath = .modern }
                return result
            } catch let modernError as ClientError {
                guard case .notFound = modernError else { throw modernError }
                do {
                    let result = try await body("/api/v1/cloudron/eventlog")
                    state.withLock { $0.eventLogPath = .legacy }
                    logger.info("event log found at the 2019 path /api/v1/cloudron/eventlog")
                    return result
                } catch let legacyError as ClientError {
                    if case .notFound = legacyError { throw modernError }
                    throw legacyError
                }
            }
        }
    }

    // MARK: Requests

    /// GET with retries; `decode` runs inside the retry loop so that a body that does not parse is retried.
    private func get<T>(_ path: String, query: [(String, String)] = [], decode: ([UInt8]) throws -> T) async throws -> T {
        let policy = configuration.retry
        var attempt = 0
        while true {
            attempt += 1
            do {
                let answer = try await send(path, query: query, isRetry: attempt > 1)
                do {
                    return try decode(answer.body)
                } catch let error as ObjectShapeError {
                    // A body that is not JSON may have been cut by the network, unless it is as long as its
                    // Content-Length said: then it is what the server sends, and asking again gets it again.
                    throw ClientError.malformedResponse(url: displayURL(path, query), reason: sanitize(error.reason),
                                                        html: error.html, transient: error.transient && !answer.isComplete)
                }
            } catch let error as ClientError {
                guard error.isRetryable else { throw error }
                guard attempt < policy.maxAttempts else {
                    throw attempt > 1 ? ClientError.retriesExhausted(attempts: attempt, last: error) : error
                }
                var retryAfter: Double?
                if case .rateLimited(_, let seconds) = error { retryAfter = seconds }
                let delay = policy.delay(beforeRetry: attempt, retryAfter: retryAfter)
                logger.debug("retrying", metadata: ["attempt": "\(attempt + 1)", "delay": "\(delay)",
                                                    "error": "\(error.description)"])
                if delay > 0 { try await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000)) }
            }
        }
    }

    /// One attempt: a 2xx answer, or the error the answer means.
    private func send(_ path: String, query: [(String, String)], isRetry: Bool) async throws -> CurlOutcome {
        var fullQuery = query
        if configuration.authStyle == .queryParameter { fullQuery.append(("access_token", configuration.token.secret)) }
        let url = configuration.baseURL + path + Self.queryString(fullQuery)
        let shown = displayURL(path, query)
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await connection.get(url)
        // A cancelled task's request was aborted (or never sent): no answer to interpret, nothing to retry.
        if outcome.curlCode == CurlConnection.abortedCode { throw CancellationError() }
        let elapsed = started.duration(to: clock.now)
        state.withLock {
            $0.statistics.requestsSent += 1
            if isRetry { $0.statistics.retries += 1 }
            $0.statistics.bytesReceived += outcome.body.count
        }
        let ms = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        logger.debug("GET", metadata: ["path": "\(BaseURL.redactQuery(path + Self.queryString(query)))",
                                       "status": "\(outcome.status)", "bytes": "\(outcome.body.count)",
                                       "ms": "\(ms)", "curl": "\(outcome.curlCode)"])
        if let error = interpret(outcome, url: shown) { throw error }
        // A proxy's login or error page says what it is in its Content-Type even when its body is
        // empty or not yet complete: trust the header before looking at the bytes.
        if outcome.contentType.map({ $0.lowercased().contains("html") }) ?? false {
            throw ClientError.malformedResponse(url: shown, reason: "HTML instead of JSON", html: true,
                                                transient: !outcome.isComplete)
        }
        return outcome
    }

    /// Maps a libcurl result and HTTP status to success (nil) or a `ClientError`.
    private func interpret(_ outcome: CurlOutcome, url: String) -> ClientError? {
        let message = sanitize(outcome.curlMessage)
        switch outcome.curlCode {
        case 0: break
        // An SSH banner or another non-HTTP service on the port: libcurl reports HTTP/0.9 (1) or a weird reply (8).
        case 1 where outcome.curlMessage.contains("HTTP/0.9"), 8:
            return .unreachable(hostAndPort: base.hostAndPort, reason: "what answers there does not speak HTTP: \(message)",
                                transient: false)
        case 1, 3: return .invalidConfiguration("libcurl cannot use \(url) (\(message)) — check --url")
        case 5, 6: return .unreachable(hostAndPort: base.hostAndPort, reason: "DNS lookup failed: \(message)", transient: false)
        case 7: return .unreachable(hostAndPort: base.hostAndPort, reason: Self.connectReason(outcome), transient: true)
        case 28: return .unreachable(hostAndPort: base.hostAndPort, reason: "\(ClientError.timedOutReason): \(message)", transient: true)
        case 52: return .unreachable(hostAndPort: base.hostAndPort, reason: "connection closed with no answer", transient: true)
        case 55, 56: return .unreachable(hostAndPort: base.hostAndPort, reason: "connection dropped: \(message)", transient: true)
        case 18: return .malformedResponse(url: url, reason: "body cut short (\(message))", html: false, transient: true)
        case 23 where outcome.exceededCap, 63:
            return .responseTooLarge(url: url, limit: configuration.maxResponseBytes)
        // A failed handshake (35) is not a certificate problem: typically https:// to a plain-HTTP port.
        case 35:
            return .unreachable(hostAndPort: base.hostAndPort,
                                reason: "TLS handshake failed: \(message); is this port serving https://?", transient: false)
        case 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91:
            return .tls(url: url, reason: message)
        default: return .transport(url: url, code: outcome.curlCode, message: message)
        }
        let status = outcome.status
        switch status {
        case 200..<300: return nil
        case 300..<400:
            return .redirectRefused(url: url, status: status, locationHost: outcome.redirectURL.flatMap(Self.host(of:)))
        case 400: return .badRequest(url: url, message: serverMessage(outcome))
        case 401: return .tokenRejected(url: url, message: serverMessage(outcome))
        case 403: return .forbidden(url: url, message: serverMessage(outcome))
        case 404: return .notFound(url: url)
        case 429: return .rateLimited(url: url, retryAfter: outcome.retryAfter)
        case 500..<600: return .serverError(url: url, status: status, message: serverMessage(outcome))
        default: return .unexpectedStatus(url: url, status: status)
        }
    }

    private static func connectReason(_ outcome: CurlOutcome) -> String {
        if outcome.osErrno == Int(ECONNREFUSED) || outcome.curlMessage.lowercased().contains("refused") {
            return "connection refused"
        }
        if outcome.osErrno != 0 { return String(cString: strerror(Int32(outcome.osErrno))).lowercased() }
        return "cannot connect: \(outcome.curlMessage)"
    }

    /// Box's `{"status":…,"message":…}`, or a short plain-text body; never an HTML page.
    private func serverMessage(_ outcome: CurlOutcome) -> String? {
        let body = outcome.body
        if let value = try? RawJSON.value(forKey: "message", in: body), value.first == 0x22 {
            let text = value.withUnsafeBufferPointer { JSONScanner($0).unescapedString(1..<($0.count - 1)) }
            return sanitize(Self.oneLine(text))
        }
        guard !Self.looksLikeHTML(body, contentType: outcome.contentType), !body.isEmpty else { return nil }
        let text = Self.oneLine(String(decoding: body.prefix(300), as: UTF8.self))
        return text.isEmpty ? nil : sanitize(text)
    }

    /// Malformed elements' reasons quote server text (an id): never with the token.
    private func sanitized(_ malformed: [MalformedObject]) -> [MalformedObject] {
        malformed.map { element in
            var element = element
            element.reason = sanitize(element.reason)
            return element
        }
    }

    /// The URL as messages show it: never with the token.
    private func displayURL(_ path: String, _ query: [(String, String)]) -> String {
        BaseURL.redactQuery(configuration.baseURL + path + Self.queryString(query.filter { $0.0 != "access_token" }))
    }

    /// Removes the token from text that came from elsewhere (server messages, libcurl's messages).
    private func sanitize(_ text: String) -> String {
        BaseURL.redactQuery(text).replacing(configuration.token.secret, with: "<redacted>")
    }

    // MARK: Body helpers

    static func jsonObject(_ body: [UInt8]) throws -> ArraySlice<UInt8> {
        try rejectHTML(body)
        do { try RawJSON.validate(body) } catch let error as RawJSONError {
            throw ObjectShapeError(reason: "not JSON: \(error)", transient: true)
        }
        let trimmedBody = trimmed(body[...])
        guard trimmedBody.first == 0x7B else { throw ObjectShapeError(reason: "expected a JSON object") }
        return trimmedBody
    }

    /// The object under `key` when the body is wrapped (2019: `{"event":{…}}`), else the body itself.
    static func unwrap(_ body: [UInt8], key: String) throws -> ArraySlice<UInt8> {
        let object = try jsonObject(body)
        if (try? RawJSON.value(forKey: "id", in: body)) ?? nil == nil,
           let inner = (try? RawJSON.value(forKey: key, in: body)) ?? nil, inner.first == 0x7B {
            return inner
        }
        return object
    }

    /// The objects of a list answer, and the elements that are no usable object (each kept with its
    /// reason), an element that is not JSON among them. A body whose framing is not JSON (cut short, brackets
    /// that do not pair up), or that has no such array, fails as a whole.
    static func decodeList<T>(_ body: [UInt8], key: String, _ decode: (ArraySlice<UInt8>) throws -> T) throws
        -> (objects: [T], malformed: [MalformedObject]) {
        try rejectHTML(body)
        let elements: [RawJSON.FramedElement]
        do {
            switch try RawJSON.arrayElements(ofArrayAt: key, in: body) {
            case .elements(let slices): elements = slices.map { RawJSON.FramedElement(bytes: $0, invalid: nil) }
            case .missing: throw ObjectShapeError(reason: "no \"\(key)\" array in the response")
            case .notArray: throw ObjectShapeError(reason: "\"\(key)\" is not an array")
            }
        } catch let error as RawJSONError {
            // Invalid JSON inside one element of a well-framed page is that element's problem (quarantined
            // below), not the page's; only a page whose framing is broken fails as a whole.
            guard let framed = try? RawJSON.framedElements(ofArrayAt: key, in: body) else {
                throw ObjectShapeError(reason: "not JSON: \(error)", transient: true)
            }
            elements = framed
        }
        var out: [T] = []
        var malformed: [MalformedObject] = []
        out.reserveCapacity(elements.count)
        for (index, framed) in elements.enumerated() {
            let element = framed.bytes
            if let invalid = framed.invalid {
                // Its id and creationTime are read by structure, as far as they can be: with a usable id it
                // resolves once it arrives well-formed, with a time it keeps its place in the walk.
                malformed.append(MalformedObject(raw: Array(element), reason: "not JSON: \(invalid)",
                                                 id: element.first == 0x7B ? ModelDecoding.usableID(of: element) : nil,
                                                 index: index,
                                                 epochSeconds: element.first == 0x7B ? ModelDecoding.usableTime(of: element) : nil))
                continue
            }
            guard element.first == 0x7B else {
                malformed.append(MalformedObject(raw: Array(element), reason: "not a JSON object", id: nil, index: index))
                continue
            }
            do {
                out.append(try decode(element))
            } catch let error as ObjectShapeError {
                malformed.append(MalformedObject(raw: Array(element), reason: error.reason,
                                                 id: ModelDecoding.usableID(of: element), index: index,
                                                 epochSeconds: ModelDecoding.usableTime(of: element)))
            }
        }
        return (out, malformed)
    }

    static func rejectHTML(_ body: [UInt8]) throws {
        if looksLikeHTML(body, contentType: nil) {
            throw ObjectShapeError(reason: "HTML instead of JSON", transient: true, html: true)
        }
    }

    static func looksLikeHTML(_ body: [UInt8], contentType: String?) -> Bool {
        if let contentType, contentType.lowercased().contains("html") { return true }
        let first = body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 })
        return first == 0x3C
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
              let last = bytes.lastIndex(where: { !isSpace($0) }) else { return bytes[bytes.startIndex..<bytes.startIndex] }
        return bytes[first...last]
    }

    static func oneLine(_ text: String) -> String {
        let line = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).first.map(String.init) ?? ""
        let clipped = line.count > 200 ? String(line.prefix(200)) + "…" : line
        return clipped.trimmingWhitespace()
    }

    /// The host of a `Location` URL, for the redirect message (credentials and query dropped).
    static func host(of location: String) -> String? {
        guard let schemeEnd = location.firstRange(of: "://") else { return nil }
        var authority = location[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        return authority.isEmpty ? nil : String(authority)
    }

    static func queryString(_ items: [(String, String)]) -> String {
        guard !items.isEmpty else { return "" }
        return "?" + items.map { percentEncode($0.0) + "=" + percentEncode($0.1) }.joined(separator: "&")
    }

    static func pathSegment(_ text: String) -> String { percentEncode(text) }

    /// RFC 3986 unreserved characters pass; everything else is %-encoded byte by byte.
    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E:
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0xF)]))
            }
        }
        return out
    }
}
