// What a simulated Cloudron serves and how it misbehaves. Everything that moves is off by default,
// so a test opts into exactly the trouble it wants to meet.

import Foundation

/// How the simulated server is built: its data (deterministic from `seed`), its tokens, and the
/// server generation it imitates.
public struct SimulatorConfiguration: Sendable {
    /// Seeds every generated object: the same seed gives the same events, notifications and tasks.
    public var seed: UInt64
    /// Initial events, spread over the last ~9 days before the simulated now (inside the 10-day retention).
    public var eventCount: Int
    /// Read-write token.
    public var adminToken: String
    /// Read-only token: GET only, any POST gets 403.
    public var readonlyToken: String
    /// 2017–2019 server: the event log only at `/api/v1/cloudron/eventlog`, single objects wrapped as
    /// `{"event":…}` / `{"notification":…}`, tasks with `errorMessage` and no `success`/`pending`.
    public var legacy2019: Bool
    /// v9 answers a bad token with JSON `{"status":"Unauthorized","message":"No such token"}`; older
    /// servers (and the default here) with the plain text `Unauthorized`.
    public var jsonUnauthorizedBody: Bool
    /// Box has no maximum page size (nil). When set, larger `per_page` values are silently clamped to
    /// it, so a client that takes a short page for the end is caught out.
    public var maxPerPage: Int?
    /// What changes while a client pages.
    public var dynamics: SimulatorDynamics
    /// Objects and endpoints that fail while the rest works.
    public var faults = SimulatorFaults.none
    /// Where the simulated now comes from (the wall clock unless a test fixes it).
    public var clock: SimulatorClock

    public init(seed: UInt64 = 1,
                eventCount: Int = 5000,
                adminToken: String = "sim-admin-token-0123456789abcdef",
                readonlyToken: String = "sim-readonly-token-fedcba9876543210",
                legacy2019: Bool = false,
                jsonUnauthorizedBody: Bool = false,
                maxPerPage: Int? = nil,
                dynamics: SimulatorDynamics = .quiet,
                clock: SimulatorClock = .wall) {
        self.seed = seed
        self.eventCount = max(0, eventCount)
        self.adminToken = adminToken
        self.readonlyToken = readonlyToken
        self.legacy2019 = legacy2019
        self.jsonUnauthorizedBody = jsonUnauthorizedBody
        self.maxPerPage = maxPerPage
        self.dynamics = dynamics
        self.clock = clock
    }
}

/// The simulated server's clock. `.wall` runs with real time, as a server does; `.fixed` stands still
/// except when a test advances it (`advanceClock`, `POST /_sim/clock`), so a test's expected times are
/// exact and a run cannot straddle UTC midnight (box's login upsert keys on the day).
public enum SimulatorClock: Sendable, Equatable {
    case wall
    /// Unix seconds.
    case fixed(epochSeconds: Int64)

    var now: Int64 {
        switch self {
        case .wall: Int64(Date().timeIntervalSince1970.rounded(.down))
        case .fixed(let epochSeconds): epochSeconds
        }
    }
}

/// The things that move under a running sync (cloudron-api.md, "Things that move"). Each is off in `.quiet`.
/// Decoding accepts any subset of the keys (missing ones keep their `.quiet` value), so
/// `POST /_sim/dynamics {"newEventsPerListRequest":3}` works.
public struct SimulatorDynamics: Sendable, Codable, Equatable {
    /// New events inserted at the top before each event-list request is answered.
    public var newEventsPerListRequest: Int
    /// `user.login` rows upserted in place (same id, creationTime = now, new data) before each
    /// event-list request, as box does for a repeated login on the same day.
    public var loginUpsertsPerListRequest: Int
    /// Deletes events older than `retentionDays` (and their notifications) on every list request.
    public var retentionPruning: Bool
    /// Box's retention: 10 days.
    public var retentionDays: Int
    /// Alert notifications (`eventId: null`) rewritten in place: new creationTime and message,
    /// `acknowledged` reset. One per notification-list request.
    public var alertRewrites: Bool
    /// One notification's `acknowledged` flipped per notification-list request.
    public var ackToggles: Bool
    /// Running tasks advance (percent, message, ts) on every task request, then finish with
    /// success + result or with an error.
    public var taskProgress: Bool
    /// Transport-level trouble.
    public var chaos: ChaosSettings

    public init(newEventsPerListRequest: Int = 0,
                loginUpsertsPerListRequest: Int = 0,
                retentionPruning: Bool = false,
                retentionDays: Int = 10,
                alertRewrites: Bool = false,
                ackToggles: Bool = false,
                taskProgress: Bool = false,
                chaos: ChaosSettings = .none) {
        self.newEventsPerListRequest = max(0, newEventsPerListRequest)
        self.loginUpsertsPerListRequest = max(0, loginUpsertsPerListRequest)
        self.retentionPruning = retentionPruning
        self.retentionDays = retentionDays
        self.alertRewrites = alertRewrites
        self.ackToggles = ackToggles
        self.taskProgress = taskProgress
        self.chaos = chaos
    }

    /// Nothing moves, nothing fails.
    public static let quiet = SimulatorDynamics()

    private enum CodingKeys: String, CodingKey {
        case newEventsPerListRequest, loginUpsertsPerListRequest, retentionPruning, retentionDays
        case alertRewrites, ackToggles, taskProgress, chaos
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let q = SimulatorDynamics.quiet
        self.init(
            newEventsPerListRequest: try c.decodeIfPresent(Int.self, forKey: .newEventsPerListRequest) ?? q.newEventsPerListRequest,
            loginUpsertsPerListRequest: try c.decodeIfPresent(Int.self, forKey: .loginUpsertsPerListRequest) ?? q.loginUpsertsPerListRequest,
            retentionPruning: try c.decodeIfPresent(Bool.self, forKey: .retentionPruning) ?? q.retentionPruning,
            retentionDays: try c.decodeIfPresent(Int.self, forKey: .retentionDays) ?? q.retentionDays,
            alertRewrites: try c.decodeIfPresent(Bool.self, forKey: .alertRewrites) ?? q.alertRewrites,
            ackToggles: try c.decodeIfPresent(Bool.self, forKey: .ackToggles) ?? q.ackToggles,
            taskProgress: try c.decodeIfPresent(Bool.self, forKey: .taskProgress) ?? q.taskProgress,
            chaos: try c.decodeIfPresent(ChaosSettings.self, forKey: .chaos) ?? q.chaos)
    }
}

/// Per-request probabilities (0...1) of transport trouble on `/api/…` requests (never on `/_sim/…`).
/// At most one failure is drawn per request, in the order drop, truncate, 5xx, 429; `slowRate` adds
/// `slowMillis` of delay independently.
public struct ChaosSettings: Sendable, Codable, Equatable {
    /// 5xx answers: half JSON `{"status":"Internal Server Error",…}` 500s, half nginx-style HTML 502s.
    public var serverErrorRate: Double
    /// 429 with `Retry-After: 1`.
    public var tooManyRequestsRate: Double
    /// Answers delayed by `slowMillis`.
    public var slowRate: Double
    public var slowMillis: Int
    /// Status 200 and a Content-Length for the whole body, but only part of it is sent before the close.
    public var truncatedBodyRate: Double
    /// The connection is closed without any response.
    public var droppedConnectionRate: Double

    public init(serverErrorRate: Double = 0, tooManyRequestsRate: Double = 0, slowRate: Double = 0,
                slowMillis: Int = 200, truncatedBodyRate: Double = 0, droppedConnectionRate: Double = 0) {
        self.serverErrorRate = serverErrorRate
        self.tooManyRequestsRate = tooManyRequestsRate
        self.slowRate = slowRate
        self.slowMillis = max(0, slowMillis)
        self.truncatedBodyRate = truncatedBodyRate
        self.droppedConnectionRate = droppedConnectionRate
    }

    public static let none = ChaosSettings()

    private enum CodingKeys: String, CodingKey {
        case serverErrorRate, tooManyRequestsRate, slowRate, slowMillis, truncatedBodyRate, droppedConnectionRate
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            serverErrorRate: try c.decodeIfPresent(Double.self, forKey: .serverErrorRate) ?? 0,
            tooManyRequestsRate: try c.decodeIfPresent(Double.self, forKey: .tooManyRequestsRate) ?? 0,
            slowRate: try c.decodeIfPresent(Double.self, forKey: .slowRate) ?? 0,
            slowMillis: try c.decodeIfPresent(Int.self, forKey: .slowMillis) ?? 200,
            truncatedBodyRate: try c.decodeIfPresent(Double.self, forKey: .truncatedBodyRate) ?? 0,
            droppedConnectionRate: try c.decodeIfPresent(Double.self, forKey: .droppedConnectionRate) ?? 0)
    }
}
