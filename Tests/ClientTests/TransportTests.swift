import Testing
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

    @Test func htmlInsteadOfJSONIsMalformedAndRetried() async throws {
        let server = try CannedHTTPServer(status: "200 OK", headers: ["Content-Type: text/html"],
                                          body: Array("<html><body>Login</body></html>".utf8))
        defer { server.stop() }
        let error = try await #require(throws: ClientError.self) {
            try await Self.client(server.url, attempts: 3).eventPage(page: 1, perPage: 10)
        }
        guard case .retriesExhausted(3, .malformedResponse(_, _, true, true)) = error else { Issue.record("got \(error)"); return }
        #expect(error.description.contains("server answered HTML, not JSON, at http://127.0.0.1:\(server.port)/api/v1/eventlog"))
        #expect(server.requests.count == 3)
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
        let server = try CannedHTTPServer(status: "200 OK", body: [])
        let url = server.url
        server.stop()
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
