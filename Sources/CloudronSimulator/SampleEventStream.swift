/// One event as the simulated server would serve it.
public struct SampleEvent: Sendable {
    public let id: String
    public let action: String
    public let epochSeconds: Int64
    public let creationTime: String
    /// The object's exact bytes.
    public let json: [UInt8]
}

/// The simulator's events made one at a time, oldest first, without a server or the whole list in
/// memory: what the scale bench ingests directly to build archives of ten million events, which
/// `SimulatedCloudron` would have to hold (and serialize) all at once.
///
/// Same cast, action mix and content as the server's initial data; events are spread evenly over
/// `days` ending at `now` (several per second at the server's density), and a login's same-day
/// upsert is not modelled (nothing here is served twice).
public struct SampleEventStream: Sequence, IteratorProtocol {
    private let cast: SampleCast
    private var rng: SeededRandom
    private let count: Int
    private let start: Int64
    private let spanSeconds: Int64
    private var index = 0

    public init(seed: UInt64 = 1, count: Int, days: Int, now: Int64) {
        var rng = SeededRandom(seed: seed)
        cast = SampleCast(rng: &rng)
        self.rng = rng
        self.count = count
        spanSeconds = Int64(Swift.max(1, days)) * 86_400
        start = now - spanSeconds
    }

    public mutating func next() -> SampleEvent? {
        guard index < count else { return nil }
        // Every listed action first, so that any sizeable stream has each of them.
        let action = index < allActions.count ? allActions[index] : cast.randomAction(rng: &rng)
        let time = start + Int64((Double(index) / Double(count)) * Double(spanSeconds))
        index += 1
        let content = cast.content(for: action, rng: &rng, taskId: rng.int(1...Swift.max(12, count / 100)))
        let record = EventRecord(id: rng.uuid(), action: action, time: time, source: content.source, data: content.data)
        return SampleEvent(id: record.id, action: action, epochSeconds: time, creationTime: CloudronTime.iso(time),
                           json: record.json)
    }
}
