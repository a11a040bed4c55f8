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
        var body = Array(#"{"eventlogs":["#.utf8)
        for (index, record) in truth.events.enumerated() {
            if index > 0 { body.append(0x2C) }
            body.append(contentsOf: record.bytes)
        }
        body.append(contentsOf: Array("]}".utf8))

        let rounds = ProcessInfo.processInfo.environment["CLIENT_DECODE_ROUNDS"].flatMap(Int.init) ?? 1
        let clock = ContinuousClock()
        var events: [Event] = []
        let elapsed = try clock.measure {
            for _ in 0..<rounds { events = try CloudronClient.decodeList(body, key: "eventlogs", ModelDecoding.event) }
        }
        #expect(events.map(\.id) == truth.events.map(\.id))
        #expect(events.map(\.raw) == truth.events.map(\.bytes))
        #expect(events.map(\.epochSeconds) == truth.events.map(\.epochSeconds))
        #expect(events.map(\.creationTime) == truth.events.map(\.creationTime))
        #expect(Set(events.map(\.action)).count > 20)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let total = Double(rounds * events.count)
        print("decode: \(Int(total / seconds)) events/s, \(Int(Double(rounds * body.count) / seconds / 1e6)) MB/s, "
              + "average row \(body.count / max(1, events.count)) bytes")
    }
}
