import Foundation
import Testing

/// The answers that were silently wrong with exit 0 (issue 11), through the binary on the shared archive.
@Suite("honest answers: no filter dropped, no typo answered with silence")
struct HonestAnswerTests {
    func ndjson(_ arguments: [String]) async throws -> (rows: [[String: Any]], result: CommandResult) {
        let result = try await Command(arguments + ["--format", "ndjson"]).run()
        let rows = try result.stdout.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
        return (rows, result)
    }

    @Test("a report filter is applied: logins --app and support-access --ip of nothing archived give no row")
    func reportFiltersAreApplied() async throws {
        let db = try await SharedArchive.get()
        let everyLogin = try await ndjson(["report", "logins", "--db", db])
        #expect(!everyLogin.rows.isEmpty)
        let logins = try await ndjson(["report", "logins", "--db", db, "--app", "nope-app"])
        #expect(logins.result.status == 0 && logins.rows.isEmpty, "\(logins.rows.count) rows")
        let support = try await ndjson(["report", "support-access", "--db", db, "--ip", "9.9.9.9"])
        #expect(support.result.status == 0 && support.rows.isEmpty, "\(support.rows.count) rows")
    }

    @Test("a filter a report cannot apply is refused, naming the report and the filter", arguments: [
        ["report", "oom", "--user", "alice"], ["report", "failed-tasks", "--user", "alice", "--app", "blog"],
    ])
    func unsupportedReportFilterIsRefused(arguments: [String]) async throws {
        let db = try await SharedArchive.get()
        let result = try await Command(arguments + ["--db", db]).run()
        expectFailure(result, exit: 64, naming: [arguments[1], "--user"])
    }

    @Test("reports honour --order and --limit: oom --limit 1 --order newest is the newest kill")
    func reportOrder() async throws {
        let db = try await SharedArchive.get()
        let all = try await ndjson(["report", "oom", "--db", db, "--order", "oldest"]).rows
        let newest = try await ndjson(["report", "oom", "--db", db, "--limit", "1", "--order", "newest"]).rows
        let oldest = try await ndjson(["report", "oom", "--db", db, "--limit", "1", "--order", "oldest"]).rows
        #expect(all.count > 1)
        #expect(newest.first?["eventId"] as? String == all.last?["eventId"] as? String)
        #expect(oldest.first?["eventId"] as? String == all.first?["eventId"] as? String)
    }

    @Test("--user finds a mail user by the address the logins summary lists")
    func userByMailAddress() async throws {
        let db = try await SharedArchive.get()
        let summary = try await ndjson(["report", "logins", "--summary", "--db", db]).rows
        let address = try #require(summary.compactMap { $0["user"] as? String }.first { $0.contains("@") },
                                   "the demo archive has mail logins")
        let events = try await ndjson(["events", "--db", db, "--user", address])
        #expect(!events.rows.isEmpty, "events --user \(address) found nothing")
        let logins = try await ndjson(["report", "logins", "--db", db, "--user", address])
        #expect(!logins.rows.isEmpty && logins.rows.allSatisfy { $0["user"] as? String == address })
    }

    @Test("--action '!user.login' leaves user.login out and keeps every other action")
    func negatedAction() async throws {
        let db = try await SharedArchive.get()
        let all = try await ndjson(["events", "--db", db]).rows
        let others = try await ndjson(["events", "--db", db, "--action", "!user.login"]).rows
        #expect(others.count == all.filter { $0["action"] as? String != "user.login" }.count)
        #expect(!others.isEmpty && !others.contains { $0["action"] as? String == "user.login" })
        let appButNotUp = try await ndjson(["events", "--db", db, "--action", "app.*", "--action", "!app.up"]).rows
        #expect(appButNotUp.count == all.filter { ($0["action"] as? String ?? "").hasPrefix("app.") && $0["action"] as? String != "app.up" }.count)
    }

    @Test("an unknown instance is a usage error listing the archive's instances", arguments: [
        ["events"], ["search", "alice"], ["notifications"], ["tasks"], ["report", "logins"],
    ])
    func unknownInstance(command: [String]) async throws {
        let db = try await SharedArchive.get()
        let result = try await Command(command + ["--db", db, "--instance", "wrong"]).run()
        expectFailure(result, exit: 64, naming: ["wrong", "demo"])
    }

    @Test("an action, user or app that no archived event has is named on stderr with the nearest names; exit 0",
          arguments: [
              (["--action", "usr.login"], "user.login"), (["--app", "doesnotexist"], "--app"), (["--user", "nobody-here"], "--user"),
          ])
    func typoIsNamed(filter: [String], hint: String) async throws {
        let db = try await SharedArchive.get()
        let result = try await ndjson(["events", "--db", db] + filter)
        #expect(result.result.status == 0)
        #expect(result.rows.isEmpty)
        #expect(result.result.errorLines.count == 1 && result.result.stderr.contains("note: no archived event"),
                "stderr: \(result.result.stderr)")
        #expect(result.result.stderr.contains(hint) && result.result.stderr.contains(filter[1]), "stderr: \(result.result.stderr)")
    }

    @Test("no report pairs a start with an earlier end: every duration column is >= 0, every end after its start")
    func durationsAreNeverNegative() async throws {
        let db = try await SharedArchive.get()
        let list = try await Command(["report", "--list"]).run()
        var checked = 0
        for name in list.stdout.split(separator: "\n").filter({ !$0.hasPrefix(" ") }).map({ String($0.split(separator: "\t")[0]) }) {
            let help = try await Command(["report", name, "--help"]).run()
            guard help.stdout.contains("columns: ") && help.stdout.split(separator: "\n")
                .contains(where: { $0.hasPrefix("  columns: ") && $0.split(separator: " ").contains("seconds,") || $0.hasSuffix(" seconds") })
            else { continue }
            checked += 1
            let rows = try await ndjson(["report", name, "--db", db]).rows
            for row in rows {
                if let seconds = row["seconds"] as? Int { #expect(seconds >= 0, "\(name): \(row)") }
                for (start, end) in [("started", "finished"), ("down", "up"), ("start", "end")] {
                    if let from = row[start] as? String, let to = row[end] as? String { #expect(from <= to, "\(name): \(row)") }
                }
            }
        }
        #expect(checked == 3, "backups, app-availability and login-sessions have a seconds column")
    }
}
