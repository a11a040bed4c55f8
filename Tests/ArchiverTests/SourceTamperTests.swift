@testable import Archiver
import CloudronSimulator
import Foundation
import Testing
import TestSupport

/// Issue 14 part 3: what box does (pruning, login rewrites, tie shuffles, rows arriving during a walk)
/// raises no alarm; an event deleted or edited behind box's back does, once, with its kind.
@Suite struct SourceTamperTests {
    /// An event well inside the retention window and older than an incremental run's margin.
    static func midRetentionEvents(_ truth: SimulatorTruth, count: Int, excluding action: String? = nil) throws -> [SimulatorTruth.Record] {
        let now = truth.now
        let candidates = truth.events.filter { record in
            let age = now - record.epochSeconds
            guard age > 3 * 86_400, age < 7 * 86_400 else { return false }
            guard let action else { return true }
            return !record.json.contains("\"action\":\"\(action)\"")
        }
        guard candidates.count >= count else { throw SyncTestFailure("too few mid-retention events") }
        return Array(candidates.prefix(count))
    }

    @Test("an event deleted and a non-login event rewritten on the server: a recheck raises one alarm each, with its kind, once")
    func deletionAndRewriteRaiseAlarms() async throws {
        let fixture = try await SyncFixture.start(SimulatorConfiguration(seed: 31, eventCount: 800))
        defer { Task { await fixture.finish() } }
        #expect(try await fixture.sync().events.alarms == 0)
        let truth = await fixture.simulator.truth()
        let picked = try Self.midRetentionEvents(truth, count: 2, excluding: "user.login")
        #expect(await fixture.simulator.tamperDelete(eventId: picked[0].id))
        #expect(await fixture.simulator.tamperRewrite(eventId: picked[1].id, data: Array(#"{"note":"nothing happened here"}"#.utf8)))

        // An incremental run re-reads only its margin (a day): neither edit lies in it.
        #expect(try await fixture.sync().events.alarms == 0)
        let report = try await fixture.sync(recheck: true)
        #expect(report.events.fullWalk && report.events.alarms == 2)
        let alarms = try Archive(path: fixture.archivePath, mode: .readOnly).alarms()
        #expect(alarms.map { [$0.kind.rawValue, $0.id, $0.instance, $0.stream] }
                == [["deleted-upstream", picked[0].id, "sim", "eventlog"], ["rewritten-upstream", picked[1].id, "sim", "eventlog"]]
                || alarms.map { [$0.kind.rawValue, $0.id, $0.instance, $0.stream] }
                == [["rewritten-upstream", picked[1].id, "sim", "eventlog"], ["deleted-upstream", picked[0].id, "sim", "eventlog"]])
        // The archive keeps the deleted event and both versions of the rewritten one.
        let archived = try ArchivedObjects.read(fixture.archivePath, kind: "events")
        #expect(archived.current[picked[0].id] == picked[0].json)
        #expect(archived.versions[picked[1].id]?.count == 2)
        // Found once: the next recheck finds the same and records nothing new; verify covers the alarms.
        #expect(try await fixture.sync(recheck: true).events.alarms == 0)
        let archive = try Archive(path: fixture.archivePath, mode: .readOnly)
        #expect(try archive.alarms().count == 2)
        #expect(try archive.verify().isIntact)
        // Every sync looks for its run's rewrites: through their index, never by visiting every version.
        var plan: [String] = []
        try archive.database.forEachRow("EXPLAIN QUERY PLAN " + Archive.eventRewritesSQL, [.integer(1), .integer(1)]) {
            plan.append($0.string(at: 3))
        }
        #expect(plan.first?.contains("INDEX event_versions_rewrites_by_run (run_id=?)") == true, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN") }, "\(plan)")
    }

    @Test("two walks on one connection (sync --config's servers at once): each keeps its own set of events read")
    func concurrentWalksKeepTheirOwnSeenSets() throws {
        let folder = try TemporaryFolder()
        let archive = try Archive(path: folder.path("audit.db"))
        let first = try archive.instanceID(name: "first", baseURL: "https://first.example.org")
        let second = try archive.instanceID(name: "second", baseURL: "https://second.example.org")
        let run = try archive.beginRun(instance: first, streams: ["eventlog"], startedAt: Fixture.baseEpoch)
        let firstIDs = ["f-1", "f-2", "f-3"], secondIDs = ["s-1", "s-2"]
        _ = try archive.ingest(events: firstIDs.enumerated().map { Fixture.login(id: $1, epoch: Fixture.baseEpoch + Int64($0)) },
                               instance: first, run: run, seenAt: Fixture.baseEpoch + 100)
        _ = try archive.ingest(events: secondIDs.enumerated().map { Fixture.login(id: $1, epoch: Fixture.baseEpoch + Int64($0)) },
                               instance: second, run: run, seenAt: Fixture.baseEpoch + 100)
        // Interleaved as two servers' walks are: the second walk starts after the first has read its pages.
        try archive.beginSeenEvents(instance: first)
        try archive.markSeen(events: firstIDs, instance: first)
        try archive.beginSeenEvents(instance: second)
        try archive.markSeen(events: Array(secondIDs.dropLast()), instance: second)
        #expect(try archive.unseenEvents(instance: first, since: Fixture.baseEpoch).isEmpty)
        #expect(try archive.unseenEvents(instance: second, since: Fixture.baseEpoch).map(\.apiID) == ["s-2"])
    }

    @Test("pruning by age, login rewrites, new rows during the walk and shuffled ties raise no alarm")
    func whatBoxDoesIsNoAlarm() async throws {
        let fixture = try await SyncFixture.start(SimulatorConfiguration(seed: 32, eventCount: 1500))
        defer { Task { await fixture.finish() } }
        try await fixture.sync(pageSize: 50)
        // Two days on: the retention job prunes the oldest two days (events older than ten days) during
        // the walk, while logins are rewritten in place and new rows arrive at the top on every request.
        await fixture.simulator.advanceClock(seconds: 2 * 86_400)
        await fixture.simulator.setDynamics(SimulatorDynamics(newEventsPerListRequest: 3, loginUpsertsPerListRequest: 2,
                                                              retentionPruning: true))
        let rechecked = try await fixture.sync(pageSize: 50, recheck: true)
        let truth = await fixture.simulator.truth()
        #expect(!truth.prunedEventIds.isEmpty, "the test must prune")
        #expect(truth.eventVersions.values.contains { $0.count > 1 }, "the test must rewrite logins")
        // The simulator serves each second's rows in a fresh order on every request.
        #expect(Dictionary(grouping: truth.events, by: \.epochSeconds).values.filter { $0.count > 1 }.count > 10,
                "the test must serve ties")
        #expect(rechecked.events.fullWalk && rechecked.events.counts.changed > 0)
        #expect(rechecked.events.alarms == 0)
        // And an incremental run under the same churn.
        #expect(try await fixture.sync(pageSize: 50).events.alarms == 0)
        #expect(try Archive(path: fixture.archivePath, mode: .readOnly).alarms().isEmpty)
    }

    @Test("a recheck after the retention job pruned archived events: no alarm, and the pruned events stay archived")
    func prunedBetweenRuns() async throws {
        let fixture = try await SyncFixture.start(SimulatorConfiguration(seed: 33, eventCount: 600))
        defer { Task { await fixture.finish() } }
        try await fixture.sync()
        await fixture.simulator.advanceClock(seconds: 2 * 86_400)
        await fixture.simulator.pruneNow()
        let report = try await fixture.sync(recheck: true)
        #expect(report.events.alarms == 0)
        let pruned = Set(await fixture.simulator.truth().prunedEventIds)
        #expect(!pruned.isEmpty)
        let archived = try ArchivedObjects.read(fixture.archivePath, kind: "events")
        #expect(pruned.isSubset(of: Set(archived.current.keys)), "pruned events stay archived")
    }
}

extension SourceTamperTests {
    @Test("a walk that could not walk again (no rewalk allowed) looks for no vanished events: the logins box moved to the top while it paged are not taken for deletions")
    func noRewalkNoVanishedEvents() async throws {
        // Evening, on a clock that stands still: the day has many logins for box to rewrite in place.
        let today = Int64(Date().timeIntervalSince1970) / 86_400 * 86_400
        let fixture = try await SyncFixture.start(SimulatorConfiguration(seed: 35, eventCount: 3000,
                                                                         clock: .fixed(epochSeconds: today - 86_400 + 21 * 3_600)))
        defer { Task { await fixture.finish() } }
        #expect(try await fixture.sync(pageSize: 20).events.alarms == 0)
        let before = await fixture.simulator.truth()
        await fixture.simulator.setDynamics(SimulatorDynamics(loginUpsertsPerListRequest: 3))
        var options = SyncOptions(instanceName: "sim", pageSize: 20, maxRewalks: 0)
        options.recheck = true
        let report = try await ArchiveSync.run(client: try fixture.client(), archivePath: fixture.archivePath, options: options)
        #expect(report.events.fullWalk && report.events.walks == 1)
        #expect(report.events.alarms == 0)
        #expect(try Archive(path: fixture.archivePath, mode: .readOnly).alarms().isEmpty)
        // Box did move logins to the top while the walk paged, after it had read the top: the walk archived
        // no rewrite of them (without the guard, those it never met at their old place are alarms: 35 here).
        let archived = try ArchivedObjects.read(fixture.archivePath, kind: "events").versions
        let after = await fixture.simulator.truth()
        let moved = after.events.filter {
            (after.eventVersions[$0.id]?.count ?? 1) > (before.eventVersions[$0.id]?.count ?? 1)
        }
        #expect(moved.contains { archived[$0.id]?.count == 1 }, "every login box moved was read at the top: the test proves nothing")
    }

    @Test("an archive written before alarms existed (the previous schema) is upgraded by the next sync, which records alarms in it")
    func previousSchemaUpgrades() async throws {
        let fixture = try await SyncFixture.start(SimulatorConfiguration(seed: 34, eventCount: 600))
        defer { Task { await fixture.finish() } }
        #expect(try await fixture.sync().events.alarms == 0)
        // Back to the schema before alarms: without the alarms migration's table and record (and what the
        // migrations after it add: 0009's user fields and role view, 0010's index, 0015's), as the cloudron-audit before alarms
        // (this list of migrations up to the alarms one) leaves the file; it opens it as its own.
        let alarms = try #require(ArchiveSchema.migrations.first { $0.fileName.hasSuffix("_alarms.sql") }?.version)
        let previous = Array(ArchiveSchema.migrations.prefix { $0.version < alarms })
        #expect(previous.count == alarms - 1)
        // 0015's columns and indexes first (some of its indexes hold 0009's columns).
        let migrationSQL = { (suffix: String) in
            String(decoding: try #require(ArchiveSchema.migrations.first { $0.fileName.hasSuffix(suffix) }).sql, as: UTF8.self)
        }
        try Database(path: fixture.archivePath, mode: .readWrite).execute(SchemaDowngrade.beforeReportCoveringIndexes(
            userRoleLookupsSQL: try migrationSQL("_user_role_lookups.sql"), reportLookupsSQL: try migrationSQL("_report_lookups.sql")))
        let laterColumns = ExtractedColumns.events.filter { $0.schemaVersion > alarms && $0.schemaVersion < 15 }.map(\.name)
        try Database(path: fixture.archivePath, mode: .readWrite).execute("""
            DROP VIEW user_role_changes; DROP INDEX event_fields_user_states; \(laterColumns.map { "ALTER TABLE event_fields DROP COLUMN \($0);" }.joined(separator: " "))
            DROP TABLE alarms; DELETE FROM schema_migrations WHERE version >= \(alarms);
            PRAGMA user_version = \(previous.count);
            """)
        #expect(try Archive(path: fixture.archivePath, mode: .readWrite, migrations: previous).schemaVersion() == previous.count)

        let picked = try Self.midRetentionEvents(await fixture.simulator.truth(), count: 1, excluding: "user.login")
        #expect(await fixture.simulator.tamperDelete(eventId: picked[0].id))
        #expect(try await fixture.sync(recheck: true).events.alarms == 1)
        let archive = try Archive(path: fixture.archivePath, mode: .readOnly)
        #expect(try archive.schemaVersion() == ArchiveSchema.currentVersion)
        #expect(try archive.alarms().map { [$0.kind.rawValue, $0.id] } == [["deleted-upstream", picked[0].id]])
        #expect(try archive.verify().isIntact)
    }
}

struct SyncTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
