import Testing
import TestSupport
import Foundation
import Logging
@testable import Client

/// Collects every log line of every client in this test process, so a test can grep them for the token.
final class CapturedLog: LogHandler, @unchecked Sendable {
    static let shared = CapturedLog()
    static let installed: Void = {
        LoggingSystem.bootstrap { _ in CapturedLog.shared }
    }()
    private let lock = NSLock()
    private var lines: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let text = "\(event.level) \(event.message) \(event.metadata.map { "\($0)" } ?? "") \(event.error.map { "\($0)" } ?? "")"
        lock.withLock { lines.append(text) }
    }
    var all: [String] { lock.withLock { lines } }
}

/// Provokes every error kind that can be provoked on loopback, with a token that servers even echo
/// back, and checks that the token appears in no description and no log line.
@Suite struct TokenRedactionTests {
    static let secret = "tok-LEAK-CANARY-0123456789abcdef"

    static func client(_ url: String, _ auth: AuthStyle) throws -> CloudronClient {
        var configuration = try ClientConfiguration(baseURL: url, token: APIToken(secret))
        configuration.authStyle = auth
        configuration.retry = RetryPolicy(maxAttempts: 2, baseDelay: 0.01, maxDelay: 0.01, retryAfterCap: 0.01)
        configuration.maxResponseBytes = 2_000
        configuration.connectTimeout = 2
        configuration.requestTimeout = 5
        return try CloudronClient(configuration: configuration)
    }

    @Test func tokenAppearsInNoErrorOrLogLine() async throws {
        _ = CapturedLog.installed
        let echo = "access_token=\(Self.secret) and Bearer \(Self.secret)"
        let answers: [(String, [String], String, ClientError.Category)] = [
            ("302 Found", ["Location: https://other.example/x?access_token=\(Self.secret)"], "", .redirectRefused),
            ("400 Bad Request", [], #"{"status":"Bad Request","message":"\#(echo)"}"#, .badRequest),
            ("401 Unauthorized", [], "Unauthorized \(echo)", .tokenRejected),
            ("403 Forbidden", [], #"{"status":"Forbidden","message":"\#(echo)"}"#, .forbidden),
            ("404 Not Found", [], #"{"status":"Not Found","message":"\#(echo)"}"#, .notFound),
            ("418 I'm a teapot", [], echo, .serverError),
            ("429 Too Many Requests", ["Retry-After: 1"], echo, .rateLimited),
            ("500 Internal Server Error", [], #"{"status":"Internal Server Error","message":"\#(echo)"}"#, .serverError),
            ("502 Bad Gateway", ["Content-Type: text/html"], "<html>\(echo)</html>", .serverError),
            ("200 OK", ["Content-Type: text/html"], "<html>\(echo)</html>", .malformedResponse),
            ("200 OK", [], #"{"eventlogs":[{"id":"a","creationTime":"\#(echo)"#, .malformedResponse),
            ("200 OK", [], String(repeating: Self.secret, count: 100), .responseTooLarge),
        ]
        var descriptions: [String] = []
        var categories: Set<ClientError.Category> = []
        for (status, headers, body, expected) in answers {
            let server = try CannedHTTPServer(status: status, headers: headers, body: Array(body.utf8))
            defer { server.stop() }
            for auth in [AuthStyle.bearerHeader, .queryParameter] {
                let client = try Self.client(server.url, auth)
                do {
                    _ = try await client.eventPage(page: 1, perPage: 5)
                    Issue.record("\(status) did not fail")
                } catch let error as ClientError {
                    #expect(error.category == expected, "\(status): \(error)")
                    categories.insert(error.category)
                    descriptions.append(error.description)
                    descriptions.append(String(reflecting: error))
                }
            }
        }
        // A list element that is no usable event fails nothing (it is quarantined), and its reason,
        // which quotes the element's id, never carries the token.
        let quoting = try CannedHTTPServer(status: "200 OK", body: Array(#"{"eventlogs":[{"id":"\#(echo)","creationTime":"x"}]}"#.utf8))
        defer { quoting.stop() }
        for auth in [AuthStyle.bearerHeader, .queryParameter] {
            let page = try await Self.client(quoting.url, auth).eventPage(page: 1, perPage: 5)
            #expect(page.malformed.count == 1)
            descriptions += page.malformed.map(\.reason)
        }
        // Connection refused, unknown host, bad URLs, insecure http, bad token file.
        let closed = try HeldPort()
        for url in [closed.url, "https://\(TransportTests.unresolvableHost)"] {
            for auth in [AuthStyle.bearerHeader, .queryParameter] {
                do { _ = try await Self.client(url, auth).status() } catch let error as ClientError {
                    categories.insert(error.category)
                    descriptions.append(error.description)
                }
            }
        }
        for url in ["https://x.example/?access_token=\(Self.secret)", "https://\(Self.secret)@x.example", "http://198.51.100.7"] {
            do { _ = try Self.client(url, .queryParameter) } catch let error as ClientError {
                categories.insert(error.category)
                descriptions.append(error.description)
            }
        }
        #expect(categories.isSuperset(of: [.redirectRefused, .badRequest, .tokenRejected, .forbidden, .notFound,
                                           .rateLimited, .serverError, .malformedResponse, .responseTooLarge,
                                           .unreachable, .configuration]))
        #expect(descriptions.count >= 30)
        for description in descriptions {
            #expect(!description.contains(Self.secret), "leaked: \(description)")
            #expect(!description.contains("\n"), "one line: \(description)")
        }
        let logs = CapturedLog.shared.all
        #expect(logs.contains(where: { $0.contains("/api/v1/eventlog") }), "requests are logged")
        for line in logs { #expect(!line.contains(Self.secret), "leaked in log: \(line)") }
    }
}
