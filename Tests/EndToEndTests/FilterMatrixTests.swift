import Foundation
import Testing

/// Every command × every filter it offers, through the binary on a simulator archive: each row of the
/// answer honours the filter (checked against the events as archived, read back with `events --history`),
/// `--limit` cuts the unlimited answer, `--order` orders it, an unknown instance is a usage error, and a
/// filter a report does not apply is refused.
@Suite("filters: every command × every filter it offers")
struct FilterMatrixTests {
    typealias Row = [String: Any]

    /// The archive's events (every version) by id: the truth the rows are checked against.
    struct Truth {
        var versions: [String: [Row]] = [:]

        static func load(_ db: String) async throws -> Truth {
            var truth = Truth()
            for row in try await FilterMatrixTests.rows(["events", "--db", db, "--history"]) {
                truth.versions[row["id"] as? String ?? "", default: []].append(row)
            }
            return truth
        }
    }

    /// The values filtered on, all taken from the archive itself.
    struct Values {
        var user = "", app = "", ip = "", since = "", until = ""
    }

    static func rows(_ arguments: [String]) async throws -> [Row] {
        let result = try await Command(arguments + ["--format", "ndjson"]).run()
        guard result.status == 0 else { throw TestFailure("\(arguments.joined(separator: " ")): exit \(result.status): \(result.stderr)") }
        return try result.stdout.split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? Row else {
                throw TestFailure("not a JSON object: \(line.prefix(200))")
            }
            return object
        }
    }

    static func string(_ value: Any?, _ path: String...) -> String? {
        var current = value
        for key in path { current = (current as? Row)?[key] }
        if let text = current as? String { return text }
        if let number = current as? NSNumber { return number.stringValue }
        return nil
    }

    /// Epoch seconds of `2026-11-21T11:46:24Z`, `…24.000Z` or a day `2026-11-21`.
    static func epoch(_ text: String?) -> Int64? {
        guard var text else { return nil }
        if text.count == 10 { text += "T00:00:00Z" }
        if let dot = text.firstIndex(of: ".") { text = String(text[..<dot]) + "Z" }
        return ISO8601DateFormatter().date(from: text).map { Int64($0.timeIntervalSince1970) }
    }

    // The filters' meaning, from the README: a user as actor or subject, an app by id, subdomain or fqdn,
    // the client IP as recorded.
    static func names(user: String, source: Any?, data: Any?) -> Bool {
        [string(source, "username"), string(source, "userId"), string(source, "mailboxId"), string(data, "userId"),
         string(data, "user", "id"), string(data, "user", "username"), string(data, "user", "email")].contains(user)
    }

    static func names(app: String, source: Any?, data: Any?) -> Bool {
        [string(source, "appId"), string(data, "appId"), string(data, "oldAppId"), string(data, "app", "id"),
         string(data, "app", "subdomain"), string(data, "app", "location"), string(data, "app", "fqdn")].contains(app)
    }

    enum Filter: String, CaseIterable { case since, until, instance, user, app, ip }

    /// Whether `row` honours `filter`: through its own columns, or through the archived event it names.
    static func honours(_ row: Row, _ filter: Filter, _ values: Values, timeColumns: [String], truth: Truth) -> Bool {
        let events: [(source: Any?, data: Any?)] = {
            if row["source"] != nil || row["data"] != nil { return [(row["source"], row["data"])] }
            if let object = row["object"] as? Row { return [(object["source"], object["data"])] }
            let id = string(row["eventId"]) ?? ""
            return (truth.versions[id] ?? []).map { ($0["source"], $0["data"]) }
        }()
        switch filter {
        case .since, .until:
            let times = timeColumns.compactMap { epoch(string(row[$0])) }
            guard !times.isEmpty else { return false }
            let (since, until) = (epoch(values.since) ?? .min, epoch(values.until) ?? .max)
            return times.allSatisfy { filter == .since ? $0 >= since : $0 < until }
        case .instance:
            return string(row["instance"]) == "demo"
        case .user:
            return ["user", "userId", "username", "actor"].contains { string(row[$0]) == values.user }
                || events.contains { names(user: values.user, source: $0.source, data: $0.data) }
        case .app:
            return ["app", "appId", "victim"].contains { string(row[$0]) == values.app }
                || events.contains { names(app: values.app, source: $0.source, data: $0.data) }
        case .ip:
            if row["distinctIPs"] != nil {   // the logins summary: that user logged in from that IP
                return truth.versions.values.joined().contains { login in
                    string(login["source"], "ip") == values.ip
                        && (string(login["data"], "user", "username") ?? string(login["source"], "username")
                            ?? string(login["source"], "mailboxId")) == string(row["user"])
                }
            }
            return string(row["ip"]) == values.ip || events.contains { string($0.source, "ip") == values.ip }
        }
    }

    /// One command: its arguments and what it offers.
    struct Subject {
        var arguments: [String]
        var filters: [Filter]
        var timeColumns: [String]
    }

    static func subjects(db: String) async throws -> [Subject] {
        let list = try await Command(["report", "--list"]).run()
        var subjects = [
            Subject(arguments: ["events"], filters: Filter.allCases, timeColumns: ["creationTime"]),
            Subject(arguments: ["search", "example"], filters: Filter.allCases, timeColumns: ["creationTime"]),
            Subject(arguments: ["notifications"], filters: [.since, .until, .instance], timeColumns: ["creationTime"]),
            Subject(arguments: ["tasks"], filters: [.since, .until, .instance], timeColumns: ["creationTime"]),
        ]
        let times = ["logins": ["time"], "login-sessions": ["start", "end"], "user-changes": ["time"], "privileges": ["time"],
                     "app-lifecycle": ["time"],
                     "oom": ["time"], "app-availability": ["down"], "backups": ["started"], "admin-changes": ["time"],
                     "support-access": ["time"], "failed-tasks": ["created"]]
        var name = "", hasSummary = false
        for line in list.stdout.split(separator: "\n") {
            if !line.hasPrefix(" ") {
                name = String(line.split(separator: "\t")[0])
                hasSummary = line.hasSuffix("(--summary)")
                continue
            }
            guard line.hasPrefix("  filters: ") else { continue }
            let filters = line.dropFirst("  filters: ".count).split(separator: ", ").compactMap { Filter(rawValue: String($0.dropFirst(2))) }
            subjects.append(Subject(arguments: ["report", name], filters: filters, timeColumns: times[name] ?? []))
            if hasSummary {
                // Summaries are ordered by their newest time: a user's last login, an app's last kill.
                subjects.append(Subject(arguments: ["report", name, "--summary"], filters: filters,
                                        timeColumns: name == "logins" ? ["lastSeen", "firstSeen"] : ["last", "first"]))
            }
        }
        #expect(subjects.count == 4 + 11 + 2, "report --list: \(list.stdout)")
        return subjects
    }

    @Test("each row honours each filter; --limit and --order apply; unsupported filters and unknown instances are refused")
    func matrix() async throws {
        let db = try await SharedArchive.get()
        let truth = try await Truth.load(db)
        let all = truth.versions.values.flatMap { $0 }
        // A user who logs in, an IP of one of that user's logins, an app that was killed for memory.
        let logins = all.filter { $0["action"] as? String == "user.login" }
        var values = Values()
        values.user = try #require(Dictionary(grouping: logins.compactMap { Self.string($0["data"], "user", "username") }, by: { $0 })
            .max { $0.value.count < $1.value.count }?.key)
        values.ip = try #require(logins.first { Self.string($0["data"], "user", "username") == values.user }
            .flatMap { Self.string($0["source"], "ip") })
        values.app = try #require(all.filter { $0["action"] as? String == "app.oom" }.compactMap { Self.string($0["data"], "app", "fqdn") }.min())
        let epochs = all.compactMap { Self.epoch($0["creationTime"] as? String) }.sorted()
        let formatter = ISO8601DateFormatter()
        values.since = formatter.string(from: Date(timeIntervalSince1970: Double(epochs[epochs.count / 3])))
        values.until = formatter.string(from: Date(timeIntervalSince1970: Double(epochs[epochs.count * 2 / 3])))
        let arguments: [Filter: [String]] = [.since: ["--since", values.since], .until: ["--until", values.until],
                                             .instance: ["--instance", "demo"], .user: ["--user", values.user],
                                             .app: ["--app", values.app], .ip: ["--ip", values.ip]]
        var rowsPerFilter: [Filter: Int] = [:]
        for subject in try await Self.subjects(db: db) {
            let base = subject.arguments + ["--db", db]
            for filter in Filter.allCases {
                let command = base + arguments[filter, default: []]
                guard subject.filters.contains(filter) else {
                    let refused = try await Command(command).run()
                    expectFailure(refused, exit: 64, naming: ["--" + filter.rawValue])
                    continue
                }
                let rows = try await Self.rows(command)
                rowsPerFilter[filter, default: 0] += rows.count
                for row in rows where !Self.honours(row, filter, values, timeColumns: subject.timeColumns, truth: truth) {
                    Issue.record("\(command.joined(separator: " ")): row ignores the filter: \(row)")
                    break
                }
            }
            // --limit cuts the answer in the chosen order, --order orders it (by the first time column).
            let unlimited = try await Self.rows(base + ["--order", "oldest"])
            let newest = try await Self.rows(base + ["--order", "newest"])
            #expect(newest.count == unlimited.count, "\(base)")
            let limited = try await Self.rows(base + ["--order", "newest", "--limit", "3"])
            #expect(limited.count == min(3, unlimited.count), "\(base) --limit 3")
            if let column = subject.timeColumns.first {
                let times = newest.map { Self.epoch(Self.string($0[column])) ?? 0 }
                #expect(times == times.sorted(by: >), "\(base) --order newest is not newest first")
                let oldest = unlimited.map { Self.epoch(Self.string($0[column])) ?? 0 }
                #expect(oldest == oldest.sorted(), "\(base) --order oldest is not oldest first")
                #expect(limited.map { Self.epoch(Self.string($0[column])) ?? 0 } == Array(times.prefix(3)), "\(base) --limit 3")
            }
            let unknown = try await Command(base + ["--instance", "nosuch"]).run()
            expectFailure(unknown, exit: 64, naming: ["nosuch", "demo"])
        }
        for filter in Filter.allCases {
            #expect(rowsPerFilter[filter, default: 0] > 0, "no command returned a row for --\(filter.rawValue): the check is vacuous")
        }
    }
}
