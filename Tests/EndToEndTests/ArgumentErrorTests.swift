import Foundation
import Testing

/// Bad arguments through the binary: each exits 64 with one line naming the flag or value to fix, and
/// the archive the command was pointed at stays byte for byte the same.
@Suite("bad arguments: exit 64, one line, archive unchanged")
struct ArgumentErrorTests {
    /// One bad command line; `{db}` is replaced by the shared archive's path.
    struct BadInput: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        let hints: [String]
        var environment: [String: String] = [:]

        var testDescription: String { arguments.joined(separator: " ") }

        func command(db: String) -> Command {
            Command(arguments.map { $0 == "{db}" ? db : $0 }, environment: environment)
        }
    }

    static let token = ["CLOUDRON_TOKEN": "e2e-arguments-token"]

    static let cases: [BadInput] = [
        // unknown command or flag, missing values
        BadInput(arguments: ["frobnicate"], hints: ["frobnicate", "help"]),
        BadInput(arguments: ["events", "--db", "{db}", "--bogus"], hints: ["--bogus"]),
        BadInput(arguments: ["sync", "--db", "{db}", "--url", "http://127.0.0.1:9", "--frob", "1"], hints: ["--frob"],
                 environment: token),
        BadInput(arguments: ["events", "--db"], hints: ["--db"]),
        BadInput(arguments: ["events", "--db", "{db}", "--since"], hints: ["--since"]),
        BadInput(arguments: ["sync", "--db", "{db}", "--url"], hints: ["--url"]),
        // conflicting flags
        BadInput(arguments: ["sync", "--db", "{db}", "--url", "https://a.example.com", "--domain", "b.example.com"],
                 hints: ["--url", "--domain"], environment: token),
        BadInput(arguments: ["sync", "--db", "{db}", "--url", "https://a.example.com", "--token", "t1", "--token-file", "/nonexistent"],
                 hints: ["--token", "--token-file"]),
        BadInput(arguments: ["report", "--db", "{db}", "logins", "--all"], hints: ["--all"]),
        // numbers
        BadInput(arguments: ["sync", "--db", "{db}", "--url", "http://127.0.0.1:9", "--page-size", "0"], hints: ["--page-size"],
                 environment: token),
        BadInput(arguments: ["sync", "--db", "{db}", "--url", "http://127.0.0.1:9", "--page-size", "10001"], hints: ["--page-size"],
                 environment: token),
        BadInput(arguments: ["sync", "--db", "{db}", "--url", "http://127.0.0.1:9", "--page-size", "many"], hints: ["--page-size"],
                 environment: token),
        BadInput(arguments: ["events", "--db", "{db}", "--limit", "-1"], hints: ["--limit"]),
        BadInput(arguments: ["events", "--db", "{db}", "--limit=-1"], hints: ["--limit"]),
        BadInput(arguments: ["events", "--db", "{db}", "--limit", "ten"], hints: ["--limit"]),
        BadInput(arguments: ["demo", "--db", "{db}", "--events", "0"], hints: ["--events"]),
        // times and zones
        BadInput(arguments: ["events", "--db", "{db}", "--since", "garbage"], hints: ["--since", "garbage"]),
        BadInput(arguments: ["events", "--db", "{db}", "--since", "2026-13-45"], hints: ["--since", "2026-13-45"]),
        BadInput(arguments: ["events", "--db", "{db}", "--until", "2026-02-30"], hints: ["--until"]),
        BadInput(arguments: ["events", "--db", "{db}", "--since", "2026-11-20", "--until", "2026-11-10"],
                 hints: ["--since", "--until"]),
        BadInput(arguments: ["notifications", "--db", "{db}", "--since", "yesterday"], hints: ["--since"]),
        BadInput(arguments: ["events", "--db", "{db}", "--tz", "Mars/Olympus_Mons"], hints: ["Mars/Olympus_Mons"]),
        BadInput(arguments: ["status", "--db", "{db}", "--tz", "Nowhere/City"], hints: ["Nowhere/City"]),
        BadInput(arguments: ["events", "--db", "{db}", "--around", "x", "--window", "forever"], hints: ["forever"]),
        // names: reports, formats, orders, streams, scopes
        BadInput(arguments: ["report", "--db", "{db}", "no-such-report"], hints: ["no-such-report", "logins"]),
        BadInput(arguments: ["events", "--db", "{db}", "--format", "xml"], hints: ["xml"]),
        BadInput(arguments: ["report", "--db", "{db}", "logins", "--format", "yaml"], hints: ["yaml"]),
        BadInput(arguments: ["status", "--db", "{db}", "--format", "xml"], hints: ["xml"]),
        BadInput(arguments: ["events", "--db", "{db}", "--order", "sideways"], hints: ["sideways"]),
        BadInput(arguments: ["sync", "--db", "{db}", "--url", "http://127.0.0.1:9", "--streams", "eventlog,emails"],
                 hints: ["emails"], environment: token),
        BadInput(arguments: ["search", "--db", "{db}", "--in", "emails", "alice"], hints: ["emails"]),
        // search syntax
        BadInput(arguments: ["search", "--db", "{db}", "--raw", "AND OR ("], hints: ["search"]),
        BadInput(arguments: ["search", "--db", "{db}", "--raw", "\"unbalanced"], hints: ["search"]),
        BadInput(arguments: ["search", "--db", "{db}", "--raw", "nosuchcolumn:alice"], hints: ["search"]),
        BadInput(arguments: ["search", "--db", "{db}", ""], hints: ["empty"]),
        BadInput(arguments: ["search", "--db", "{db}", "   "], hints: ["empty"]),
        BadInput(arguments: ["search", "--db", "{db}", "--raw", ""], hints: ["empty"]),
        BadInput(arguments: ["search", "--db", "{db}", "…!?"], hints: ["letters or digits"]),
        BadInput(arguments: ["search", "--db", "{db}"], hints: ["query"]),
        // where the server or token is missing
        BadInput(arguments: ["sync", "--db", "{db}", "--url", "http://127.0.0.1:9"], hints: ["CLOUDRON_TOKEN"]),
        BadInput(arguments: ["sync", "--db", "{db}"], hints: ["--url", "--domain"], environment: token),
        BadInput(arguments: ["sync", "--db", "{db}", "--url", "ftp://files.example.com"], hints: ["https://", "ftp://files.example.com"],
                 environment: token),
        BadInput(arguments: ["sync", "--db", "{db}", "--url", "https://my.example.com/dashboard"], hints: ["path"],
                 environment: token),
        BadInput(arguments: ["sync", "--db", "{db}", "--domain", "bad domain!"], hints: ["host"], environment: token),
    ]

    @Test("exit 64 with one line naming the fix", arguments: cases)
    func badInput(_ input: BadInput) async throws {
        let db = try await SharedArchive.get()
        let before = ArchiveBytes(db)
        let result = try await input.command(db: db).run()
        expectFailure(result, exit: 64, naming: input.hints)
        #expect(result.stdout.isEmpty, "nothing on stdout for a usage error: \(result.stdout.prefix(200))")
        #expect(ArchiveBytes(db) == before, "the archive changed")
    }

    @Test("a very long search query: words mode refuses more than 64 words, a long word and a long --raw OR list run")
    func veryLongQueries() async throws {
        let db = try await SharedArchive.get()
        let before = ArchiveBytes(db)

        let manyWords = (0..<5000).map { "word\($0)" }.joined(separator: " ")
        expectFailure(try await Command(["search", "--db", db, manyWords]).run(), exit: 64, naming: ["64", "--raw"])

        let longWord = String(repeating: "a1", count: 50_000)
        let long = try await Command(["search", "--db", db, "--format", "ndjson", longWord]).run()
        #expect(long.status == 0, "stderr: \(long.stderr)")
        #expect(long.stdout.isEmpty && long.stderr.isEmpty)

        // An OR list of 3000 words: FTS5 either runs it or refuses it as too complex, in one line.
        let orList = (0..<3000).map { "w\($0)" }.joined(separator: " OR ")
        let raw = try await Command(["search", "--db", db, "--raw", "--format", "ndjson", orList]).run()
        if raw.status == 0 {
            #expect(raw.stderr.isEmpty)
        } else {
            expectFailure(raw, exit: 64, naming: ["search"])
        }
        #expect(ArchiveBytes(db) == before, "the archive changed")
    }

    @Test("reading commands never create a missing archive: exit 66 naming sync and --db")
    func missingArchive() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        for command in ["events", "status", "verify", "notifications", "tasks"] {
            let result = try await Command([command, "--db", folder.file("none.db")]).run()
            expectFailure(result, exit: 66, naming: ["sync", "--db"])
            #expect(!FileManager.default.fileExists(atPath: folder.file("none.db")), "\(command) created the archive")
        }
        let search = try await Command(["search", "--db", folder.file("none.db"), "alice"]).run()
        expectFailure(search, exit: 66, naming: ["sync", "--db"])
    }
}
