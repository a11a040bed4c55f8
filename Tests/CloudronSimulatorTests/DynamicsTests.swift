import Foundation
import Testing
@testable import CloudronSimulator

private let admin = ["Authorization": "Bearer sim-admin-token-0123456789abcdef"]
/// 2026-11-20T12:00:00Z: a fixed clock, so expected times are exact and no run straddles UTC midnight.
private let noon: Int64 = 1_795_176_000

@Suite struct DynamicsTests {
    @Test func loginUpsertKeepsItsIdAndJumpsToTheTop() async throws {
        try await withSimulator(SimulatorConfiguration(seed: 8, eventCount: 400, clock: .fixed(epochSeconds: noon))) { sim, url in
            let before = await sim.truth()
            await sim.setDynamics(SimulatorDynamics(loginUpsertsPerListRequest: 1))
            let page = try await RawHTTP.get(url, "/api/v1/eventlog?per_page=10", headers: admin).list("eventlogs")
            let after = await sim.truth()
            let changed = after.eventVersions.filter { $0.value.count == 2 }
            try #require(changed.count == 1)
            let (id, versions) = try #require(changed.first)
            #expect(before.events.contains { $0.id == id })
            #expect(versions[0].json == before.events.first { $0.id == id }?.json)
            #expect(versions[0].epochSeconds < noon && versions[1].epochSeconds == noon, "rewritten with creationTime = now")
            #expect(after.events[0].epochSeconds == noon, "the upserted row is at the top")
            #expect(after.events.count == before.events.count, "an upsert adds no row")
            let topTime = try #require(page.first?["creationTime"] as? String)
            let served = try #require(page.first { $0["id"] as? String == id })
            #expect(served["creationTime"] as? String == topTime)
            #expect(served["action"] as? String == "user.login")
            // Same source, same id; box keys the upsert on the source.
            let old = try #require(try JSONSerialization.jsonObject(with: Data(versions[0].bytes)) as? [String: Any])
            #expect(NSDictionary(dictionary: old["source"] as? [String: Any] ?? [:])
                    .isEqual(to: served["source"] as? [String: Any] ?? ["x": 1]))
        }
    }

    @Test func newEventsAppearAtTheTopAndTruthHoldsEveryVersionServed() async throws {
        let dynamics = SimulatorDynamics(newEventsPerListRequest: 3, loginUpsertsPerListRequest: 1)
        try await withSimulator(SimulatorConfiguration(seed: 12, eventCount: 300, dynamics: dynamics, clock: .fixed(epochSeconds: noon))) { sim, url in
            let initialIds = Set(await sim.truth().events.map(\.id))
            var served: [String: Set<String>] = [:]
            for page in 1...6 {
                let response = try await RawHTTP.get(url, "/api/v1/eventlog?page=\(page)&per_page=40", headers: admin)
                for object in try response.list("eventlogs") {
                    let bytes = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                    served[object["id"] as? String ?? "", default: []].insert(String(decoding: bytes, as: UTF8.self))
                }
            }
            let truth = await sim.truth()
            let newIds = Set(truth.events.map(\.id)).subtracting(initialIds)
            #expect(newIds.count == 6 * 3)
            #expect(newIds.allSatisfy { truth.eventVersions[$0]?.isEmpty == false })
            // Every row ever served is one of the truth's versions of that id.
            for (id, objects) in served {
                let versions = try #require(truth.eventVersions[id], "\(id)")
                let known = Set(try versions.map { record -> String in
                    let object = try JSONSerialization.jsonObject(with: Data(record.bytes))
                    return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
                })
                #expect(objects.isSubset(of: known), "\(id)")
            }
            // Each current event's last version is what is served now.
            for event in truth.events { #expect(truth.eventVersions[event.id]?.last?.json == event.json) }
            let upserted = truth.eventVersions.values.filter { $0.count >= 2 }
            #expect(!upserted.isEmpty)
            #expect(await sim.requestCounts()["/api/v1/eventlog"] == 6)
        }
    }

    @Test func pruningRemovesOldEventsAndTheirNotifications() async throws {
        try await withSimulator(SimulatorConfiguration(seed: 21, eventCount: 3000, clock: .fixed(epochSeconds: noon))) { sim, url in
            let before = await sim.truth()
            await sim.advanceClock(seconds: 3 * 86_400)
            await sim.setDynamics(SimulatorDynamics(retentionPruning: true))
            let page = try await RawHTTP.get(url, "/api/v1/eventlog?per_page=100000", headers: admin).list("eventlogs")
            let after = await sim.truth()
            #expect(after.now == noon + 3 * 86_400)
            let cutoff = after.now - 10 * 86_400
            let expectedGone = after.prunedEventIds
            #expect(expectedGone.count > 300, "about 2 of 9 days were pruned")
            let times = Dictionary(uniqueKeysWithValues: before.events.map { ($0.id, $0.epochSeconds) })
            #expect(expectedGone.allSatisfy { (times[$0] ?? .max) < cutoff })
            #expect(page.count == before.events.count - expectedGone.count)
            #expect(after.events.allSatisfy { $0.epochSeconds >= cutoff })
            let linked = before.notifications.filter { note in expectedGone.contains { note.json.contains($0) } }.map(\.id)
            #expect(!linked.isEmpty)
            #expect(Set(after.deletedNotificationIds) == Set(linked))
            #expect(after.notifications.allSatisfy { !linked.contains($0.id) })
            // Pruned rows keep their versions in the truth and are gone from the API.
            let gone = try #require(expectedGone.first)
            #expect(after.eventVersions[gone]?.count == 1)
            #expect(try await RawHTTP.get(url, "/api/v1/eventlog/\(gone)", headers: admin).status == 404)
        }
    }

    @Test func controlEndpointsDriveTheSameState() async throws {
        try await withSimulator(SimulatorConfiguration(seed: 22, eventCount: 2000, clock: .fixed(epochSeconds: noon))) { sim, url in
            let dynamics = try await RawHTTP.request(url, method: "POST", target: "/_sim/dynamics",
                                                     body: Array(#"{"newEventsPerListRequest":2}"#.utf8))
            #expect(dynamics.status == 200)
            #expect(await sim.dynamics() == SimulatorDynamics(newEventsPerListRequest: 2))
            let clock = try await RawHTTP.request(url, method: "POST", target: "/_sim/clock?advance=172800")
            let now = try #require(try clock.json()["now"] as? Int)
            let simulatedNow = await sim.now()
            #expect(Int64(now) == noon + 172_800 && simulatedNow == noon + 172_800)
            let pruned = try await RawHTTP.request(url, method: "POST", target: "/_sim/prune").json()
            #expect((pruned["pruned"] as? Int ?? 0) > 0)
            let truth = try JSONDecoder().decode(SimulatorTruth.self, from: Data(try await RawHTTP.get(url, "/_sim/truth").body))
            let direct = await sim.truth()
            #expect(truth.events == direct.events && truth.eventVersions == direct.eventVersions)
            #expect(truth.prunedEventIds.count == pruned["pruned"] as? Int)
            let counts = try await RawHTTP.get(url, "/_sim/requests").json()
            #expect(counts["/_sim/truth"] as? Int == 1)
        }
    }

    @Test func alertsAreRewrittenAndAcksToggle() async throws {
        let dynamics = SimulatorDynamics(alertRewrites: true, ackToggles: true)
        try await withSimulator(SimulatorConfiguration(seed: 23, eventCount: 500, dynamics: dynamics, clock: .fixed(epochSeconds: noon))) { sim, url in
            let before = await sim.truth()
            for _ in 0..<4 { _ = try await RawHTTP.get(url, "/api/v1/notifications?per_page=1000", headers: admin) }
            let after = await sim.truth()
            #expect(after.notifications.count == before.notifications.count)
            let versionCount = after.notificationVersions.values.reduce(0) { $0 + $1.count }
            #expect(versionCount == before.notifications.count + 8)
            let rewritten = after.notificationVersions.values.filter { versions in
                versions.count > 1 && versions[0].json.contains(#""eventId":null"#)
                    && versions.last?.epochSeconds ?? 0 > versions[0].epochSeconds
            }
            #expect(!rewritten.isEmpty)
            // Box rewrites an alert with `acknowledged = !message`: a cleared alert is empty and acknowledged.
            for versions in rewritten {
                for (previous, version) in zip(versions, versions.dropFirst()) where version.epochSeconds > previous.epochSeconds {
                    let cleared = version.json.contains(#""message":"""#)
                    #expect(version.json.contains(#""acknowledged":\#(cleared)"#), "\(version.json)")
                }
            }
        }
    }

    @Test func runningTasksProgressToAnEnd() async throws {
        try await withSimulator(SimulatorConfiguration(seed: 24, eventCount: 1000,
                                                       dynamics: SimulatorDynamics(taskProgress: true),
                                                       clock: .fixed(epochSeconds: noon))) { sim, url in
            let running = await sim.truth().tasks.filter { $0.json.contains(#""active":true"#) || $0.json.contains(#""pending":true"#) }
            try #require(!running.isEmpty)
            var percents: [Int] = []
            for _ in 0..<8 {
                let task = try await RawHTTP.get(url, "/api/v1/tasks/\(running[0].id)", headers: admin).json()
                percents.append(task["percent"] as? Int ?? -1)
            }
            #expect(percents == percents.sorted())
            #expect(percents.last == 100)
            let truth = await sim.truth()
            for task in running {
                let last = try #require(truth.taskVersions[task.id]?.last)
                #expect(last.json.contains(#""active":false"#) && last.json.contains(#""pending":false"#))
                #expect(last.json.contains(#""success":true"#) || last.json.contains(#""code":"crashed""#))
                #expect((truth.taskVersions[task.id]?.count ?? 0) > 2)
            }
        }
    }
}
