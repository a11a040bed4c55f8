import Testing
#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import Client

@Suite struct ConfigurationTests {
    let token = try! APIToken("secret-token-value")

    @Test(arguments: [
        ("https://my.example.com", "https://my.example.com"),
        ("https://My.Example.com/", "https://my.example.com"),
        ("my.example.com", "https://my.example.com"),
        ("  my.example.com\n", "https://my.example.com"),
        ("HTTPS://my.example.com:443", "https://my.example.com"),
        ("https://my.example.com:8443", "https://my.example.com:8443"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:9000/", "http://[::1]:9000"),
    ])
    func normalisesBaseURLs(_ input: String, _ expected: String) throws {
        #expect(try ClientConfiguration(baseURL: input, token: token).baseURL == expected)
    }

    @Test(arguments: ["", "ftp://my.example.com", "https://my.example.com/api/v1", "https://x.com?access_token=abc",
                      "https://user:pw@x.com", "https://x.com:0", "https://x.com:99999", "https://bad host", "file:///etc/passwd"])
    func rejectsBadBaseURLs(_ input: String) throws {
        let error = try #require(throws: ClientError.self) { try ClientConfiguration(baseURL: input, token: token) }
        #expect(error.category == .configuration)
        #expect(!error.description.contains("abc"), "query values are not echoed")
    }

    @Test func domainStyle() throws {
        #expect(try ClientConfiguration.domain("my.example.com", token: token).baseURL == "https://my.example.com")
        #expect(try ClientConfiguration.domain("https://my.example.com/", token: token).baseURL == "https://my.example.com")
    }

    @Test func plainHTTPOnlyToLoopbackUnlessAllowed() throws {
        for host in ["http://127.0.0.1:1", "http://127.9.8.7:1", "http://localhost:1", "http://[::1]:1"] {
            _ = try CloudronClient(configuration: ClientConfiguration(baseURL: host, token: token))
        }
        var remote = try ClientConfiguration(baseURL: "http://192.168.1.10", token: token)
        let error = try #require(throws: ClientError.self) { try CloudronClient(configuration: remote) }
        guard case .insecureHTTP(let host) = error else { Issue.record("got \(error)"); return }
        #expect(host == "192.168.1.10")
        remote.allowInsecureHTTP = true
        _ = try CloudronClient(configuration: remote)
        // 127.evil.com is not loopback.
        #expect(throws: ClientError.self) {
            try CloudronClient(configuration: ClientConfiguration(baseURL: "http://127.0.0.1.nip.io", token: token))
        }
    }

    @Test func tokenIsTrimmedValidatedAndNeverPrinted() throws {
        let token = try APIToken("  abc123\n")
        #expect(token.secret == "abc123")
        #expect("\(token)" == "<redacted>")
        #expect(String(reflecting: token) == "APIToken(<redacted>)")
        var dumped = ""
        dump(token, to: &dumped)
        let config = try ClientConfiguration(baseURL: "my.example.com", token: token)
        dump(config, to: &dumped)
        dumped += "\(config) \(String(reflecting: config))"
        #expect(!dumped.contains("abc123"))
        #expect(throws: ClientError.self) { try APIToken(" \n\t") }
        #expect(throws: ClientError.self) { try APIToken("abc\u{7}def") }
        let error = try #require(throws: ClientError.self) { try APIToken("abc\u{1}def") }
        #expect(!error.description.contains("abc"))
    }

    @Test func tokenFileMustNotBeGroupOrWorldReadable() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("client-token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("token").path
        try Data("file-token-value\n".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o644)
        let error = try #require(throws: ClientError.self) { try APIToken.fromFile(path) }
        #expect(error.description.contains("chmod 600"))
        #expect(!error.description.contains("file-token-value"))
        chmod(path, 0o600)
        #expect(try APIToken.fromFile(path).secret == "file-token-value")
        #expect(throws: ClientError.self) { try APIToken.fromFile(path + ".missing") }
    }

    /// Through an environment dictionary: setenv would change every test running in this process.
    @Test func tokenFromEnvironment() throws {
        #expect(try APIToken.fromEnvironment(["CLOUDRON_TOKEN": " env-token \n", "HOME": "/root"])?.secret == "env-token")
        #expect(try APIToken.fromEnvironment(["HOME": "/root"]) == nil)
        #expect(throws: ClientError.self) { try APIToken.fromEnvironment(["CLOUDRON_TOKEN": " \n"]) }
    }

    @Test func retryDelaysUseFullJitterAndCapRetryAfter() {
        let policy = RetryPolicy.default
        for retry in 1...8 {
            let ceiling = min(8, 0.25 * Double(1 << (retry - 1)))
            for _ in 0..<50 { #expect((0...ceiling).contains(policy.delay(beforeRetry: retry, retryAfter: nil))) }
        }
        #expect(policy.delay(beforeRetry: 1, retryAfter: 120) == 30)
        #expect(policy.delay(beforeRetry: 1, retryAfter: 2) == 2)
        let samples = (0..<50).map { _ in policy.delay(beforeRetry: 5, retryAfter: nil) }
        #expect(Set(samples).count > 1, "jittered")
    }
}
