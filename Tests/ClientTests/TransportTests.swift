import Testing
import TestSupport
import Foundation
@testable import Client

/// Answers the simulator never gives, from a canned server on 127.0.0.1.
@Suite struct TransportTests {
    static let secret = "tok-SECRET-4711-do-not-print"

    static func client(_ url: String, auth: AuthStyle = .bearerHeader, attempts: Int = 2,
                       maxBytes: Int = 64 << 20) throws -> CloudronClient {
        var configuration = try ClientConfiguration(baseURL: url, token: APIToken(secret))
        configuration.authStyle = auth
        configuration.retry = RetryPolicy(maxAttempts: attempts, baseDelay: 0.01, maxDelay: 0.02)
        configuration.maxResponseBytes = maxBytes
        configuration.connectTimeout = 2
        configuration.requestTimeout = 5
        return try CloudronClient(configuration: configuration)
    }

    @Test(arguments: [AuthStyle.bearerHeader, .queryParameter])
    func redirectIsRefusedAndNeverFollowed(_ auth: AuthStyle) async throws {
        let server = try CannedHTTPServer(status: "302 Found",
                                          headers: ["Location: https://evil.example.net/login?next=x"], body: [])
        defer { server.stop() }
        let client = try Self.client(server.url, auth: auth)
        let error = try await #require(throws: ClientError.self) { try await client.eventPage(page: 1, perPage: 10) }
        guard case .redirectRefused(_, let status, let host) = error else { Issue.record("got \(error)"); return }
        #expect(status == 302 && host == "evil.example.net")
        #expect(error.description.contains("evil.example.net"))
        #expect(!error.description.contains(Self.secret))
        #expect(server.requests.count == 1, "not retried, not followed")
        #expect(server.requests[0].hasPrefix("GET /api/v1/eventlog?page=1&per_page=10"))
        #expect(server.requests[0].contains("User-Agent: cloudron-audit/"))
        #expect(server.requests[0].contains("Accept: application/json"))
    }

    @Test func requestCarriesTheTokenOnlyTheChosenWay() async throws {
        let server = try CannedHTTPServer(status: "200 OK", headers: ["Content-Type: application/json"],
                                          body: Array(#"{"version":"9.0.15"}"#.utf8))
        defer { server.stop() }
        #expect(try await Self.client(server.url, auth: .bearerHeader).status().version == "9.0.15")
        #expect(try await Self.client(server.url, auth: .queryParameter).status().version == "9.0.15")
        let heads = server.requests
        #expect(heads[0].contains("Authorization: Bearer \(Self.secret)") && !heads[0].contains("access_token"))
        #expect(heads[1].hasPrefix("GET /api/v1/cloudron/status?access_token=\(Self.secret) ") && !heads[1].contains("Authorization"))
    }

    @Test(arguments: [true, false])
    func responseCapIsEnforced(_ withContentLength: Bool) async throws {
        let body = Array(("{\"eventlogs\":[" + String(repeating: "{\"id\":\"x\"},", count: 3000) + "{\"id\":\"y\"}]}").utf8)
        let server = try CannedHTTPServer(status: "200 OK", body: body, contentLength: withContentLength)
        defer { server.stop() }
        let error = try await #require(throws: ClientError.self) {
            try await Self.client(server.url, maxBytes: 10_000).eventPage(page: 1, perPage: 5000)
        }
        guard case .responseTooLarge(_, let limit) = error else { Issue.record("got \(error)"); return }
        #expect(limit == 10_000 && !error.isRetryable)
        #expect(server.requests.count == 1)
    }

    /// How a body arrived decides whether a page that is not JSON is worth asking for again.
    enum Delivery: String, CaseIterable, Sendable {
        /// As long as its Content-Length: the answer is what the server sends; reported at once.
        case complete
        /// Without a Content-Length, ended by closing the connection: a cut is indistinguishable.
        case closeDelimited
        /// Shorter than its Content-Length: cut by the network (libcurl says so).
        case cutShort

        var retried: Bool { self != .complete }

        func server(status: String = "200 OK", headers: [String] = [], body: [UInt8]) throws -> CannedHTTPServer {
            switch self {
            case .complete: return try CannedHTTPServer(status: status, headers: headers, body: body)
            case .closeDelimited: return try CannedHTTPServer(status: status, headers: headers, body: body, contentLength: false)
            case .cutShort: return try CannedHTTPServer(status: status, headers: headers, body: body, declaredLength: body.count + 100)
            }
        }
    }

    @Test(arguments: Delivery.allCases)
    func htmlInsteadOfJSONIsMalformedAndRetriedOnlyWhenItMayBeCut(_ delivery: Delivery) async throws {
        let server = try delivery.server(headers: ["Content-Type: text/html"], body: Array("<html><body>Login</body></html>".utf8))
        defer { server.stop() }
        let error = try await #require(throws: ClientError.self) {
            try await Self.client(server.url, attempts: 3).eventPage(page: 1, perPage: 10)
        }
        switch (delivery, error) {
        case (.complete, .malformedResponse(_, _, true, false)), (.closeDelimited, .retriesExhausted(3, .malformedResponse(_, _, true, true))):
            #expect(error.description.contains("server answered HTML, not JSON, at http://127.0.0.1:\(server.port)/api/v1/eventlog"))
        case (.cutShort, .retriesExhausted(3, .malformedResponse(_, let reason, false, true))):
            #expect(reason.contains("body cut short"))
        default: Issue.record("\(delivery): got \(error)")
        }
        #expect(server.requests.count == (delivery.retried ? 3 : 1))
    }

    /// Issue 10: a complete answer that is not JSON at all is reported at once, not retried as if the
    /// network had cut it; a body that may have been cut still is.
    @Test(arguments: Delivery.allCases)
    func bodyThatIsNotJSONIsRetriedOnlyWhenItMayBeCut(_ delivery: Delivery) async throws {
        // Invalid outside the list (an invalid element inside a well-framed list is quarantined: below).
        let body = Array(#"{"eventlogs":[{"id":"a","creationTime":"2026-11-20T11:37:29.000Z"}],"n":-01}"#.utf8)
        let server = try delivery.server(headers: ["Content-Type: application/json"], body: body)
        defer { server.stop() }
        let client = try Self.client(server.url, attempts: 3)
        let error = try await #require(throws: ClientError.self) { try await client.eventPage(page: 1, perPage: 10) }
        switch (delivery, error) {
        case (.complete, .malformedResponse(_, let reason, false, false)):
            #expect(reason.contains("not JSON") && !error.isRetryable)
            #expect(error.description.hasPrefix("malformed response from http://127.0.0.1:\(server.port)/api/v1/eventlog"))
        case (.closeDelimited, .retriesExhausted(3, .malformedResponse(_, let reason, false, true))):
            #expect(reason.contains("not JSON"))
        case (.cutShort, .retriesExhausted(3, .malformedResponse(_, let reason, false, true))):
            #expect(reason.contains("body cut short"))
        default: Issue.record("\(delivery): got \(error)")
        }
        #expect(server.requests.count == (delivery.retried ? 3 : 1))
        #expect(client.statistics().retries == (delivery.retried ? 2 : 0))
    }

    @Test func anElementWithoutIdIsKeptAsMalformedNotRetried() async throws {
        let element = #"{"action":"user.login","creationTime":"2026-11-20T11:37:29.000Z"}"#
        let server = try CannedHTTPServer(status: "200 OK", body: Array(#"{"eventlogs":["#.utf8) + Array(element.utf8) + Array("]}".utf8))
        defer { server.stop() }
        let page = try await Self.client(server.url, attempts: 3).eventPage(page: 1, perPage: 10)
        #expect(page.events.isEmpty && page.malformed.count == 1)
        let malformed = try #require(page.malformed.first)
        #expect(malformed.reason.contains("without id") && malformed.raw == Array(element.utf8) && malformed.id == nil)
        #expect(malformed.index == 0 && malformed.epochSeconds == 1_795_174_649)
        #expect(server.requests.count == 1)
    }

    /// Issue 10.9: an element that is not JSON inside a well-framed page is that element's problem: kept
    /// as malformed with its bytes, reason and (read by structure) id and time; its neighbours are read.
    @Test func anElementThatIsNotJSONIsKeptAsMalformedAndTheRestRead() async throws {
        let bad = "{\"id\":\"b\",\"creationTime\":\"2026-11-20T11:37:28.000Z\",\"note\":\"]}\\\"\t\",\"n\":-01}"
        let good = [#"{"id":"a","creationTime":"2026-11-20T11:37:29.000Z"}"#, #"{"id":"c","creationTime":"2026-11-20T11:37:27.000Z"}"#]
        let server = try CannedHTTPServer(status: "200 OK", body: Array("{\"eventlogs\":[\(good[0]), \(bad) ,\(good[1])]}".utf8))
        defer { server.stop() }
        let page = try await Self.client(server.url, attempts: 3).eventPage(page: 1, perPage: 10)
        #expect(page.events.map(\.id) == ["a", "c"] && page.events.map(\.raw) == good.map { Array($0.utf8) })
        let malformed = try #require(page.malformed.first)
        #expect(page.malformed.count == 1 && malformed.raw == Array(bad.utf8) && malformed.index == 1)
        #expect(malformed.reason.hasPrefix("not JSON: control character in string"), "\(malformed.reason)")
        #expect(malformed.id == "b" && malformed.epochSeconds == 1_795_174_648)
        #expect(server.requests.count == 1)
    }

    /// A task log line the server sent whole but is no log line (not JSON, not an object, no timestamp) is
    /// that line's problem: kept apart with its bytes and place, its neighbours read, nothing asked again.
    @Test func aTaskLogLineThatIsNoLogLineIsKeptApartAndTheRestRead() async throws {
        let good = [#"{"realtimeTimestamp":1795174649000000,"message":"step 1","source":"7"}"#,
                    #"{"realtimeTimestamp":0,"message":"continued","source":"7"}"#]
        let bad = ["{\"realtimeTimestamp\":1,\"message\":\"a\t\"}", #""log unavailable""#, #"{"message":"no time","source":"7"}"#]
        let body = [good[0], bad[0], bad[1], "", bad[2], good[1]].map { $0 + "\n" }.joined()
        let server = try CannedHTTPServer(status: "200 OK", headers: ["Content-Type: application/x-logs"], body: Array(body.utf8))
        defer { server.stop() }
        let log = try await Self.client(server.url, attempts: 3).taskLogs(taskId: "7")
        #expect(log.lines.map(\.raw) == good.map { Array($0.utf8) } && log.lines.map(\.realtimeTimestamp) == [1_795_174_649_000_000, 0])
        #expect(log.malformed.map(\.raw) == bad.map { Array($0.utf8) } && log.malformed.map(\.index) == [1, 2, 3])
        #expect(log.malformed.allSatisfy { $0.id == nil })
        let reasons = log.malformed.map(\.reason)
        #expect(reasons[0].hasPrefix("not JSON: control character in string") && reasons[2].contains("realtimeTimestamp"), "\(reasons)")
        #expect(server.requests.count == 1)
    }

    /// Box ends every log line with a newline: a bad last line without one is no line the server sent but
    /// the answer cut short, so the whole request fails (asked again when the body may have been cut; a
    /// complete answer so broken is a server's bug, reported at once and the log asked for by a later run).
    @Test(arguments: Delivery.allCases)
    func aTaskLogEndingInABadLineFailsTheRequest(_ delivery: Delivery) async throws {
        let body = #"{"realtimeTimestamp":1795174649000000,"message":"step 1"}"# + "\n" + #"{"realtimeTimestamp":17951746"#
        let server = try delivery.server(headers: ["Content-Type: application/x-logs"], body: Array(body.utf8))
        defer { server.stop() }
        let error = try await #require(throws: ClientError.self) {
            try await Self.client(server.url, attempts: 3).taskLogs(taskId: "7")
        }
        switch (delivery, error) {
        case (.complete, .malformedResponse(_, let reason, false, false)), (.closeDelimited, .retriesExhausted(3, .malformedResponse(_, let reason, false, true))):
            #expect(reason.contains("task log line is not JSON"), "\(reason)")
        case (.cutShort, .retriesExhausted(3, .malformedResponse(_, let reason, false, true))):
            #expect(reason.contains("body cut short"))
        default: Issue.record("\(delivery): got \(error)")
        }
        #expect(server.requests.count == (delivery.retried ? 3 : 1))
    }

    @Test func serverErrorsAreRetriedThenExhausted() async throws {
        let server = try CannedHTTPServer(status: "503 Service Unavailable",
                                          body: Array(#"{"status":"Service Unavailable","message":"box is updating"}"#.utf8))
        defer { server.stop() }
        let client = try Self.client(server.url, attempts: 4)
        let error = try await #require(throws: ClientError.self) { try await client.taskPage(page: 1, perPage: 10) }
        guard case .retriesExhausted(4, .serverError(_, 503, "box is updating")) = error else { Issue.record("got \(error)"); return }
        #expect(error.description.hasPrefix("retries exhausted after 4 attempts: server error 503"))
        #expect(client.statistics().requestsSent == 4 && client.statistics().retries == 3)
        #expect(server.requests.count == 4 && server.requests.allSatisfy { $0.contains("/api/v1/tasks?") })
    }

    @Test func refusedConnectionIsUnreachable() async throws {
        let server = try HeldPort()
        let url = server.url
        let error = try await #require(throws: ClientError.self) { try await Self.client(url).status() }
        guard case .retriesExhausted(2, .unreachable(let hostAndPort, let reason, true)) = error else { Issue.record("got \(error)"); return }
        #expect(hostAndPort == "127.0.0.1:\(server.port)" && reason == "connection refused")
        #expect(error.category == .unreachable)
    }

    /// A host name whose first label is 64 characters, one more than DNS allows (RFC 1035): the resolver
    /// refuses it without sending a query, so the test meets "unknown host" without depending on the
    /// machine's DNS (a slow or absent one turned this into a timeout).
    static let unresolvableHost = String(repeating: "x", count: 64) + ".invalid"

    @Test func unknownHostIsUnreachableWithoutRetry() async throws {
        var configuration = try ClientConfiguration(baseURL: "https://\(Self.unresolvableHost)", token: APIToken(Self.secret))
        configuration.retry = RetryPolicy(maxAttempts: 3, baseDelay: 0.01)
        let error = try await #require(throws: ClientError.self) {
            try await CloudronClient(configuration: configuration).status()
        }
        guard case .unreachable(let hostAndPort, _, false) = error else { Issue.record("got \(error)"); return }
        #expect(hostAndPort == "\(Self.unresolvableHost):443")
        #expect(error.description.contains("check --url/CLOUDRON_DOMAIN"))
    }
}
