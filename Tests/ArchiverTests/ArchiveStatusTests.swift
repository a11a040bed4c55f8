import Foundation
import Testing
@testable import Archiver

@Suite struct ArchiveStatusTests {
    @Test func coverageMergesOverlappingAndAdjacentRanges() throws {
        let folder = try TemporaryFolder()
        let t = try ArchiveUnderTest(path: folder.path("a.db"))
        let add = { (from: Int64, to: Int64) in
            try t.archive.addCoverage(instance: t.instance, stream: "eventlog", from: from, to: to, run: t.run)
        }
        try add(100, 200)
        try add(300, 400)
        try add(500, 600)
        try add(201, 299)      // adjacent on both sides: joins the first two
        try add(550, 700)      // overlapping
        try add(900, 800)      // reversed bounds are a range too
        try t.archive.addCoverage(instance: t.instance, stream: "tasks", from: 150, to: 160, run: t.run)
        let status = try t.archive.status()
        let streams = try #require(status.instances.first?.streams)
        #expect(streams.first { $0.name == "eventlog" }?.coverage
                == [EpochRange(from: 100, to: 400), EpochRange(from: 500, to: 700), EpochRange(from: 800, to: 900)])
        #expect(streams.first { $0.name == "tasks" }?.coverage == [EpochRange(from: 150, to: 160)])
    }

    @Test("a run left 'running' is shown running while a sync holds the archive's lock, interrupted once none does")
    func runningRunNeedsALiveSync() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("a.db")
        let t = try ArchiveUnderTest(path: path)
        // ArchiveUnderTest's own run is left running, as by a process that was killed (or is still at it).
        func shown() throws -> RunResult? { try Archive(path: path, mode: .readOnly).status().instances.first?.lastRun?.result }
        #expect(try shown() == .interrupted, "no lock file: no sync ever held it")
        do {
            let lock = try SyncLock(archivePath: path)
            #expect(try shown() == .running)
            withExtendedLifetime(lock) {}
        }
        #expect(try shown() == .interrupted, "the lock file is left behind, unlocked")
        #expect(try t.archive.database.scalarString("SELECT result FROM sync_runs WHERE id = ?", [.integer(t.run)]) == "running",
                "status only reads")
    }

    @Test func statusReportsCountsRunsGapsAndChainHead() throws {
        let folder = try TemporaryFolder()
        let t = try ArchiveUnderTest(path: folder.path("a.db"))
        try t.fillWithEveryKind()
        try t.archive.recordGap(instance: t.instance, stream: "eventlog", from: 1000, to: 2000, reason: "pruned before archived", run: t.run)
        try t.archive.recordGap(instance: t.instance, stream: "eventlog", from: 1000, to: 2000, reason: "pruned before archived", run: t.run)
        var counts = RunCounts()
        counts.add(IngestCounts(inserted: 2, changed: 1), to: "eventlog")
        try t.archive.finishRun(t.run, result: .gap, finishedAt: Fixture.baseEpoch + 500, counts: counts, requests: 12,
                                errors: ["page 3: HTTP 503\nretried"])
        // A run that a killed process left behind.
        let killed = try t.archive.beginRun(instance: t.instance, streams: ["tasks"], startedAt: Fixture.baseEpoch + 600)
        try t.archive.markInterruptedRuns(instance: t.instance)

        let status = try Archive(path: folder.path("a.db"), mode: .readOnly).status()
        #expect(status.schemaVersion == ArchiveSchema.currentVersion)
        #expect(status.chain.length == 10)
        let instance = try #require(status.instances.first)
        #expect(instance.name == "my.example.org" && instance.baseURL == "https://my.example.org")
        #expect(instance.lastRun?.id == killed && instance.lastRun?.result == .interrupted)
        #expect(instance.taskLogs == TaskLogStatus(archived: 2, rotated: 1, lines: 2, awaiting: 0, unavailable: []))

        let events = try #require(instance.streams.first { $0.name == "eventlog" })
        #expect(events.objects == 2 && events.versions == 3)
        #expect(events.oldest == Fixture.baseEpoch && events.newest == Fixture.baseEpoch + 50)
        #expect(events.gaps.map { [$0.from, $0.to] } == [[1000, 2000]])
        #expect(events.gaps.first?.reason == "pruned before archived")
        let run = try #require(events.lastRun)
        #expect(run.id == t.run && run.result == .gap && run.requests == 12)
        #expect(run.counts?["eventlog"] == IngestCounts(inserted: 2, changed: 1))
        #expect(run.errors == ["page 3: HTTP 503 retried"])
        #expect(run.chain?.length == 10 && run.chain?.head == status.chain.head)
        #expect(instance.streams.first { $0.name == "tasks" }?.lastRun?.id == killed)
        #expect(instance.streams.first { $0.name == "notifications" }.map { [$0.objects, $0.versions] } == [1, 2])

        // It encodes as JSON for `status --format json`.
        let json = try JSONEncoder().encode(status)
        #expect(try JSONDecoder().decode(ArchiveStatus.self, from: json) == status)
    }
}
