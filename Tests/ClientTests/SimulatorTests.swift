import Testing
import CloudronSimulator
@testable import Client

/// A running simulator and a way to make clients for it.
struct SimulatorFixture {
    let simulator: SimulatedCloudron
    let url: String

    static func start(eventCount: Int = 300, seed: UInt64 = 7, legacy2019: Bool = false,
                      jsonUnauthorizedBody: Bool = false, chaos: ChaosSettings = .none) async throws -> SimulatorFixture {
        var configuration = SimulatorConfiguration(seed: seed, eventCount: eventCount)
        configuration.legacy2019 = legacy2019
        configuration.jsonUnauthorizedBody = jsonUnauthorizedBody
        var dynamics = SimulatorDynamics.quiet
        dynamics.chaos = chaos
        configuration.dynamics = dynamics
        let simulator = SimulatedCloudron(configuration: configuration)
        let url = try await simulator.start(port: 0)
        return SimulatorFixture(simulator: simulator, url: url)
    }

    func client(token: String? = nil, auth: AuthStyle = .bearerHeader,
                retry: RetryPolicy = RetryPolicy(maxAttempts: 6, baseDelay: 0.02, maxDelay: 0.2)) throws -> CloudronClient {
        var configuration = try ClientConfiguration(baseURL: url, token: APIToken(token ?? simulator.adminToken))
        configuration.authStyle = auth
        configuration.retry = retry
        // Only bounds a broken server: the in-process simulator answers from the cooperative pool, which
        // the whole test run shares, and on a loaded machine waited over 20 s for a turn (then retries ≠ 0).
        configuration.requestTimeout = 300
        return try CloudronClient(configuration: configuration)
    }
}

/// Reads the whole event log in pages of `perPage`. Box orders rows of one second at random on every
/// request, so a tie group cut by a page boundary can lose a row between two requests; each such group
/// is read again whole from one request whose page straddles the boundary.
func readAllEvents(_ client: CloudronClient, perPage: Int) async throws -> [String: Event] {
    var pages: [[Event]] = []
    var page = 1
    while true {
        let result = try await client.eventPage(page: page, perPage: perPage)
        pages.append(result.events)
        if result.isLast { break }
        page += 1
    }
    var byId: [String: Event] = [:]
    func add(_ event: Event) throws {
        if let known = byId[event.id], known.raw != event.raw { throw TestFailure("event \(event.id) changed between requests") }
        byId[event.id] = event
    }
    for events in pages { for event in events { try add(event) } }
    for p in 0..<(pages.count - 1) {
        guard let last = pages[p].last, let next = pages[p + 1].first, last.epochSeconds == next.epochSeconds else { continue }
        let boundary = (p + 1) * perPage
        let margin = perPage / 4
        guard let size = stride(from: perPage + perPage / 4, through: perPage * 4, by: perPage / 4).first(where: {
            let start = (boundary / $0) * $0
            return boundary - start >= margin && start + $0 - boundary >= margin
        }) else { continue }
        let around = try await client.eventPage(page: boundary / size + 1, perPage: size)
        for event in around.events where event.epochSeconds == last.epochSeconds { try add(event) }
    }
    return byId
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Every event exactly as the truth has it: the same ids, and byte-identical JSON per id.
func expectMatchesTruth(_ events: [String: Event], _ truth: SimulatorTruth, sourceLocation: SourceLocation = #_sourceLocation) {
    let expected = Dictionary(uniqueKeysWithValues: truth.events.map { ($0.id, $0) })
    #expect(Set(events.keys) == Set(expected.keys), "ids differ", sourceLocation: sourceLocation)
    var mismatched = 0
    for (id, event) in events {
        guard let record = expected[id] else { continue }
        if event.raw != record.bytes || event.creationTime != record.creationTime || event.epochSeconds != record.epochSeconds {
            mismatched += 1
        }
    }
    #expect(mismatched == 0, "\(mismatched) events differ from the truth", sourceLocation: sourceLocation)
}

@Suite(.serialized) struct SimulatorTests {
    @Test(arguments: [AuthStyle.bearerHeader, .queryParameter])
    func bothAuthStylesReadEverything(_ auth: AuthStyle) async throws {
        let fixture = try await SimulatorFixture.start()
        defer { Task { await fixture.simulator.stop() } }
        let client = try fixture.client(auth: auth)
        let events = try await readAllEvents(client, perPage: 40)
        let truth = await fixture.simulator.truth()
        expectMatchesTruth(events, truth)

        let tasks = try await client.taskPage(page: 1, perPage: 1000)
        #expect(tasks.isLast && tasks.tasks.map(\.id) == truth.tasks.map(\.id) && tasks.tasks.map(\.raw) == truth.tasks.map(\.bytes))
        for task in tasks.tasks {
            let text = String(decoding: task.raw, as: UTF8.self)
            #expect((task.errorMessage != nil) == text.contains("\"error\":{"), "\(text)")
        }
        let notifications = try await client.notificationPage(page: 1, perPage: 1000)
        #expect(Set(notifications.notifications.map(\.id)) == Set(truth.notifications.map(\.id)))
        let someEvent = try #require(truth.events.dropFirst(7).first)
        #expect(try await client.event(id: someEvent.id).raw == someEvent.bytes)
        let profile = try await client.profile()
        #expect(!profile.isEmpty)
        #expect(await fixture.simulator.requestCounts()["/api/v1/eventlog", default: 0] >= 8)
        #expect(client.statistics().retries == 0)
    }

    @Test func readonlyTokenWorksForEveryGet() async throws {
        let fixture = try await SimulatorFixture.start(eventCount: 120)
        defer { Task { await fixture.simulator.stop() } }
        let client = try fixture.client(token: fixture.simulator.readonlyToken)
        let truth = await fixture.simulator.truth()
        #expect(try await client.eventPage(page: 1, perPage: 200).events.count == truth.events.count)
        let notification = try #require(truth.notifications.first)
        #expect(try await client.notification(id: notification.id).raw == notification.bytes)
        let task = try #require(truth.tasks.first)
        let fetched = try await client.task(id: task.id)
        #expect(fetched.raw == task.bytes && fetched.id == task.id)
        _ = try await client.taskLogs(taskId: task.id)
        _ = try await client.profile()
        #expect(try await client.status().version != nil)
    }

    @Test(arguments: [false, true])
    func wrongTokenIsRejectedWithoutRetry(_ jsonBody: Bool) async throws {
        let fixture = try await SimulatorFixture.start(eventCount: 10, jsonUnauthorizedBody: jsonBody)
        defer { Task { await fixture.simulator.stop() } }
        for auth in [AuthStyle.bearerHeader, .queryParameter] {
            let client = try fixture.client(token: "wrong-token-\(jsonBody)", auth: auth)
            let error = try await #require(throws: ClientError.self) { try await client.eventPage(page: 1, perPage: 10) }
            guard case .tokenRejected(let url, let message) = error else { Issue.record("got \(error)"); continue }
            #expect(url == fixture.url + "/api/v1/eventlog?page=1&per_page=10")
            #expect(message == (jsonBody ? "No such token" : "Unauthorized"))
            #expect(error.description.hasPrefix(jsonBody ? "401 from \(url): No such token — the server does not know this token"
                                                         : "401 from \(url): token rejected — check the API token"))
            #expect(!error.isRetryable && client.statistics().requestsSent == 1)
            // status does not check the token; profile does.
            #expect(try await client.status().version != nil)
            await #expect(throws: ClientError.self) { try await client.profile() }
        }
    }

    @Test func serverMessageOfBadRequestIsShown() async throws {
        let fixture = try await SimulatorFixture.start(eventCount: 10)
        defer { Task { await fixture.simulator.stop() } }
        let client = try fixture.client()
        let error = try await #require(throws: ClientError.self) { try await client.eventPage(page: 0, perPage: 10) }
        guard case .badRequest(_, let message?) = error else { Issue.record("got \(error)"); return }
        #expect(message.contains("page"))
        #expect(client.statistics().requestsSent == 1)
        let missing = try await #require(throws: ClientError.self) { try await client.event(id: "no-such-id") }
        #expect(missing.category == .notFound)
    }

    @Test func legacy2019Server() async throws {
        let fixture = try await SimulatorFixture.start(eventCount: 1500, legacy2019: true)
        defer { Task { await fixture.simulator.stop() } }
        let client = try fixture.client()
        let events = try await readAllEvents(client, perPage: 400)
        let truth = await fixture.simulator.truth()
        expectMatchesTruth(events, truth)
        // A 2019 server has no /api/v1/eventlog route: it counts the one 404 there as "other".
        let served = await fixture.simulator.requestCounts()
        #expect(served["other"] == 1, "one 404 on the modern path, then remembered")
        #expect(served["/api/v1/cloudron/eventlog", default: 0] >= 4)

        let event = try #require(truth.events.first)
        #expect(try await client.event(id: event.id).raw == event.bytes, "unwrapped from {\"event\":…}")
        let notification = try #require(truth.notifications.first)
        #expect(try await client.notification(id: notification.id).raw == notification.bytes)

        let tasks = try await client.taskPage(page: 1, perPage: 1000).tasks
        #expect(tasks.count == truth.tasks.count)
        #expect(tasks.allSatisfy { $0.success == nil && $0.pending == nil })
        for task in tasks {
            let text = String(decoding: task.raw, as: UTF8.self)
            #expect(!text.contains("\"error\"") && text.contains("\"errorMessage\""))
            #expect((task.errorMessage != nil) == text.contains("\"errorMessage\":\""), "\(text)")
        }
        #expect(tasks.contains { $0.errorMessage != nil }, "a failed 2019 task's errorMessage is read")
    }

    @Test func nonASCIIDataRoundTripsByteForByte() async throws {
        let fixture = try await SimulatorFixture.start(eventCount: 400)
        defer { Task { await fixture.simulator.stop() } }
        let client = try fixture.client()
        let events = try await client.eventPage(page: 1, perPage: 1000).events
        let truth = await fixture.simulator.truth()
        let expected = Dictionary(uniqueKeysWithValues: truth.events.map { ($0.id, $0.bytes) })
        let nonASCII = events.filter { $0.raw.contains(where: { $0 >= 0x80 }) || String(decoding: $0.raw, as: UTF8.self).contains("\\u") }
        #expect(!nonASCII.isEmpty, "the simulator's data has non-ASCII names")
        for event in nonASCII { #expect(event.raw == expected[event.id]) }
        // The full-text leaves see the unescaped text.
        let leaves = nonASCII.flatMap { RawJSON.scalarValues(in: $0.raw) }
        #expect(leaves.contains(where: { $0.unicodeScalars.contains(where: { $0.value >= 0x80 }) }))
    }

    @Test func taskLogsInBothFormats() async throws {
        let fixture = try await SimulatorFixture.start(eventCount: 300)
        defer { Task { await fixture.simulator.stop() } }
        let client = try fixture.client()
        let truth = await fixture.simulator.truth()
        var sawLines = false
        for task in truth.tasks.prefix(10) {
            let lines = try await client.taskLogs(taskId: task.id).lines
            let text = try await client.taskLogText(taskId: task.id)
            for line in lines {
                // Timestamp 0: a continuation line, as box gives every physical line of the log file.
                #expect((line.realtimeTimestamp > 1_000_000_000_000_000 || line.realtimeTimestamp == 0)
                        && text.contains(line.message.prefix(20)))
                #expect(String(decoding: line.raw, as: UTF8.self).contains("\"source\":\"\(task.id)\""))
            }
            if !lines.isEmpty {
                sawLines = true
                #expect(try await client.taskLogs(taskId: task.id, lines: 1).lines.count == 1)
            }
        }
        #expect(sawLines)
    }
}

@Suite struct TimeoutTests {
    @Test func slowAnswersTimeOutAndAreRetried() async throws {
        let fixture = try await SimulatorFixture.start(eventCount: 20, chaos: ChaosSettings(slowRate: 1, slowMillis: 1500))
        defer { Task { await fixture.simulator.stop() } }
        var configuration = try ClientConfiguration(baseURL: fixture.url, token: APIToken(fixture.simulator.adminToken))
        configuration.requestTimeout = 0.3
        configuration.retry = RetryPolicy(maxAttempts: 2, baseDelay: 0.01)
        let client = try CloudronClient(configuration: configuration)
        let error = try await #require(throws: ClientError.self) { try await client.eventPage(page: 1, perPage: 10) }
        guard case .retriesExhausted(2, .unreachable(_, let reason, true)) = error else { Issue.record("got \(error)"); return }
        #expect(reason.hasPrefix("timed out"))
    }
}

/// Pages through 5,000 events while the simulator misbehaves in one way, and still gets every event.
@Suite(.serialized) struct ChaosTests {
    static let modes: [(String, ChaosSettings)] = [
        ("5xx", ChaosSettings(serverErrorRate: 0.2)),
        ("429", ChaosSettings(tooManyRequestsRate: 0.1)),
        ("truncated", ChaosSettings(truncatedBodyRate: 0.2)),
        ("dropped", ChaosSettings(droppedConnectionRate: 0.2)),
        ("slow", ChaosSettings(slowRate: 0.3, slowMillis: 150)),
    ]

    @Test(arguments: 0..<5)
    func pagesThrough5000EventsUnderChaos(_ mode: Int) async throws {
        let (name, chaos) = Self.modes[mode]
        let fixture = try await SimulatorFixture.start(eventCount: 5000, seed: 11, chaos: chaos)
        defer { Task { await fixture.simulator.stop() } }
        let client = try fixture.client()
        let events = try await readAllEvents(client, perPage: 500)
        let truth = await fixture.simulator.truth()
        #expect(truth.events.count == 5000)
        expectMatchesTruth(events, truth)
        if name != "slow" { #expect(client.statistics().retries > 0, "chaos \(name) happened and was retried") }
    }
}
