import Foundation
import Testing

/// Each command offers only the options that mean something for it, and fixed-value options are typed.
@Suite("command options")
struct CommandOptionsTests {
    static let subjectFilters = ["--user", "--app", "--ip"]
    static let listingFilters = ["--since", "--until", "--instance", "--limit", "--order"]

    @Test("notifications and tasks offer no event filter, report no --action; events and search all", arguments: [
        ("notifications", false, false), ("tasks", false, false), ("report", true, false), ("events", true, true),
        ("search", true, true),
    ])
    func helpListsOnlyApplicableFilters(command: String, hasSubjectFilters: Bool, hasAction: Bool) async throws {
        let result = try await Command([command, "--help"]).run()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let offered = Set(result.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," })
            .filter { $0.hasPrefix("--") }.map(String.init))
        for option in Self.listingFilters {
            #expect(offered.contains(option), "\(command) --help lacks \(option)")
        }
        for option in Self.subjectFilters {
            #expect(offered.contains(option) == hasSubjectFilters, "\(command) --help: \(option)")
        }
        #expect(offered.contains("--action") == hasAction, "\(command) --help: --action")
    }

    @Test("an event filter given to tasks or notifications is a usage error naming it", arguments: [
        ["tasks", "--user", "alice"], ["notifications", "--action", "user.login"], ["tasks", "--ip", "10.0.0.1"],
        ["report", "--action", "user.login", "logins"],
    ])
    func eventFilterRefused(arguments: [String]) async throws {
        let db = try await SharedArchive.get()
        let result = try await Command(arguments + ["--db", db]).run()
        expectFailure(result, exit: 64, naming: [arguments[1]])
    }

    @Test("typed values: case and spaces forgiven as before, a wrong value names the flag and the values")
    func typedValues() async throws {
        let db = try await SharedArchive.get()
        let upper = try await Command(["tasks", "--db", db, "--format", "CSV", "--order", " Oldest", "--limit", "1"]).run()
        #expect(upper.status == 0, "stderr: \(upper.stderr)")
        #expect(upper.stdout.hasPrefix("id,type,creationTime,"))
        let order = try await Command(["events", "--db", db, "--order", "sideways"]).run()
        expectFailure(order, exit: 64, naming: ["--order", "sideways", "newest", "oldest"])
        let format = try await Command(["tasks", "--db", db, "--format", "xml"]).run()
        expectFailure(format, exit: 64, naming: ["--format", "xml", "csv", "ndjson"])
    }
}
