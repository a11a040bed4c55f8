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
}
