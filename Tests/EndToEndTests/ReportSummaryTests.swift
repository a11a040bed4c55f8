import Archiver
import Client
import Foundation
import Testing

/// `logins --summary`'s new IPs, `oom --summary` per app, and the result filter (`backups --failed`), through
/// the binary on a hand-made archive whose every expected value below is worked out by hand from the events.
@Suite("report summaries and result filters on a hand-made archive")
struct ReportSummaryTests {
    /// 2026-11-20T00:00:00Z: the window is that day and the two after it.
    static let day: Int64 = 1_795_132_800
    static let window = ["--since", "2026-11-20T00:00:00Z", "--until", "2026-11-23T00:00:00Z"]

    static func event(_ id: String, _ action: String, _ epoch: Int64, source: String = "{}", data: String) -> Event {
        let seconds = Date(timeIntervalSince1970: TimeInterval(epoch))
        var time = ISO8601DateFormatter().string(from: seconds)
        time.removeLast()
        time += ".000Z"
        let raw = "{\"id\":\"\(id)\",\"action\":\"\(action)\",\"creationTime\":\"\(time)\",\"source\":\(source),\"data\":\(data)}"
        return Event(id: id, action: action, creationTime: time, epochSeconds: epoch, raw: Array(raw.utf8))
    }

    static func login(_ id: String, _ user: String, ip: String, _ epoch: Int64) -> Event {
        event(id, "user.login", epoch, source: "{\"username\":\"\(user)\",\"userId\":\"uid-\(user)\",\"ip\":\"\(ip)\",\"authType\":\"password\"}",
              data: "{\"userId\":\"uid-\(user)\",\"user\":{\"id\":\"uid-\(user)\",\"username\":\"\(user)\",\"role\":\"user\"}}")
    }

    /// alpha: its event log archived from ten days before the window on (one coverage range across its start).
    /// beta: archived only from the window's first second on, so nothing says which of its IPs are new.
    static func makeArchive(in folder: ScratchFolder) throws -> String {
        let path = folder.file("audit.db")
        let archive = try Archive(path: path)
        let (h, d) = (Int64(3600), Int64(86400))
        let alpha = try archive.instanceID(name: "alpha", baseURL: "https://alpha.example.org")
        let beta = try archive.instanceID(name: "beta", baseURL: "https://beta.example.org")
        for (instance, from) in [(alpha, day - 10 * d), (beta, day)] {
            let run = try archive.beginRun(instance: instance, streams: ["eventlog"], startedAt: day + 5 * d)
            var events: [Event] = []
            if instance == alpha {
                events += [login("a1", "alice", ip: "10.0.0.1", day - 2 * d), login("a2", "alice", ip: "10.0.0.1", day + h),
                           login("a3", "alice", ip: "10.0.0.2", day + 2 * h), login("c1", "carol", ip: "10.2.0.1", day - d)]
                events += (1 ... 12).map { login("b\($0)", "bob", ip: "10.1.0.\($0)", day + 3 * h + Int64($0)) }
                let blog = "{\"app\":{\"id\":\"app-1\",\"fqdn\":\"blog.example.com\"}}"
                events += [event("o0", "app.oom", day - d, data: blog), event("o1", "app.oom", day + h, data: blog),
                           event("o2", "app.oom", day + 2 * h, data: blog), event("o3", "app.oom", day + d + 3 * h, data: blog),
                           event("o4", "app.oom", day + d + 5 * h, data: "{\"addon\":{\"name\":\"mysql\"}}")]
                events += [event("s1", "backup.start", day + h, data: "{\"taskId\":\"t1\"}"),
                           event("f1", "backup.finish", day + h + 60, data: "{\"taskId\":\"t1\",\"backupId\":\"b1\"}"),
                           event("s2", "backup.start", day + 3 * h, data: "{\"taskId\":\"t2\"}"),
                           event("f2", "backup.finish", day + 3 * h + 30, data: "{\"taskId\":\"t2\",\"errorMessage\":\"disk full\"}"),
                           event("s3", "backup.start", day + 5 * h, data: "{\"taskId\":\"t3\"}")]
            } else {
                events += [login("d1", "dave", ip: "10.3.0.1", day + h)]
            }
            _ = try archive.ingest(events: events, instance: instance, run: run, seenAt: day + 5 * d)
            try archive.addCoverage(instance: instance, stream: "eventlog", from: from, to: day + 5 * d, run: run)
            try archive.finishRun(run, result: .success, finishedAt: day + 5 * d, counts: RunCounts(), requests: 1, errors: [])
        }
        return path
    }

    func rows(_ arguments: [String]) async throws -> [[String: Any]] {
        let result = try await Command(arguments + ["--format", "ndjson"]).run()
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try result.stdout.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
    }

    @Test("logins --summary: new IPs only where the archive covers the time before the window, at most ten and a count")
    func newIPs() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try Self.makeArchive(in: folder)
        let summary = try await rows(["report", "logins", "--summary", "--db", db] + Self.window)
        let newIPs = Dictionary(uniqueKeysWithValues: summary.map { ($0["user"] as? String ?? "?", $0["newIPs"] as? String ?? "-") })
        #expect(newIPs == [
            // 10.0.0.1 was seen two days before the window.
            "alice": "10.0.0.2",
            // Twelve, in text order: ten shown.
            "bob": "10.1.0.1 10.1.0.10 10.1.0.11 10.1.0.12 10.1.0.2 10.1.0.3 10.1.0.4 10.1.0.5 10.1.0.6 10.1.0.7 (+2 more)",
            // beta's archive starts at the window's first second.
            "dave": "unknown",
        ])
        // Without --since nothing is before the window.
        let whole = try await rows(["report", "logins", "--summary", "--db", db])
        #expect(Set(whole.map { $0["newIPs"] as? String ?? "-" }) == ["unknown"])
        // Once beta's coverage reaches back one second before the window, dave's IP is new.
        let archive = try Archive(path: db)
        let beta = try #require(try archive.database.scalarInt("SELECT id FROM instances WHERE name = 'beta'"))
        try archive.addCoverage(instance: beta, stream: "eventlog", from: Self.day - 1, to: Self.day, run: 2)
        let after = try await rows(["report", "logins", "--summary", "--db", db, "--instance", "beta"] + Self.window)
        #expect(after.map { $0["newIPs"] as? String ?? "-" } == ["10.3.0.1"])
    }

    @Test("oom --summary: totals per app over the window (last kill first), per UTC day with --by day; another --by is refused")
    func oomTotals() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try Self.makeArchive(in: folder)
        func lines(_ rows: [[String: Any]]) -> [String] {
            rows.map { row in ["period", "instance", "kind", "victim", "count", "first", "last"].map { "\(row[$0] ?? "-")" }.joined(separator: " ") }
        }
        let window = try await rows(["report", "oom", "--summary", "--db", db] + Self.window)
        #expect(lines(window) == [
            "window alpha addon mysql 1 2026-11-21T05:00:00Z 2026-11-21T05:00:00Z",
            "window alpha app blog.example.com 3 2026-11-20T01:00:00Z 2026-11-21T03:00:00Z",
        ])
        let days = try await rows(["report", "oom", "--summary", "--by", "day", "--db", db] + Self.window)
        #expect(lines(days) == [
            "2026-11-21 alpha addon mysql 1 2026-11-21T05:00:00Z 2026-11-21T05:00:00Z",
            "2026-11-21 alpha app blog.example.com 1 2026-11-21T03:00:00Z 2026-11-21T03:00:00Z",
            "2026-11-20 alpha app blog.example.com 2 2026-11-20T01:00:00Z 2026-11-20T02:00:00Z",
        ])
        let oldest = try await rows(["report", "oom", "--summary", "--by", "day", "--order", "oldest", "--db", db] + Self.window)
        #expect(lines(oldest).first == "2026-11-20 alpha app blog.example.com 2 2026-11-20T01:00:00Z 2026-11-20T02:00:00Z")
        let week = try await Command(["report", "oom", "--summary", "--by", "week", "--db", db]).run()
        expectFailure(week, exit: 64, naming: ["--by", "week", "window, day"])
    }

    @Test("backups --failed and --result: only the runs with that result; a result a report lacks is refused")
    func resultFilter() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try Self.makeArchive(in: folder)
        func tasks(_ extra: [String]) async throws -> [String] {
            try await rows(["report", "backups", "--db", db, "--order", "oldest"] + Self.window + extra)
                .map { row in ["taskId", "result", "error"].map { row[$0] is NSNull ? "-" : "\(row[$0] ?? "-")" }.joined(separator: " ") }
        }
        let every = try await tasks([])
        #expect(every == ["t1 success -", "t2 failed disk full", "t3 unfinished -"])
        for (filter, expected) in [(["--failed"], ["t2 failed disk full"]), (["--result", "failed"], ["t2 failed disk full"]),
                                   (["--result", "success"], ["t1 success -"]), (["--result", "unfinished"], ["t3 unfinished -"])] {
            let found = try await tasks(filter)
            #expect(found == expected, "\(filter)")
        }

        expectFailure(try await Command(["report", "backups", "--result", "ok", "--db", db]).run(), exit: 64,
                      naming: ["backups", "ok", "success, failed, unfinished"])
        expectFailure(try await Command(["report", "logins", "--failed", "--db", db]).run(), exit: 64, naming: ["logins", "--result"])
        expectFailure(try await Command(["report", "failed-tasks", "--failed", "--db", db]).run(), exit: 64,
                      naming: ["failed-tasks", "failed", "error, stuck"])
        let help = try await Command(["report", "backups", "--help"]).run()
        #expect(help.stdout.contains("--result success|failed|unfinished"))
    }
}
