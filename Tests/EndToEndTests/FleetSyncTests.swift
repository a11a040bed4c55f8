import Archiver
import CloudronSimulator
import Foundation
import TestSupport
import Testing

/// `sync --config FILE` through the binary: several simulated servers in one TOML file, one archive.
@Suite("sync --config: a fleet of servers into one archive")
struct FleetSyncTests {
    /// The current version of every object of `kind` archived for instance `name`: API id → raw JSON.
    static func archived(_ kind: ObjectKind, instance name: String, db: String) throws -> [String: String] {
        let archive = try Archive(path: db, mode: .readOnly)
        var objects: [String: String] = [:]
        try archive.database.forEachRow("""
            SELECT c.api_id, v.raw FROM \(kind.currentTable) c
            JOIN \(kind.versionTable) v ON v.\(kind.parentColumn) = c.id AND v.version = c.version
            JOIN instances i ON i.id = c.instance_id WHERE i.name = ?
            """, [.text(name)]) { row in objects[row.string(at: 0)] = row.string(at: 1) }
        return objects
    }

    /// The archive holds exactly what the simulator serves now, for every stream of that server.
    static func expectArchivedCompletely(_ server: FakeCloudronProcess, as name: String, db: String,
                                         sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let truth = try await server.truth()
        func current(_ records: [SimulatorTruth.Record]) -> [String: String] {
            Dictionary(records.map { ($0.id, $0.json) }, uniquingKeysWith: { first, _ in first })
        }
        let events = try archived(.events, instance: name, db: db)
        #expect(!events.isEmpty && events == current(truth.events), "\(name): events differ from the server's",
                sourceLocation: sourceLocation)
        #expect(try archived(.notifications, instance: name, db: db) == current(truth.notifications),
                "\(name): notifications differ from the server's", sourceLocation: sourceLocation)
        #expect(try archived(.tasks, instance: name, db: db) == current(truth.tasks),
                "\(name): tasks differ from the server's", sourceLocation: sourceLocation)
    }

    /// A token file of mode 600 in `folder`.
    static func tokenFile(_ token: String, named name: String, in folder: ScratchFolder) throws -> String {
        let path = folder.file(name)
        try Data((token + "\n").utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        return path
    }

    @Test("three servers, the third unreachable: the other two archived completely, exit 69 with one line naming it; once it is up, the next run syncs it")
    func oneUnreachableServerStopsNoOther() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let first = try await FakeCloudronProcess(["--seed", "81", "--events", "400", "--readonly-token", "fleet-token-first"])
        let second = try await FakeCloudronProcess(["--seed", "82", "--events", "250", "--readonly-token", "fleet-token-second"])
        let down = try HeldPort(), downPort = down.port
        _ = try Self.tokenFile("fleet-token-first", named: "first.token", in: folder)
        _ = try Self.tokenFile("fleet-token-second", named: "second.token", in: folder)
        _ = try Self.tokenFile("fleet-token-third", named: "third.token", in: folder)
        // Relative paths: the archive and the token files are found beside the config, wherever sync runs from.
        // One server at a time, the unreachable one first: the others are synced after it failed, not beside it.
        let config = folder.file("fleet.toml")
        try """
            db = "audit.db"
            jobs = 1

            [[server]]
            name = "third"
            url = "http://127.0.0.1:\(downPort)"
            token_file = "third.token"

            [[server]]
            name = "first"
            url = "\(first.url)"
            token_file = "first.token"

            [[server]]
            name = "second"
            url = "\(second.url)"
            token_file = "second.token"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let db = folder.file("audit.db")

        let run = try await Command(["sync", "--config", config, "--quiet"]).run()
        #expect(run.status == 69, "exit \(run.status): \(run.stderr)")
        #expect(run.stdout.isEmpty, "--quiet printed: \(run.stdout)")
        #expect(run.errorLines.count == 1 && run.errorLines.first?.hasPrefix("cloudron-audit: third: ") == true
                && run.errorLines.first?.contains("127.0.0.1:\(downPort)") == true,
                "one line naming the unreachable server: \(run.stderr)")
        try await Self.expectArchivedCompletely(first, as: "first", db: db)
        try await Self.expectArchivedCompletely(second, as: "second", db: db)
        #expect(try Self.archived(.events, instance: "third", db: db).isEmpty)

        let status = try await Command(["status", "--config", config]).run()
        #expect(status.status == 0, "status: \(status.stderr)")
        let neverSynced = status.stdout.split(separator: "\n").filter { $0.hasPrefix("never synced:") }
        #expect(neverSynced == ["never synced: third (http://127.0.0.1:\(downPort))"], "status --config:\n\(status.stdout)")

        // The third server comes up where the config says; the next run syncs it, one line per server, all
        // three at once (--jobs overrides the file) into the one archive.
        down.release()
        let third = try await FakeCloudronProcess(["--port", String(downPort), "--seed", "83", "--events", "300",
                                                   "--readonly-token", "fleet-token-third"])
        let again = try await Command(["sync", "--config", config, "--jobs", "3"]).run()
        #expect(again.status == 0, "exit \(again.status): \(again.stderr)")
        let lines = again.stdout.split(separator: "\n")
        #expect(lines.count == 3 && Set(lines.map { $0.prefix { $0 != ":" } }) == ["first", "second", "third"],
                "one outcome line per server:\n\(again.stdout)")
        for (server, name) in [(first, "first"), (second, "second"), (third, "third")] {
            try await Self.expectArchivedCompletely(server, as: name, db: db)
        }
        let verify = try await Command(["verify", "--db", db]).run()
        #expect(verify.status == 0, "verify after concurrent writers: \(verify.stdout) \(verify.stderr)")
        let after = try await Command(["status", "--config", config, "--format", "json"]).run()
        // status JSON writes its times as ISO text, so it is read as plain JSON, not decoded as ArchiveStatus.
        let decoded = try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any]
        #expect((decoded?["neverSynced"] as? [Any])?.isEmpty == true)

        for server in [first, second, third] { await server.stop() }
    }

    @Test("a first fleet sync where no server answers: no archive is created; each line names its server and the config's url key, not the command line's flags")
    func noServerAnsweredCreatesNoArchive() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let ports = [try CannedServer.closedPort(), try CannedServer.closedPort()]
        _ = try Self.tokenFile("fleet-token", named: "fleet.token", in: folder)
        let config = folder.file("fleet.toml"), db = folder.file("audit.db")
        try """
            db = "audit.db"
            [[server]]
            name = "north"
            url = "http://127.0.0.1:\(ports[0])"
            token_file = "fleet.token"
            [[server]]
            name = "south"
            url = "http://127.0.0.1:\(ports[1])"
            token_file = "fleet.token"
            """.write(toFile: config, atomically: true, encoding: .utf8)

        let run = try await Command(["sync", "--config", config]).run()
        #expect(run.status == 69, "exit \(run.status): \(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db), "a fleet sync that reached no server created the archive")
        #expect(run.errorLines.count == 2, "one line per server: \(run.stderr)")
        for (name, port) in zip(["north", "south"], ports) {
            let line = run.errorLines.first { $0.hasPrefix("cloudron-audit: \(name): ") }
            #expect(line?.contains("127.0.0.1:\(port)") == true && line?.contains("url") == true, "\(name): \(run.stderr)")
        }
        #expect(!run.stderr.contains("--url") && !run.stderr.contains("CLOUDRON_DOMAIN"),
                "the hint names command-line settings the config does not use: \(run.stderr)")
    }

    @Test("a stream refused to a config's token: the warning's hint names the config's token_file, not the command line's token flags")
    func refusedStreamHintNamesTheConfig() async throws {
        let simulator = SimulatedCloudron(configuration: SimulatorConfiguration(seed: 84, eventCount: 60))
        let url = try await simulator.start()
        let folder = try ScratchFolder()
        defer { folder.remove(); Task { await simulator.stop() } }
        await simulator.setFaults(SimulatorFaults(unauthorizedStreams: ["tasks"]))
        _ = try Self.tokenFile(simulator.readonlyToken, named: "fleet.token", in: folder)
        let config = folder.file("fleet.toml")
        try "db = \"audit.db\"\n[[server]]\nname = \"srv\"\nurl = \"\(url)\"\ntoken_file = \"fleet.token\"\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let run = try await Command(["sync", "--config", config, "--quiet"]).run()
        #expect(run.status == 0, "exit \(run.status): \(run.stderr)")
        #expect(run.errorLines.count == 1 && run.stderr.contains("srv: tasks not synced") && run.stderr.contains("token_file"),
                "one warning naming the config's key: \(run.stderr)")
        #expect(!run.stderr.contains("--token") && !run.stderr.contains("CLOUDRON_TOKEN"), "\(run.stderr)")
    }

    @Test("servers are fetched at once: the first server's first answer waits until the second server is asked something")
    func serversAreFetchedConcurrently() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        // Released when the second server receives its first request; the wait is bounded so that a sync
        // that asks one server at a time still ends (and the test then fails on `overlapped`).
        let secondAsked = DispatchSemaphore(value: 0)
        let overlapped = Flag(), waited = Flag()
        let healthy = CloudronShapes.answer(eventLog: .json(#"{"eventlogs":[]}"#))
        let first = try CannedServer { head in
            if !waited.testAndSet() {
                if secondAsked.wait(timeout: .now() + 30) == .success { overlapped.set() }
            }
            return healthy(head)
        }
        let second = try CannedServer { head in
            secondAsked.signal()
            return healthy(head)
        }
        defer { first.stop(); second.stop() }
        _ = try Self.tokenFile("fleet-token", named: "fleet.token", in: folder)
        let config = folder.file("fleet.toml")
        try """
            jobs = 2
            [[server]]
            name = "first"
            url = "\(first.url)"
            token_file = "fleet.token"
            [[server]]
            name = "second"
            url = "\(second.url)"
            token_file = "fleet.token"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try await Command(["sync", "--config", config, "--db", folder.file("audit.db"), "--quiet"]).run()
        #expect(run.status == 0, "exit \(run.status): \(run.stderr)")
        #expect(overlapped.isSet, "the second server was asked nothing while the first one's answer was pending")
    }

    @Test("a server that answers at another URL under an archived name: refused with what to write in the config (exit 64), accepted with moved = true")
    func movedServerNeedsMovedInTheConfig() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let healthy = CloudronShapes.answer(eventLog: .json(#"{"eventlogs":[]}"#))
        let old = try CannedServer(answer: healthy), new = try CannedServer(answer: healthy)
        defer { old.stop(); new.stop() }
        _ = try Self.tokenFile("fleet-token", named: "fleet.token", in: folder)
        let config = folder.file("fleet.toml"), db = folder.file("audit.db")
        func sync(url: String, extra: String = "") async throws -> CommandResult {
            try "[[server]]\nname = \"srv\"\nurl = \"\(url)\"\ntoken_file = \"fleet.token\"\n\(extra)"
                .write(toFile: config, atomically: true, encoding: .utf8)
            return try await Command(["sync", "--config", config, "--db", db, "--quiet"]).run()
        }
        func archivedURL() throws -> String? { try Archive(path: db, mode: .readOnly).instanceBaseURL(name: "srv") }

        #expect(try await sync(url: old.url).status == 0)
        let refused = try await sync(url: new.url)
        #expect(refused.status == 64 && refused.errorLines.count == 1
                && refused.stderr.contains("moved = true") && !refused.stderr.contains("--moved"), "\(refused.status): \(refused.stderr)")
        #expect(try archivedURL() == old.url)
        let accepted = try await sync(url: new.url, extra: "moved = true")
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(try archivedURL() == new.url)
    }

    @Test("a per-server flag beside --config is refused (64, one line naming it), never silently ignored",
          arguments: [["--url", "http://127.0.0.1:9"], ["--domain", "a.example.com"], ["--token-file", "t"], ["--token", "t"],
                      ["--instance", "a"], ["--streams", "eventlog"], ["--moved"], ["--cacert", "c.pem"]])
    func perServerFlagsAreRefusedWithConfig(_ flag: [String]) async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let run = try await Command(["sync", "--config", folder.file("fleet.toml"), "--db", folder.file("audit.db")] + flag).run()
        #expect(run.status == 64 && run.errorLines.count == 1 && run.stderr.contains(flag[0]), "\(flag): \(run.status) \(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("audit.db")))
    }

    struct BadConfig: CustomTestStringConvertible, Sendable {
        let name: String
        let text: String
        /// `FILE:LINE: KEY:` as the error line starts, after the file's path.
        let expected: String
        var testDescription: String { name }
    }

    static let badConfigs: [BadConfig] = [
        BadConfig(name: "an unknown key", text: """
            jobs = 2
            task_log = true
            [[server]]
            name = "a"
            url = "http://127.0.0.1:9"
            token_file = "good.token"
            """, expected: ":2: task_log: unknown key"),
        BadConfig(name: "a token written inline", text: """
            [[server]]
            name = "a"
            url = "http://127.0.0.1:9"

            token = "s3cret-inline-token"
            """, expected: ":5: token: a token must not be written in the config"),
        BadConfig(name: "a missing token file", text: """
            [[server]]
            name = "a"
            url = "http://127.0.0.1:9"
            token_file = "absent.token"
            """, expected: ":4: token_file: cannot read token file"),
        BadConfig(name: "a token file others can read", text: """
            [[server]]
            name = "a"
            url = "http://127.0.0.1:9"
            token_file = "open.token"
            """, expected: ":4: token_file: token file"),
        BadConfig(name: "two servers of one name", text: """
            [[server]]
            name = "a"
            url = "http://127.0.0.1:9"
            token_file = "good.token"

            [[server]]
              name = "a"
            domain = "b.example.com"
            token_file = "good.token"
            """, expected: ":7: name: \"a\" names two servers"),
        BadConfig(name: "a server key in the wrong table", text: """
            [[server]]
            name = "a"
            url = "http://127.0.0.1:9"
            token_file = "good.token"
            jobs = 2
            """, expected: ":5: jobs: unknown key in [[server]]"),
        BadConfig(name: "not TOML", text: """
            jobs = 2
            [[server]
            name = "a"
            """, expected: ":2: not valid TOML"),
    ]

    @Test("a bad config: one line naming file, line and key, exit 78, nothing synced", arguments: badConfigs)
    func badConfigSyncsNothing(_ bad: BadConfig) async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        _ = try Self.tokenFile("fleet-good-token", named: "good.token", in: folder)
        chmod(try Self.tokenFile("fleet-open-token", named: "open.token", in: folder), 0o644)
        let config = folder.file("fleet.toml")
        try ("db = \"audit.db\"\n" + bad.text).write(toFile: config, atomically: true, encoding: .utf8)
        let run = try await Command(["sync", "--config", config]).run()
        #expect(run.status == 78, "exit \(run.status): \(run.stderr)")
        // The db line comes first in the file: every expected line number is one further down.
        let shifted = bad.expected.replacing(/^:(\d+):/) { ":\((Int($0.output.1) ?? 0) + 1):" }
        #expect(run.errorLines.count == 1 && run.errorLines.first?.hasPrefix("cloudron-audit: \(config)\(shifted)") == true,
                "expected \(config)\(shifted): \(run.stderr)")
        #expect(!run.stderr.contains("s3cret-inline-token") && !run.stderr.contains("fleet-open-token"))
        #expect(!FileManager.default.fileExists(atPath: folder.file("audit.db")), "a bad config created the archive")
    }
}

/// A flag shared with a server's answering thread.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
    /// Sets the flag and tells whether it was set before.
    func testAndSet() -> Bool { lock.withLock { defer { value = true }; return value } }
}
