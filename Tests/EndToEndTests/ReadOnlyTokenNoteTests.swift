import Foundation
import Testing

/// cloudron-audit only reads, so a read-only API token is enough. Cloudron has no documented read-only way to
/// learn a token's scope, and trying a write to find out is out of the question for an audit tool: `sync`
/// says so once per instance, on its first completed run, whichever token it was given.
@Suite("sync says once that a read-only token is enough")
struct ReadOnlyTokenNoteTests {
    static let adminToken = "note-e2e-read-write-token-5b1d"

    /// The note's lines in `stderr`.
    static func notes(_ result: CommandResult) -> [Substring] {
        result.errorLines.filter { $0.contains("read-only API token is enough") }
    }

    /// Requests the simulator received with a method other than GET (its counts name them "POST /api/…").
    static func writeRequests(_ server: FakeCloudronProcess) async throws -> [String: Int] {
        let counts = try JSONDecoder().decode([String: Int].self, from: Data(try await server.control("GET", "/_sim/requests")))
        return counts.filter { $0.key.contains(" ") }
    }

    @Test("a read-write token: the first completed sync of an instance prints the note once on stderr; later runs, --quiet runs and other instances' repeats never; no write request is sent")
    func noteOncePerInstance() async throws {
        let server = try await FakeCloudronProcess(["--seed", "61", "--events", "200", "--admin-token", Self.adminToken])
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = folder.file("audit.db")
        func sync(_ extra: [String]) async throws -> CommandResult {
            try await Command(["sync", "--url", server.url, "--db", db] + extra,
                              environment: ["CLOUDRON_TOKEN": Self.adminToken]).run()
        }

        let first = try await sync([])
        #expect(first.status == 0, "exit \(first.status): \(first.stderr)")
        let note = Self.notes(first)
        #expect(note.count == 1 && first.errorLines.count == 1, "one line, the note: \(first.stderr)")
        #expect(note.first?.hasPrefix("cloudron-audit: note: ") == true && note.first?.contains("Profile") == true
                && note.first?.contains("API Tokens") == true, "says where the token is made: \(first.stderr)")
        #expect(!first.stdout.contains("read-only"), "the note went to stdout: \(first.stdout)")

        let second = try await sync([])
        #expect(second.status == 0 && second.stderr.isEmpty, "the note again on the second run: \(second.stderr)")

        // A new instance whose first completed run is quiet: nothing then, and never afterwards.
        let quiet = try await sync(["--instance", "cron", "--quiet"])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty && quiet.stdout.isEmpty, "--quiet printed: \(quiet.stderr)")
        let afterQuiet = try await sync(["--instance", "cron"])
        #expect(afterQuiet.status == 0 && Self.notes(afterQuiet).isEmpty, "the note after a quiet first run: \(afterQuiet.stderr)")

        // Another instance in the same archive has its own first run.
        let other = try await sync(["--instance", "other"])
        #expect(Self.notes(other).count == 1 && Self.notes(other).first?.contains("other") == true, "\(other.stderr)")

        #expect(try await Self.writeRequests(server).isEmpty, "the sync sent write requests")
        await server.stop()
    }

    @Test("sync --config: each server's first completed sync gets the note with its name, once")
    func noteOncePerServerOfAFleet() async throws {
        let first = try await FakeCloudronProcess(["--seed", "62", "--events", "120", "--admin-token", Self.adminToken])
        let second = try await FakeCloudronProcess(["--seed", "63", "--events", "80"])
        let folder = try ScratchFolder()
        defer { folder.remove() }
        _ = try FleetSyncTests.tokenFile(Self.adminToken, named: "rw.token", in: folder)
        _ = try FleetSyncTests.tokenFile(second.readonlyToken, named: "ro.token", in: folder)
        let config = folder.file("fleet.toml")
        try """
            db = "audit.db"
            [[server]]
            name = "alpha"
            url = "\(first.url)"
            token_file = "rw.token"
            [[server]]
            name = "beta"
            url = "\(second.url)"
            token_file = "ro.token"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try await Command(["sync", "--config", config]).run()
        #expect(run.status == 0, "exit \(run.status): \(run.stderr)")
        let notes = Self.notes(run)
        #expect(notes.count == 2 && notes.contains { $0.contains("alpha") } && notes.contains { $0.contains("beta") },
                "one note per server: \(run.stderr)")
        let again = try await Command(["sync", "--config", config]).run()
        #expect(again.status == 0 && again.stderr.isEmpty, "the note again: \(again.stderr)")
        for server in [first, second] {
            #expect(try await Self.writeRequests(server).isEmpty, "the sync sent write requests")
            await server.stop()
        }
    }
}
