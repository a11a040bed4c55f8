// fake-cloudron: a simulated Cloudron server on 127.0.0.1 for demos, scripts and benchmarks.

import ArgumentParser
import CloudronSimulator
import Foundation

@main
struct FakeCloudron: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-cloudron",
        abstract: "Serve a simulated Cloudron (box) API on 127.0.0.1 that misbehaves as the real server does.",
        discussion: """
        Prints three lines, then serves until SIGINT or SIGTERM:
          url: http://127.0.0.1:PORT
          admin-token: ...
          readonly-token: ...

        Controls need no token (the server binds 127.0.0.1 only):
          GET /_sim/truth            current objects, every version, pruned ids
          GET|POST /_sim/dynamics    read or set what moves and fails (JSON)
          GET|POST /_sim/faults      read or set failing task logs and missing or refused streams (JSON)
          GET /_sim/clock            the simulated now
          POST /_sim/clock?advance=SECONDS
          POST /_sim/prune           run the retention job now
          GET /_sim/requests         request counts per endpoint

        Examples:
          fake-cloudron --events 5000
          fake-cloudron --events 1000000 --port 8080
          fake-cloudron --new-events-per-request 3 --login-upserts 1 --prune
          fake-cloudron --chaos-5xx 0.15 --chaos-429 0.1 \\
                        --chaos-truncate 0.05 --chaos-drop 0.05
          fake-cloudron --events 500 --legacy-2019 --json-401
          curl -s "$URL/api/v1/eventlog?per_page=2" \\
               -H "Authorization: Bearer $TOKEN"
        """)

    @Option(help: "Initial events, spread over the last ~9 days.") var events: Int = 5000
    @Option(help: "Seed for the generated data.") var seed: UInt64 = 1
    @Option(help: "Port on 127.0.0.1 (0 picks a free one).") var port: UInt16 = 0
    @Option(help: "Admin (read-write) token.") var adminToken: String = SimulatorConfiguration().adminToken
    @Option(help: "Read-only token.") var readonlyToken: String = SimulatorConfiguration().readonlyToken
    @Flag(name: .customLong("legacy-2019"), help: "Imitate a 2019 server: /api/v1/cloudron/eventlog, wrapped single objects, errorMessage in tasks.")
    var legacy2019 = false
    @Flag(name: .customLong("json-401"), help: "Answer 401 with a JSON body (v9) instead of plain 'Unauthorized'.")
    var json401 = false
    @Option(help: "Silently clamp per_page to this maximum (box has none).") var maxPerPage: Int?
    @Option(help: "New events inserted before each event-list request.") var newEventsPerRequest: Int = 0
    @Option(help: "user.login rows upserted (same id, moved to the top) before each event-list request.")
    var loginUpserts: Int = 0
    @Flag(help: "Delete events older than --retention-days (and linked notifications) on each list request.")
    var prune = false
    @Option(help: "Retention in days.") var retentionDays: Int = 10
    @Flag(help: "Rewrite alert notifications in place on each notification-list request.") var alertRewrites = false
    @Flag(help: "Toggle one notification's acknowledged flag on each notification-list request.") var ackToggles = false
    @Flag(help: "Advance running tasks on each task request.") var taskProgress = false
    @Option(name: .customLong("chaos-5xx"), help: "Probability of a 500 (JSON) or 502 (HTML) answer.") var chaos5xx: Double = 0
    @Option(name: .customLong("chaos-429"), help: "Probability of a 429 with Retry-After: 1.") var chaos429: Double = 0
    @Option(name: .customLong("chaos-slow"), help: "Probability of a delayed answer.") var chaosSlow: Double = 0
    @Option(name: .customLong("chaos-slow-ms"), help: "Delay of a slow answer in milliseconds.") var chaosSlowMs: Int = 200
    @Option(name: .customLong("chaos-truncate"), help: "Probability of a body cut short of its Content-Length.")
    var chaosTruncate: Double = 0
    @Option(name: .customLong("chaos-drop"), help: "Probability of a connection closed with no response.")
    var chaosDrop: Double = 0

    func validate() throws {
        guard events >= 0 else { throw ValidationError("--events must be 0 or more") }
        for (name, rate) in [("5xx", chaos5xx), ("429", chaos429), ("slow", chaosSlow), ("truncate", chaosTruncate), ("drop", chaosDrop)]
        where !(0...1).contains(rate) {
            throw ValidationError("--chaos-\(name) must be between 0 and 1")
        }
    }

    func run() async throws {
        // A parent that spawns us from a Dispatch thread passes on its blocked signal mask, SIGTERM
        // included; unblock the signals that must end the server.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &signals, nil)
        let chaos = ChaosSettings(serverErrorRate: chaos5xx, tooManyRequestsRate: chaos429, slowRate: chaosSlow,
                                  slowMillis: chaosSlowMs, truncatedBodyRate: chaosTruncate, droppedConnectionRate: chaosDrop)
        let dynamics = SimulatorDynamics(newEventsPerListRequest: newEventsPerRequest, loginUpsertsPerListRequest: loginUpserts,
                                         retentionPruning: prune, retentionDays: retentionDays, alertRewrites: alertRewrites,
                                         ackToggles: ackToggles, taskProgress: taskProgress, chaos: chaos)
        let configuration = SimulatorConfiguration(seed: seed, eventCount: events, adminToken: adminToken,
                                                   readonlyToken: readonlyToken, legacy2019: legacy2019,
                                                   jsonUnauthorizedBody: json401, maxPerPage: maxPerPage, dynamics: dynamics)
        let server = SimulatedCloudron(configuration: configuration)
        let url = try await server.start(port: port)
        // Written unbuffered: scripts read these lines from a pipe while the server keeps running.
        let banner = "url: \(url)\nadmin-token: \(server.adminToken)\nreadonly-token: \(server.readonlyToken)\n"
        FileHandle.standardOutput.write(Data(banner.utf8))
        // Serve until a signal ends the process (the default SIGINT/SIGTERM action).
        while true { try await Task.sleep(nanoseconds: 3_600_000_000_000) }
    }
}
