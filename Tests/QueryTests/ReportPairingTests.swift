import Archiver
import Foundation
@testable import Query
import Testing

/// Starts paired with the right end: box reuses task ids, and a run that never finished must not take the
/// next run's finish. Expected rows are worked out by hand from the events below.
@Suite struct ReportPairingTests {
    static let t0 = fixtureDay

    static func event(_ id: String, _ action: String, _ offset: Int64, _ data: String) -> FixtureEvent {
        FixtureEvent(id: id, action: action, epoch: t0 + offset, source: "{\"username\":\"admin\"}", data: data)
    }

    static let events = [
        event("b1-start", "backup.start", 0, "{\"taskId\":\"7\"}"),
        event("b1-finish", "backup.finish", 100, "{\"taskId\":\"7\",\"backupId\":\"bk-1\",\"errorMessage\":\"\"}"),
        event("b2-start", "backup.start", 1000, "{\"taskId\":\"7\"}"),                         // never finished
        event("b3-start", "backup.start", 2000, "{\"taskId\":\"7\"}"),
        event("b3-finish", "backup.finish", 2300, "{\"taskId\":\"7\",\"backupId\":\"bk-3\",\"errorMessage\":\"disk full\"}"),
        event("a1-start", "app.backup", 10, "{\"appId\":\"app-wiki\",\"app\":\(appJSON(id: "app-wiki", subdomain: "wiki"))}"),
        event("a2-start", "app.backup", 500, "{\"appId\":\"app-wiki\",\"app\":\(appJSON(id: "app-wiki", subdomain: "wiki"))}"),
        event("a2-finish", "app.backup.finish", 600, "{\"appId\":\"app-wiki\",\"backupId\":\"bk-a2\"}"),
    ]

    @Test("backups: each start takes the first finish of its task or app before the next start; never a negative duration")
    func backups() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("pairing.db")
        do {
            let archive = try Archive(path: path)
            let instance = try archive.instanceID(name: "main", baseURL: "https://my.example.com")
            let run = try archive.beginRun(instance: instance, streams: ArchiveStream.all, startedAt: Self.t0 + 5000)
            _ = try archive.ingest(events: Self.events.map(\.event), instance: instance, run: run, seenAt: Self.t0 + 5000)
        }
        let session = try ReadSession(path: path)
        let report = try ReportCatalog.find("backups", in: try ReportCatalog.builtIn())
        let rows = try ndjsonObjects {
            try ReportQuery(report: report, filter: EventFilter(order: .oldest)).run(on: session, into: &$0)
        }
        let seen = rows.map { row in
            [row["kind"], row["seconds"], row["result"], row["backupId"]].map { $0.map { "\($0)" } ?? "nil" }.joined(separator: " ")
        }
        #expect(seen == ["full 100 success bk-1", "app <null> unfinished <null>", "app 100 success bk-a2",
                         "full <null> unfinished <null>", "full 300 failed bk-3"])
    }
}
