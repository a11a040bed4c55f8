import Archiver
import Foundation
import Testing
import TestSupport

/// A server that is not there, not a Cloudron, or not willing, met through the binary. Each failing
/// sync runs against an archive that already holds a good sync of the same instance: the failure
/// must exit with the documented code and one line, change no archived row, leave `verify` clean, and
/// the next sync against the real server must complete.
@Suite("the server misbehaves: documented exit code, one line, archive consistent, next sync completes")
struct ServerErrorTests {
    static let token = "e2e-server-token-5f1d0c3a9b"

    /// A synced archive of instance `srv` from a small simulator, and the way back to it.
    struct GoodArchive {
        let simulator: FakeCloudronProcess
        let url: String
        let folder: ScratchFolder
        let db: String

        static func make(seed: UInt64, events: Int = 200) async throws -> GoodArchive {
            let simulator = try await FakeCloudronProcess(["--seed", String(seed), "--events", String(events), "--readonly-token", token])
            let url = simulator.url
            let folder = try ScratchFolder()
            let archive = GoodArchive(simulator: simulator, url: url, folder: folder, db: folder.file("audit.db"))
            let first = try await archive.sync(url: url)
            guard first.status == 0 else { throw TestFailure("first sync failed: \(first.stderr)") }
            return archive
        }

        /// Always `--moved`: the failing servers stand in for the same instance at another address.
        func sync(url: String, extra: [String] = []) async throws -> CommandResult {
            try await Command(["sync", "--url", url, "--db", db, "--instance", "srv", "--moved", "--quiet"] + extra,
                        environment: ["CLOUDRON_TOKEN": ServerErrorTests.token]).run()
        }

        /// After a failed sync: rows unchanged, verify clean, the next good sync completes with the truth.
        func expectRecovers(rowsBefore: [String: String], sourceLocation: SourceLocation = #_sourceLocation) async throws {
            #expect(try SyncCrashTests.archivedEvents(db) == rowsBefore, "a failed sync changed archived rows",
                    sourceLocation: sourceLocation)
            let verify = try await Command(["verify", "--db", db]).run()
            #expect(verify.status == 0, "verify after a failed sync: \(verify.stdout) \(verify.stderr)",
                    sourceLocation: sourceLocation)
            let again = try await sync(url: url)
            #expect(again.status == 0, "the next sync did not complete: \(again.stderr)", sourceLocation: sourceLocation)
            #expect(try SyncCrashTests.archivedEvents(db) == (try await simulator.currentEvents()), sourceLocation: sourceLocation)
        }

        func close() async {
            await simulator.stop()
            folder.remove()
        }
    }

    struct Scenario: CustomTestStringConvertible, Sendable {
        let name: String
        let eventLog: CannedAnswer
        let exit: Int32
        let hints: [String]
        /// The notification and task lists answer the same as the event log (else they are healthy and empty).
        var everyStream = false
        var testDescription: String { name }
    }

    static let scenarios: [Scenario] = [
        Scenario(name: "an HTML login page instead of JSON",
                 eventLog: .http("200 OK", headers: ["Content-Type: text/html"],
                                 body: "<!doctype html><html><body><form>Sign in</form></body></html>"),
                 exit: 76, hints: ["HTML", "proxy"]),
        Scenario(name: "HTML without a content type",
                 eventLog: .http("200 OK", body: "<html><body>It works!</body></html>"), exit: 76, hints: ["HTML"]),
        Scenario(name: "JSON of the wrong shape", eventLog: .json(#"{"status":"ok","items":[1,2,3]}"#),
                 exit: 76, hints: ["eventlogs"]),
        // Elements that are no usable event (numbers, an event without id) are quarantined, not fatal: RobustnessTests.
        Scenario(name: "JSON cut short", eventLog: .json(#"{"eventlogs":[{"id":"a","action":"#), exit: 76, hints: ["JSON"]),
        // A stream refused alone is skipped with a warning (RobustnessTests); refused on every stream, the token is wrong.
        Scenario(name: "403 with a JSON message",
                 eventLog: .json(#"{"status":"Forbidden","message":"Token lacks the admin scope"}"#, status: "403 Forbidden"),
                 exit: 77, hints: ["403", "admin"], everyStream: true),
        Scenario(name: "403 as plain text", eventLog: .http("403 Forbidden", body: "Forbidden"), exit: 77, hints: ["403"],
                 everyStream: true),
        Scenario(name: "401 from a proxy", eventLog: .http("401 Unauthorized", body: "Unauthorized"), exit: 77,
                 hints: ["401", "token"], everyStream: true),
        Scenario(name: "503 from a proxy, every time (HTML body)",
                 eventLog: .http("503 Service Unavailable", headers: ["Content-Type: text/html"],
                                 body: "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"),
                 exit: 75, hints: ["503", "try later"]),
        Scenario(name: "429 Too Many Requests, every time",
                 eventLog: .http("429 Too Many Requests", headers: ["Retry-After: 0"], body: "Too Many Requests"),
                 exit: 75, hints: ["429"]),
        Scenario(name: "a 418 teapot", eventLog: .http("418 I'm a teapot", body: "no"), exit: 76, hints: ["418", "Cloudron"]),
        Scenario(name: "a 50 MB body that is not JSON",
                 eventLog: .stream(head: Array("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 52428800\r\n\r\n".utf8),
                                   chunk: Array(repeating: UInt8(ascii: "x"), count: 1 << 16), total: 50 << 20),
                 exit: 76, hints: ["JSON"]),
        Scenario(name: "a body over the cap announced by Content-Length",
                 eventLog: .stream(head: Array("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 209715200\r\n\r\n".utf8),
                                   chunk: Array(repeating: UInt8(ascii: " "), count: 1 << 16), total: 200 << 20),
                 exit: 76, hints: ["exceeds", "64 MiB", "--page-size"]),
        Scenario(name: "an endless body without Content-Length",
                 eventLog: .stream(head: Array("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\n\r\n".utf8),
                                   chunk: Array(repeating: UInt8(ascii: " "), count: 1 << 16), total: 200 << 20),
                 exit: 76, hints: ["exceeds", "64 MiB", "--page-size"]),
    ]

    @Test("canned answers the simulator cannot give", arguments: scenarios)
    func cannedAnswer(_ scenario: Scenario) async throws {
        let good = try await GoodArchive.make(seed: 31)
        let server = try CannedServer(answer: CloudronShapes.answer(eventLog: scenario.eventLog,
                                                                    lists: scenario.everyStream ? scenario.eventLog : nil))
        defer { server.stop() }
        let rows = try SyncCrashTests.archivedEvents(good.db)

        let failed = try await good.sync(url: server.url)
        expectFailure(failed, exit: scenario.exit, naming: scenario.hints)
        #expect(!failed.stderr.contains(Self.token))
        try await good.expectRecovers(rowsBefore: rows)
        await good.close()
    }

    /// 1,000 well-formed events, newest first, one a minute.
    static let cappedServerEvents: [String] = (0..<1000).map { index in
        let time = Date(timeIntervalSince1970: 1_795_176_000 - TimeInterval(index * 60))
        let iso = ISO8601DateFormatter()
        return #"{"id":"capped-\#(index)","action":"app.up","creationTime":"\#(iso.string(from: time).dropLast()).000Z","#
            + #""source":{"userId":null,"username":"healthmonitor"},"data":{"appId":"app-\#(index % 7)"}}"#
    }

    @Test("a proxy that serves half of every per_page asked (the cap shrinks as sync adapts): exit 76 naming --page-size")
    func shrinkingPageSizeCap() async throws {
        let otherEndpoints = CloudronShapes.answer(eventLog: .json("{}"))
        let server = try CannedServer { head in
            let target = head.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
            guard target.hasPrefix("/api/v1/eventlog") else { return otherEndpoints(head) }
            let query = Dictionary(target.split(separator: "?").dropFirst().first?.split(separator: "&").compactMap { pair -> (String, Int)? in
                let parts = pair.split(separator: "=")
                guard parts.count == 2, let value = Int(parts[1]) else { return nil }
                return (String(parts[0]), value)
            } ?? [], uniquingKeysWith: { _, last in last })
            let perPage = query["per_page"] ?? 25, page = query["page"] ?? 1
            let start = min(Self.cappedServerEvents.count, (page - 1) * perPage)
            let end = min(Self.cappedServerEvents.count, start + max(1, perPage / 2))
            return .json(#"{"eventlogs":["# + Self.cappedServerEvents[start..<end].joined(separator: ",") + "]}")
        }
        defer { server.stop() }
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = folder.file("audit.db")
        let failed = try await Command(["sync", "--url", server.url, "--db", db, "--page-size", "200"],
                                       environment: ["CLOUDRON_TOKEN": Self.token]).run()
        // Asked 200, served 100: sync walks again with 100, is served 50, and gives up naming the size.
        expectFailure(failed, exit: 76, naming: ["per_page", "--page-size 50"])
        #expect(!failed.stderr.contains(Self.token))
        let verify = try await Command(["verify", "--db", db]).run()
        #expect(verify.status == 0, "whatever was archived before the failure is consistent: \(verify.stdout) \(verify.stderr)")
    }

    @Test("a redirect to another host is refused and the token never reaches it")
    func crossHostRedirect() async throws {
        let good = try await GoodArchive.make(seed: 32)
        let elsewhere = try CannedServer(always: .json(#"{"eventlogs":[]}"#))
        defer { elsewhere.stop() }
        let redirecting = try CannedServer(answer: CloudronShapes.answer(eventLog: .http(
            "302 Found", headers: ["Location: http://localhost:\(elsewhere.port)/api/v1/eventlog?page=1"], body: "")))
        defer { redirecting.stop() }
        let rows = try SyncCrashTests.archivedEvents(good.db)

        for extra in [[], ["--token-in-query"]] {
            let failed = try await good.sync(url: redirecting.url, extra: extra)
            expectFailure(failed, exit: 76, naming: ["redirect", "localhost", "--url"])
            #expect(!failed.stderr.contains(Self.token))
        }
        #expect(elsewhere.requests.isEmpty, "the redirect was followed: \(elsewhere.requests)")
        #expect(!redirecting.requests.isEmpty)
        try await good.expectRecovers(rowsBefore: rows)
        await good.close()
    }

    @Test("plain http:// to a host that is not loopback is refused before any request (78, naming https://)")
    func insecureHTTP() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let result = try await Command(["sync", "--url", "http://198.51.100.7", "--db", folder.file("a.db")],
                                       environment: ["CLOUDRON_TOKEN": Self.token]).run()
        expectFailure(result, exit: 78, naming: ["http://", "https://"])
        #expect(!result.stderr.contains(Self.token))
        #expect(!FileManager.default.fileExists(atPath: folder.file("a.db")), "an archive was created before the refusal")
    }

    @Test("nothing listening on the port: exit 69 naming the address to check")
    func closedPort() async throws {
        let good = try await GoodArchive.make(seed: 33)
        let rows = try SyncCrashTests.archivedEvents(good.db)
        let port = try CannedServer.closedPort()
        let failed = try await good.sync(url: "http://127.0.0.1:\(port)")
        expectFailure(failed, exit: 69, naming: ["127.0.0.1:\(port)", "refused", "--url"])
        try await good.expectRecovers(rowsBefore: rows)
        await good.close()
    }

    @Test("the wrong port: something that does not speak HTTP answers")
    func wrongPortOtherProtocol() async throws {
        let good = try await GoodArchive.make(seed: 34)
        let rows = try SyncCrashTests.archivedEvents(good.db)
        let ssh = try CannedServer(always: .bytes(Array("SSH-2.0-OpenSSH_9.6p1 Debian\r\n".utf8)))
        defer { ssh.stop() }
        let failed = try await good.sync(url: ssh.url)
        expectFailure(failed, exit: 69, naming: ["127.0.0.1:\(ssh.port)", "does not speak HTTP", "--url"])
        #expect(ssh.requests.count == 1, "a non-HTTP answer is not worth retrying")
        try await good.expectRecovers(rowsBefore: rows)
        await good.close()
    }

    @Test("the wrong port: https:// to a plain-HTTP port is a connection problem, not a certificate one")
    func httpsToPlainPort() async throws {
        let good = try await GoodArchive.make(seed: 35)
        let rows = try SyncCrashTests.archivedEvents(good.db)
        let port = good.url.split(separator: ":").last.map(String.init) ?? ""
        let failed = try await good.sync(url: "https://127.0.0.1:\(port)")
        expectFailure(failed, exit: 69, naming: ["127.0.0.1:\(port)", "TLS handshake", "https://"])
        #expect(!failed.stderr.contains("--cacert"), "a handshake with a plain-HTTP port is not a certificate problem")
        try await good.expectRecovers(rowsBefore: rows)
        await good.close()
    }

    @Test("401 from the Cloudron, plain text and JSON: exit 77 naming the token", arguments: [false, true])
    func tokenRejected(jsonBody: Bool) async throws {
        let simulator = try await FakeCloudronProcess(["--seed", "36", "--events", "50"] + (jsonBody ? ["--json-401"] : []))
        let url = simulator.url
        let folder = try ScratchFolder()
        let wrong = "e2e-wrong-token-77d1e0b2"
        let failed = try await Command(["sync", "--url", url, "--db", folder.file("a.db")],
                                 environment: ["CLOUDRON_TOKEN": wrong]).run()
        expectFailure(failed, exit: 77, naming: ["401", "token"])
        #expect(!failed.stderr.contains(wrong) && !failed.stdout.contains(wrong))
        await simulator.stop()
        folder.remove()
    }

    @Test("a 2019 server (event log at /api/v1/cloudron/eventlog, wrapped objects): sync archives everything")
    func legacyServer() async throws {
        let simulator = try await FakeCloudronProcess(["--seed", "37", "--events", "300", "--legacy-2019"])
        let url = simulator.url
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = folder.file("legacy.db")
        let env = ["CLOUDRON_TOKEN": simulator.readonlyToken]
        let sync = try await Command(["sync", "--url", url, "--db", db, "--task-logs", "--quiet"], environment: env).run()
        #expect(sync.status == 0, "stderr: \(sync.stderr)")
        #expect(sync.stderr.isEmpty && sync.stdout.isEmpty, "--quiet printed: \(sync.stdout) \(sync.stderr)")
        let expected = try await simulator.currentEvents()
        #expect(expected.count == 300)
        #expect(try SyncCrashTests.archivedEvents(db) == expected)
        let again = try await Command(["sync", "--url", url, "--db", db, "--quiet"], environment: env).run()
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(try await Command(["verify", "--db", db]).run().status == 0)
        let counts = try await Command(["status", "--db", db, "--format", "json"]).run()
        #expect(counts.status == 0)
        await simulator.stop()
    }

    @Test("TLS with a self-signed certificate: exit 78 naming --cacert; with --cacert the handshake passes",
          Prerequisite.openssl.trait)
    func selfSignedCertificate() async throws {
        try Prerequisite.openssl.require()
        let server = try await SelfSignedTLSServer()
        defer { server.stop() }
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = folder.file("tls.db")
        let env = ["CLOUDRON_TOKEN": Self.token]

        let refused = try await Command(["sync", "--url", server.url, "--db", db], environment: env).run()
        expectFailure(refused, exit: 78, naming: ["TLS", "--cacert"])
        let missingCA = try await Command(["sync", "--url", server.url, "--db", db, "--cacert", folder.file("nope.pem")],
                                          environment: env).run()
        expectFailure(missingCA, exit: 78, naming: ["--cacert", folder.file("nope.pem")])

        // s_server -www answers every request with an HTML status page: past TLS, not a Cloudron.
        let trusted = try await Command(["sync", "--url", server.url, "--db", db, "--cacert", server.certificate],
                                  environment: env).run()
        expectFailure(trusted, exit: 76, naming: ["HTML"])
        #expect(!refused.stderr.contains(Self.token) && !trusted.stderr.contains(Self.token))
    }
}
