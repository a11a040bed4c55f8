// Placeholder: the simulator lands with issue 2. The names below are the contract other modules use.
public struct SimulatorConfiguration: Sendable {
    public var seed: UInt64
    public var eventCount: Int
    public init(seed: UInt64 = 1, eventCount: Int = 5000) {
        self.seed = seed
        self.eventCount = eventCount
    }
}
