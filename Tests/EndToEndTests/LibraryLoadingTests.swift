import Foundation
import Testing

/// libcurl and libpq are opened by the commands that use them (sync, push, `--from`), not by the dynamic
/// loader at every start (CLibraryLoader): with their dependencies they cost each process milliseconds,
/// which is most of what a `search` takes. glibc's loader names every library it loads under
/// `LD_DEBUG=files`, which is what these tests read.
@Suite("reading commands do not load libcurl or libpq")
struct LibraryLoadingTests {
    /// The loader's lines that load `library`: `file=libcurl.so.4 [0];  needed by …` or `dynamically loaded by …`.
    static func loads(of library: String, in stderr: String) -> [Substring] {
        stderr.split(separator: "\n").filter { $0.contains("file=\(library)") && $0.contains(" by ") }
    }

    @Test func readingCommandsLoadNeitherLibrary() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = folder.file("demo.db")
        let demo = try await Command(["demo", "--db", db, "--events", "300"]).run()
        try #require(demo.status == 0, "\(demo.stderr)")

        for command in [["search", "login", "--limit", "3"], ["events", "--limit", "3"], ["status"],
                        ["report", "logins", "--since", "30d"]] {
            let result = try await Command(command + ["--db", db], environment: ["LD_DEBUG": "files"]).run()
            #expect(result.status == 0, "\(command): \(result.stderr.suffix(500))")
            #expect(result.stdout.split(separator: "\n").count >= 2, "\(command) printed rows")
            #expect(Self.loads(of: "libpq.so", in: result.stderr).isEmpty, "\(command) loaded libpq")
            // A build with Foundation's shared libraries (debug) loads libcurl as their dependency; the binary
            // itself (needed by, or dlopen'ed by) never does for a reading command.
            let curl = Self.loads(of: "libcurl.so", in: result.stderr)
            #expect(curl.allSatisfy { $0.contains("libFoundationNetworking.so") }, "\(command) loaded libcurl: \(curl)")
        }

        // The same observation sees a command that needs libpq open it (and fail to connect: nothing listens on port 1).
        let store = try await Command(["events", "--from", "postgresql://nobody@127.0.0.1:1/none"],
                                      environment: ["LD_DEBUG": "files"]).run()
        #expect(store.status == 69, "\(store.stderr.suffix(500))")
        #expect(Self.loads(of: "libpq.so", in: store.stderr).contains { $0.contains("dynamically loaded") }, "libpq opened")
    }
}
