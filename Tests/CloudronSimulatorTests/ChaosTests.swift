import Foundation
import Testing
@testable import CloudronSimulator

private let admin = ["Authorization": "Bearer sim-admin-token-0123456789abcdef"]

private func chaosConfiguration(_ chaos: ChaosSettings) -> SimulatorConfiguration {
    SimulatorConfiguration(seed: 31, eventCount: 200, dynamics: SimulatorDynamics(chaos: chaos))
}

@Suite struct ChaosTests {
    @Test func serverErrorsComeAsJSONAndAsHTML() async throws {
        try await withSimulator(chaosConfiguration(ChaosSettings(serverErrorRate: 1))) { _, url in
            var kinds = Set<String>()
            for _ in 0..<16 {
                let response = try await RawHTTP.get(url, "/api/v1/eventlog", headers: admin)
                #expect(response.status == 500 || response.status == 502)
                kinds.insert(response.headers["content-type"] ?? "")
                if response.status == 502 { #expect(response.text.contains("<html>")) }
                if response.status == 500 { #expect(try response.json()["status"] as? String == "Internal Server Error") }
            }
            #expect(kinds.count == 2)
            // Controls are never disturbed.
            #expect(try await RawHTTP.get(url, "/_sim/dynamics").status == 200)
        }
    }

    @Test func tooManyRequestsCarriesRetryAfter() async throws {
        try await withSimulator(chaosConfiguration(ChaosSettings(tooManyRequestsRate: 1))) { _, url in
            let response = try await RawHTTP.get(url, "/api/v1/tasks", headers: admin)
            #expect(response.status == 429)
            #expect(response.headers["retry-after"] == "1")
        }
    }

    @Test func truncatedBodiesPromiseMoreThanTheySend() async throws {
        try await withSimulator(chaosConfiguration(ChaosSettings(truncatedBodyRate: 1))) { sim, url in
            let response = try await RawHTTP.get(url, "/api/v1/eventlog?per_page=50", headers: admin)
            #expect(response.status == 200)
            let promised = try #require(response.headers["content-length"].flatMap { Int($0) })
            #expect(response.body.count < promised)
            #expect((try? JSONSerialization.jsonObject(with: Data(response.body))) == nil)
            #expect(await sim.requestCounts()["/api/v1/eventlog"] == 1)
        }
    }

    @Test func droppedConnectionsSendNothing() async throws {
        try await withSimulator(chaosConfiguration(ChaosSettings(droppedConnectionRate: 1))) { sim, url in
            let response = try await RawHTTP.get(url, "/api/v1/eventlog", headers: admin)
            #expect(response.isEmpty)
            await sim.setDynamics(.quiet)
            #expect(try await RawHTTP.get(url, "/api/v1/eventlog", headers: admin).status == 200)
        }
    }

    @Test func mixedChaosStillServesMostRequests() async throws {
        let chaos = ChaosSettings(serverErrorRate: 0.15, tooManyRequestsRate: 0.1, slowRate: 0.1, slowMillis: 20,
                                  truncatedBodyRate: 0.05, droppedConnectionRate: 0.05)
        try await withSimulator(chaosConfiguration(chaos)) { _, url in
            var ok = 0, failed = 0
            for _ in 0..<40 {
                let response = try await RawHTTP.get(url, "/api/v1/eventlog?per_page=5", headers: admin)
                if response.status == 200, (try? response.list("eventlogs").count) == 5 { ok += 1 } else { failed += 1 }
            }
            #expect(ok > 10 && failed > 3)
        }
    }
}
