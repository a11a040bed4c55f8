import CloudronSimulator
import Foundation
import Testing

/// Issue 14 part 3 through the binary: the exit code and `status --format json`'s `alarms`.
@Suite("source-tamper alarms through the binary")
struct SourceTamperAlarmTests {
    @Test("a mid-retention event deleted and a non-login event rewritten: sync --recheck exits 4, status lists both with their kinds")
    func recheckExitsAndStatusLists() async throws {
        let simulator = SimulatedCloudron(configuration: SimulatorConfiguration(seed: 41, eventCount: 600))
        let url = try await simulator.start()
        let folder = try ScratchFolder()
        defer { folder.remove(); Task { await simulator.stop() } }
        let db = folder.file("audit.db")
        let sync = ["sync", "--url", url, "--db", db, "--quiet", "--instance", "box"]
        let environment = ["CLOUDRON_TOKEN": simulator.readonlyToken]
        #expect(try await Command(sync, environment: environment).run().status == 0)

        let truth = await simulator.truth()
        let middle = truth.events.filter {
            truth.now - $0.epochSeconds > 3 * 86_400 && truth.now - $0.epochSeconds < 7 * 86_400
                && !$0.json.contains("\"action\":\"user.login\"")
        }
        let deleted = try #require(middle.first), rewritten = try #require(middle.dropFirst().first)
        #expect(await simulator.tamperDelete(eventId: deleted.id))
        #expect(await simulator.tamperRewrite(eventId: rewritten.id, data: Array(#"{"cleaned":true}"#.utf8)))

        let recheck = try await Command(sync + ["--recheck"], environment: environment).run()
        expectFailure(recheck, exit: 4, naming: ["2 source-tamper alarm", "status"])

        let status = try await Command(["status", "--db", db, "--format", "json"]).run()
        #expect(status.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any] ?? [:]
        let alarms = (object["alarms"] as? [[String: Any]] ?? []).map {
            [$0["kind"] as? String ?? "", $0["id"] as? String ?? "", $0["instance"] as? String ?? "", $0["stream"] as? String ?? ""]
        }
        #expect(Set(alarms) == [["deleted-upstream", deleted.id, "box", "eventlog"], ["rewritten-upstream", rewritten.id, "box", "eventlog"]])
        #expect((object["alarms"] as? [[String: Any]])?.allSatisfy { ($0["noticedAt"] as? String)?.hasSuffix("Z") == true } == true)   // ISO, as status's text
        let text = try await Command(["status", "--db", db]).run()
        #expect(text.stdout.contains("ALARMS: 2"))
        #expect(try await Command(["verify", "--db", db]).run().status == 0)

        // The HTML report says it at the top: every alarm in the header, before the charts.
        let bundle = folder.file("bundle")
        let report = try await Command(["report", "--all", "--db", db, "--output-dir", bundle, "--html"]).run()
        #expect(report.status == 0, "\(report.stderr)")
        let html = try String(contentsOfFile: bundle + "/index.html", encoding: .utf8)
        let header = html.components(separatedBy: "</header>").first ?? ""
        #expect(header.contains("id=\"alarms\"") && header.contains("2 source-tamper alarm(s)"))
        #expect(header.contains("data-kind=\"deleted-upstream\" data-id=\"\(deleted.id)\""))
        #expect(header.contains("data-kind=\"rewritten-upstream\" data-id=\"\(rewritten.id)\""))
    }

    /// An event log served by a `CannedServer`: `page`/`per_page` slices of `events` (newest first), as box pages.
    static func eventPage(_ head: String, of events: [String]) -> CannedAnswer {
        let target = head.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        let query = URLComponents(string: target)?.queryItems ?? []
        let page = query.first { $0.name == "page" }?.value.flatMap(Int.init) ?? 1
        let perPage = query.first { $0.name == "per_page" }?.value.flatMap(Int.init) ?? 25
        let slice = events.dropFirst((page - 1) * perPage).prefix(perPage)
        return .json(#"{"eventlogs":["# + slice.joined(separator: ",") + "]}")
    }

    @Test("box's retention job runs between two pages of a recheck and takes the oldest second, which the last full page had begun: no alarm for the rest of that second")
    func pruneInsideTheOldestSecondIsNoAlarm() async throws {
        // Newest first: eight seconds, then four events of one second S straddling the first page's end (page
        // size 10: two of them on page 1), then three older ones; all near box's ten-day edge.
        let edge = Int64(Date().timeIntervalSince1970) - 10 * 86_400
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        func event(_ id: Int, at epoch: Int64) -> String {
            let time = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(epoch)))
            return #"{"id":"edge-\#(id)","action":"app.restart","creationTime":"\#(time)","#
                + #""source":{"userId":"uid-1","username":"admin","ip":"203.0.113.9"},"data":{"appId":"app-\#(id)"}}"#
        }
        let seconds = (0..<8).map { edge + 3_600 - Int64($0) * 60 } + Array(repeating: edge + 600, count: 4)
            + (0..<3).map { edge + 300 - Int64($0) * 60 }
        let all = seconds.enumerated().map { event($0.offset, at: $0.element) }
        // After the job: only the eight seconds newer than S are left.
        let pruned = Array(all.prefix(8))
        let eventLists = Counter(), pruning = Flag()
        let shapes = CloudronShapes.answer(eventLog: .json("{}"))
        let server = try CannedServer { head in
            guard head.hasPrefix("GET /api/v1/eventlog") else { return shapes(head) }
            let request = eventLists.increment()
            // While pruning, the first event-list request is answered before the job runs, every later one after it.
            return Self.eventPage(head, of: pruning.isSet && request > 1 ? pruned : all)
        }
        defer { server.stop() }
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let sync = ["sync", "--url", server.url, "--db", folder.file("audit.db"), "--quiet", "--page-size", "10"]
        let environment = ["CLOUDRON_TOKEN": "edge-e2e-token"]
        let first = try await Command(sync, environment: environment).run()
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try FleetSyncTests.archived(.events, instance: "127.0.0.1:\(server.port)", db: folder.file("audit.db")).count == all.count)

        eventLists.reset()
        pruning.set()
        let recheck = try await Command(sync + ["--recheck"], environment: environment).run()
        #expect(recheck.status == 0, "exit \(recheck.status): \(recheck.stderr)")
        #expect(eventLists.value >= 2, "the recheck read past its first page")
    }
}


/// A count shared with a server's answering thread.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int { lock.withLock { count } }
    /// Counts one more and returns the new count.
    func increment() -> Int { lock.withLock { count += 1; return count } }
    func reset() { lock.withLock { count = 0 } }
}
