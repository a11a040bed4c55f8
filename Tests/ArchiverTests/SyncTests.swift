@testable import Archiver
import Client
import CloudronSimulator
import Foundation
import Testing

@Suite("Sync against the simulator")
struct SyncTests {
    @Test("A first sync archives everything the server has, byte for byte, across many tied page boundaries")
    func firstSync() async throws {
        let fixture = try await SyncFixture.start(SimulatorConfiguration(seed: 11, eventCount: 3000))
        defer { Task { await fixture.finish() } }
        // In the truth: seconds whose events a 37-row page boundary splits (newest first, as served).
        let epochs = await fixture.simulator.truth().events.map(\.epochSeconds).sorted(by: >)
        let straddled = Set(stride(from: 37, to: epochs.count, by: 37).filter { epochs[$0 - 1] == epochs[$0] }.map { epochs[$0] })
        #expect(straddled.count >= 5, "only \(straddled.count) tied seconds straddle a page boundary; the test proves little")
        let report = try await fixture.sync(pageSize: 37)
        #expect(report.result == .success)
        #expect(report.events.counts.inserted == 3000)
        try expectArchiveMatchesTruth(fixture.archivePath, await fixture.simulator.truth())
        #expect(try Archive(path: fixture.archivePath, mode: .readOnly).verify().isIntact)
    }

    @Test("With new events, login upserts, task and notification churn, each sync walks again and loses no event; one quiet sync converges")
    func convergenceUnderChurn() async throws {
        let fixture = try await SyncFixture.start(SimulatorConfiguration(seed: 12, eventCount: 2500))
        defer { Task { await fixture.finish() } }
        await fixture.simulator.setDynamics(SimulatorDynamics(
            newEventsPerListRequest: 3, loginUpsertsPerListRequest: 2, alertRewrites: true, ackToggles: true,
            taskProgress: true))
        let first = try await fixture.sync(pageSize: 50)
        let before = await fixture.simulator.truth()
        let second = try await fixture.sync(pageSize: 50)
        // Page 1 moves on every request, so each run must walk again from the top.
        #expect(first.events.walks > 1 && second.events.walks > 1, "walks: \(first.events.walks), \(second.events.walks)")
        // Before any quiet sync: every event the server held when the second run started is archived,
        // with that content or a later one the server really held. (Tasks and notifications move on
        // every request, so only the quiet sync below can equal them.)
        let churned = await fixture.simulator.truth()
        let archivedNow = try ArchivedObjects.read(fixture.archivePath, kind: "events")
        let lost = before.events.filter { archivedNow.current[$0.id] == nil }.map(\.id)
        #expect(lost.isEmpty, "events lost under churn: \(lost.prefix(5))")
        let invented = archivedNow.current.filter { id, json in !(churned.eventVersions[id] ?? []).contains { $0.json == json } }
        #expect(invented.isEmpty, "archived content the server never held: \(invented.keys.prefix(5))")

        await fixture.simulator.setDynamics(.quiet)
        try await fixture.sync(pageSize: 50)
        let truth = await fixture.simulator.truth()
        try expectArchiveMatchesTruth(fixture.archivePath, truth)
        // Upserted logins keep their id and change: the archive must hold them as versions.
        let upserted = truth.eventVersions.filter { $0.value.count > 1 }.map(\.key)
        #expect(!upserted.isEmpty, "the simulator made no upserts; the test proves nothing")
        let archived = try ArchivedObjects.read(fixture.archivePath, kind: "events")
        let keptAsVersions = upserted.filter { (archived.versions[$0]?.count ?? 0) > 1 }
        #expect(!keptAsVersions.isEmpty, "no upsert was archived as a second version")
        #expect(try Archive(path: fixture.archivePath, mode: .readOnly).verify().isIntact)
    }

    @Test("Under 5xx, 429, truncated bodies and dropped connections the sync completes or the next one does")
    func chaos() async throws {
        var configuration = SimulatorConfiguration(seed: 13, eventCount: 2000)
        configuration.dynamics.chaos = ChaosSettings(serverErrorRate: 0.15, tooManyRequestsRate: 0.10,
                                                     truncatedBodyRate: 0.05, droppedConnectionRate: 0.05)
        let fixture = try await SyncFixture.start(configuration)
        defer { Task { await fixture.finish() } }
        let client = try fixture.client(retry: RetryPolicy(maxAttempts: 8, baseDelay: 0.001, maxDelay: 0.01, retryAfterCap: 0.01))
        var succeeded = false
        for _ in 0..<5 where !succeeded {
            do {
                try await fixture.sync(pageSize: 100, client: client)
                succeeded = true
            } catch let error as ClientError {
                // Only an exhausted retry budget may end a run under chaos; the archive stays consistent.
                guard case .retriesExhausted = error else {
                    Issue.record("unexpected error under chaos: \(error)")
                    break
                }
                #expect(try Archive(path: fixture.archivePath, mode: .readOnly).verify().isIntact)
            }
        }
        #expect(succeeded)
        await fixture.simulator.setDynamics(.quiet)
        try await fixture.sync(pageSize: 100, client: client)
        try expectArchiveMatchesTruth(fixture.archivePath, await fixture.simulator.truth())
    }

    @Test("A server that silently caps per_page is detected and walked with its own page size")
    func cappedPageSize() async throws {
        var configuration = SimulatorConfiguration(seed: 19, eventCount: 1500)
        configuration.maxPerPage = 120
        let fixture = try await SyncFixture.start(configuration)
        defer { Task { await fixture.finish() } }
        try await fixture.sync(pageSize: 200)
        try expectArchiveMatchesTruth(fixture.archivePath, await fixture.simulator.truth())
    }

    @Test("A no-op incremental sync makes at most two list requests per stream")
    func noOpSync() async throws {
        let fixture = try await SyncFixture.start(SimulatorConfiguration(seed: 14, eventCount: 3000))
        defer { Task { await fixture.finish() } }
        try await fixture.sync(pageSize: 100)
        let before = await fixture.simulator.requestCounts()
        let report = try await fixture.sync(pageSize: 100)
        let after = await fixture.simulator.requestCounts()
        for path in ["/api/v1/eventlog", "/api/v1/notifications", "/api/v1/tasks"] {
            let made = (after[path] ?? 0) - (before[path] ?? 0)
            #expect(made >= 1 && made <= 2, "\(path): \(made) list requests")
        }
        #expect(report.events.counts.inserted == 0 && report.events.counts.changed == 0)
    }

    @Test("A server pruned past the archive's newest event: the gap spans exactly the lost events, and the old events stay")
    func gapDetection() async throws {
        let fixture = try await SyncFixture.start(SimulatorConfiguration(seed: 15, eventCount: 500))
        defer { Task { await fixture.finish() } }
        try await fixture.sync()
        let newestArchived = try #require(await fixture.simulator.truth().events.map(\.epochSeconds).max())

        // Five days later events happen that no sync sees; eleven days after that the server has
        // pruned them together with everything archived before.
        await fixture.simulator.advanceClock(seconds: 5 * 86_400)
        await fixture.simulator.setDynamics(SimulatorDynamics(newEventsPerListRequest: 5))
        _ = try await fixture.client().eventPage(page: 1, perPage: 1)
        let unseen = Set(await fixture.simulator.truth().events.map(\.id)).subtracting(
            try ArchivedObjects.read(fixture.archivePath, kind: "events").current.keys)
        #expect(unseen.count == 5)
        await fixture.simulator.setDynamics(.quiet)
        await fixture.simulator.advanceClock(seconds: 11 * 86_400)
        await fixture.simulator.pruneNow()
        await fixture.simulator.setDynamics(SimulatorDynamics(newEventsPerListRequest: 5))

        let report = try await fixture.sync()
        let truth = await fixture.simulator.truth()
        #expect(report.result == .gap)
        let gap = try #require(report.events.gap)
        // Independently: from the newest event archived before, to the oldest event the server still had.
        let oldestServed = try #require(truth.events.map(\.epochSeconds).min())
        #expect(gap == newestArchived...oldestServed)
        let lost = truth.eventVersions.filter { unseen.contains($0.key) }.flatMap(\.value)
        #expect(lost.count == 5 && lost.allSatisfy { gap.contains($0.epochSeconds) }, "the lost events must lie in the gap")
        #expect(unseen.isSubset(of: Set(truth.prunedEventIds)))

        let status = try Archive(path: fixture.archivePath, mode: .readOnly).status()
        let eventlog = try #require(status.instances.first?.streams.first { $0.name == "eventlog" })
        #expect(eventlog.gaps.map { $0.from...$0.to } == [gap])
        let archived = try ArchivedObjects.read(fixture.archivePath, kind: "events")
        let prunedButArchived = Set(truth.prunedEventIds).subtracting(unseen)
        #expect(prunedButArchived.count == 500 && prunedButArchived.allSatisfy { archived.current[$0] != nil },
                "events the server pruned stay in the archive")
    }

    @Test("Task logs of finished tasks are archived once, whole")
    func taskLogs() async throws {
        let fixture = try await SyncFixture.start(SimulatorConfiguration(seed: 16, eventCount: 1500))
        defer { Task { await fixture.finish() } }
        let first = try await fixture.sync(taskLogs: true)
        #expect(first.taskLogsStored > 0)
        let second = try await fixture.sync(taskLogs: true)
        #expect(second.taskLogsStored == 0)

        // Every archived log holds every line the server has (box answers 10 lines unless asked).
        let archive = try Archive(path: fixture.archivePath, mode: .readOnly)
        var archivedLines: [String: Int] = [:]
        try archive.database.forEachRow("""
            SELECT t.api_id, l.line_count FROM task_logs l JOIN tasks t ON t.id = l.task_id WHERE l.rotated = 0
            """) { row in archivedLines[row.string(at: 0)] = row.int(at: 1) }
        #expect(!archivedLines.isEmpty)
        let client = try fixture.client()
        var longerThanDefault = 0
        for (taskId, count) in archivedLines {
            let full = try await client.taskLogs(taskId: taskId, lines: -1).lines
            #expect(count == full.count, "task \(taskId): \(count) of \(full.count) lines archived")
            if full.count > 10 { longerThanDefault += 1 }
        }
        #expect(longerThanDefault > 0, "no log was longer than box's default of 10 lines; the test proves nothing")
    }

    @Test("Another server under an archived instance name is refused unless it is said to have moved")
    func movedServer() async throws {
        let first = try await SyncFixture.start(SimulatorConfiguration(seed: 17, eventCount: 200))
        let second = try await SyncFixture.start(SimulatorConfiguration(seed: 18, eventCount: 200))
        defer { Task { await first.finish(); await second.finish() } }
        try await first.sync()
        let options = SyncOptions(instanceName: "sim")
        await #expect(throws: SyncError.instanceMoved(name: "sim", archived: first.url, given: second.url)) {
            try await ArchiveSync.run(client: try second.client(), archivePath: first.archivePath, options: options)
        }
        #expect(try Archive(path: first.archivePath, mode: .readOnly).instanceBaseURL(name: "sim") == first.url)
        var moved = options
        moved.acceptMovedServer = true
        _ = try await ArchiveSync.run(client: try second.client(), archivePath: first.archivePath, options: moved)
        #expect(try Archive(path: first.archivePath, mode: .readOnly).instanceBaseURL(name: "sim") == second.url)
    }

    @Test("A second sync on a locked archive fails at once with its own error")
    func lock() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/a.db"
        let held = try SyncLock(archivePath: path)
        #expect(throws: SyncError.locked(path: path)) { try SyncLock(archivePath: path) }
        withExtendedLifetime(held) {}
    }

    @Test("A page window always spans the requested offsets in one page", arguments: [
        (0, 10), (5, 5), (31, 95), (99, 101), (480, 545), (999_968, 1_000_032),
    ])
    func pageWindow(range: (Int, Int)) {
        let window = PageWindow(covering: range.0, range.1)
        let start = (window.page - 1) * window.perPage
        #expect(start <= range.0 && range.1 < start + window.perPage)
    }

    @Test("Under a per_page cap a window never asks for more than the cap, and centres the wanted offsets", arguments: [
        (0, 64, 50), (31, 95, 50), (950, 1014, 50), (10_000, 10_256, 120), (70, 200, 64),
    ])
    func cappedPageWindow(range: (Int, Int, Int)) {
        let window = PageWindow(covering: range.0, range.1, maxPerPage: range.2)
        #expect(window.perPage <= range.2)
        let start = (window.page - 1) * window.perPage, middle = range.0 + (range.1 - range.0) / 2
        // The middle lies at least a quarter of the cap from either edge (or the log's start).
        #expect(start <= middle && middle < start + window.perPage)
        #expect(middle - start >= min(middle, range.2 / 4) && start + window.perPage - 1 - middle >= range.2 / 4 - 1)
    }
}
