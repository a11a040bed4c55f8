import Testing
import Foundation
import CloudronSimulator
@testable import Client

/// Decodes a list body built from the simulator's own serialisation of 5,000 realistic events. Set
/// CLIENT_DECODE_ROUNDS (e.g. 40, with `-c release`) to measure the rate; the figure is printed, never asserted.
@Suite struct DecodeRateTests {
    @Test func decodesSimulatorRowsExactly() async throws {
        let simulator = SimulatedCloudron(configuration: SimulatorConfiguration(seed: 3, eventCount: 5000))
        let truth = await simulator.truth()
        try measure(truth.events, label: "all simulator rows")
        // The brief's realistic case: rows of 2-4 KB (app events embedding a manifest).
        let large = truth.events.filter { $0.bytes.count >= 2048 }
        if large.count >= 50 { try measure(large, label: "rows >= 2 KB") }
    }

    func measure(_ records: [SimulatorTruth.Record], label: String) throws {
        var body = Array(#"{"eventlogs":["#.utf8)
        for (index, record) in records.enumerated() {
            if index > 0 { body.append(0x2C) }
            body.append(contentsOf: record.bytes)
        }
        body.append(contentsOf: Array("]}".utf8))

        let rounds = ProcessInfo.processInfo.environment["CLIENT_DECODE_ROUNDS"].flatMap(Int.init) ?? 1
        let clock = ContinuousClock()
        var events: [Event] = []
        let elapsed = try clock.measure {
            for _ in 0..<rounds { events = try CloudronClient.decodeList(body, key: "eventlogs", ModelDecoding.event).objects }
        }
        #expect(events.map(\.id) == records.map(\.id))
        #expect(events.map(\.raw) == records.map(\.bytes))
        #expect(events.map(\.epochSeconds) == records.map(\.epochSeconds))
        #expect(events.map(\.creationTime) == records.map(\.creationTime))
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let total = Double(rounds * events.count)
        print("decode (\(label)): \(Int(total / seconds)) events/s, \(Int(Double(rounds * body.count) / seconds / 1e6)) MB/s, "
              + "\(events.count) rows averaging \(body.count / max(1, events.count)) bytes")
    }
}
