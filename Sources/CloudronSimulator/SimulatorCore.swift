// Routing, auth and error bodies exactly as box answers them, over a lock-guarded ServerState.
// Independent of any HTTP library: the FlyingFox handler only translates.

import Foundation

/// A finished answer, before transport-level chaos.
struct SimulatedResponse: Sendable {
    var status: Int
    var contentType: String
    var body: [UInt8]
    var headers: [(String, String)] = []

    static func json(_ status: Int, _ body: [UInt8]) -> SimulatedResponse {
        SimulatedResponse(status: status, contentType: "application/json; charset=utf-8", body: body)
    }

    /// Box's error body: `{"status":"Not Found","message":"…"}`.
    static func error(_ status: Int, _ phrase: String, _ message: String) -> SimulatedResponse {
        var j = JSONText()
        j.raw("{"); j.field("status", phrase, first: true); j.field("message", message); j.raw("}")
        return json(status, j.bytes)
    }
}

/// The transport trouble drawn for one request.
enum ChaosOutcome: Sendable, Equatable {
    case none, drop, truncate, serverError(json: Bool), tooManyRequests
}

/// The simulator's state behind a lock. Requests hold the lock only while reading or changing
/// state (microseconds to milliseconds), never across I/O or sleeps.
final class SimulatorCore: @unchecked Sendable {
    private let lock = NSLock()
    private var state: ServerState
    private var faults: SimulatorFaults
    let adminToken: String
    let readonlyToken: String
    let jsonUnauthorizedBody: Bool
    let legacy2019: Bool

    init(configuration: SimulatorConfiguration) {
        state = ServerState(configuration: configuration)
        faults = configuration.faults
        adminToken = configuration.adminToken
        readonlyToken = configuration.readonlyToken
        jsonUnauthorizedBody = configuration.jsonUnauthorizedBody
        legacy2019 = configuration.legacy2019
    }

    func withState<T>(_ body: (inout ServerState) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&state)
    }

    var currentFaults: SimulatorFaults {
        get { lock.lock(); defer { lock.unlock() }; return faults }
        set { lock.lock(); defer { lock.unlock() }; faults = newValue }
    }

    // MARK: - Chaos

    /// Draws at most one failure for a request, and whether it is slowed.
    func drawChaos() -> (outcome: ChaosOutcome, slowMillis: Int) {
        withState { s in
            let chaos = s.dynamics.chaos
            let slow = s.requestRandom.chance(chaos.slowRate) ? chaos.slowMillis : 0
            if s.requestRandom.chance(chaos.droppedConnectionRate) { return (.drop, slow) }
            if s.requestRandom.chance(chaos.truncatedBodyRate) { return (.truncate, slow) }
            if s.requestRandom.chance(chaos.serverErrorRate) { return (.serverError(json: s.requestRandom.chance(0.5)), slow) }
            if s.requestRandom.chance(chaos.tooManyRequestsRate) { return (.tooManyRequests, slow) }
            return (.none, slow)
        }
    }

    static func serverError(json: Bool) -> SimulatedResponse {
        if json { return .error(500, "Internal Server Error", "Internal error, please try again") }
        let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        return SimulatedResponse(status: 502, contentType: "text/html", body: Array(html.utf8))
    }

    static var tooManyRequests: SimulatedResponse {
        var r = SimulatedResponse.error(429, "Too Many Requests", "Too many requests, slow down")
        r.headers.append(("Retry-After", "1"))
        return r
    }

    // MARK: - API

    private enum Access { case admin, readonly }

    /// Answers one `/api/…` request.
    func respond(method: String, path rawPath: String, query: [String: String], authorization: String?,
                 body: Data) -> SimulatedResponse {
        // A write is counted under its method ("POST /api/v1/…"): tests check that the archiver sends none.
        let count = { (template: String) in self.count(method == "GET" || method == "HEAD" ? template : "\(method) \(template)") }
        var path = rawPath
        if path.count > 1, path.hasSuffix("/") { path.removeLast() }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // parts[0] == "" for a leading slash.
        guard parts.count >= 4, parts[0] == "", parts[1] == "api", parts[2] == "v1" else {
            count("other")
            return .error(404, "Not Found", "No such route")
        }
        let rest = Array(parts[3...])

        if rest == ["cloudron", "status"] {
            count("/api/v1/cloudron/status")
            guard method == "GET" else { return .error(404, "Not Found", "No such route") }
            return .json(200, Array(statusBody.utf8))
        }

        // Match a route template first; unknown paths are 404 without looking at the token.
        let template: String
        switch (rest.count, rest.first) {
        case (1, "eventlog") where !legacy2019: template = "/api/v1/eventlog"
        case (2, "eventlog") where !legacy2019: template = "/api/v1/eventlog/{id}"
        case (2, "cloudron") where legacy2019 && rest[1] == "eventlog": template = "/api/v1/cloudron/eventlog"
        case (3, "cloudron") where legacy2019 && rest[1] == "eventlog": template = "/api/v1/cloudron/eventlog/{id}"
        case (1, "notifications"): template = "/api/v1/notifications"
        case (2, "notifications"): template = "/api/v1/notifications/{id}"
        case (1, "tasks"): template = "/api/v1/tasks"
        case (2, "tasks"): template = "/api/v1/tasks/{id}"
        case (3, "tasks") where rest[2] == "logs": template = "/api/v1/tasks/{id}/logs"
        case (1, "profile"): template = "/api/v1/profile"
        default:
            count("other")
            return .error(404, "Not Found", "No such route")
        }
        count(template)

        let token = bearerToken(authorization) ?? query["access_token"]
        let access: Access
        switch token {
        case adminToken?: access = .admin
        case readonlyToken?: access = .readonly
        default:
            if jsonUnauthorizedBody { return .error(401, "Unauthorized", "No such token") }
            return SimulatedResponse(status: 401, contentType: "text/plain; charset=utf-8", body: Array("Unauthorized".utf8))
        }
        let faults = currentFaults
        if let answer = faults.override(template: template) { return answer }
        if template == "/api/v1/tasks/{id}/logs", let fault = faults.taskLogs[rest[1]] {
            return SimulatorFaults.taskLog(fault, taskId: rest[1])
        }
        if method != "GET" && method != "HEAD" {
            guard access == .admin else { return .error(403, "Forbidden", "Token has read-only scope") }
            if method == "POST", template == "/api/v1/notifications/{id}" {
                return acknowledge(id: rest[1], body: body)
            }
            return .error(404, "Not Found", "No such route")
        }

        switch template {
        case "/api/v1/eventlog", "/api/v1/cloudron/eventlog", "/api/v1/notifications", "/api/v1/tasks"
            where !faults.malformed.isEmpty:
            let answer = template == "/api/v1/notifications" ? listNotifications(query)
                : template == "/api/v1/tasks" ? listTasks(query) : listEvents(query)
            guard answer.status == 200 else { return answer }
            guard let stream = SimulatorFaults.stream(of: template) else { return answer }
            let spoiled = faults.malformedIDs(of: stream)
            let originals: [String: [UInt8]] = withState { s in
                var found: [String: [UInt8]] = [:]
                for id in spoiled.keys {
                    switch stream {
                    case "notifications": found[id] = s.notifications.first(where: { String($0.id) == id })?.json
                    case "tasks": found[id] = s.tasks.first(where: { String($0.id) == id })?.json
                    default: found[id] = s.events.last(where: { $0.id == id })?.json
                    }
                }
                return found
            }
            return .json(200, SimulatorFaults.spoil(answer.body, originals: originals, faults: spoiled))
        case "/api/v1/eventlog", "/api/v1/cloudron/eventlog": return listEvents(query)
        case "/api/v1/eventlog/{id}": return event(id: rest[1])
        case "/api/v1/cloudron/eventlog/{id}": return event(id: rest[2])
        case "/api/v1/notifications": return listNotifications(query)
        case "/api/v1/notifications/{id}": return notification(id: rest[1])
        case "/api/v1/tasks": return listTasks(query)
        case "/api/v1/tasks/{id}": return task(id: rest[1])
        case "/api/v1/tasks/{id}/logs": return taskLogs(id: rest[1], query: query)
        default: return withState { s in .json(200, s.cast.admin.json) }
        }
    }

    private var statusBody: String {
        legacy2019
            ? "{\"version\":\"4.3.6\",\"apiServerOrigin\":\"https://api.cloudron.io\",\"webServerOrigin\":\"https://cloudron.io\",\"provider\":\"generic\",\"cloudronName\":\"Smith, \\\"Family\\\" Cloud\",\"footer\":\"\",\"features\":{}}"
            : "{\"version\":\"9.0.15\"}"
    }

    private func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
    }

    private func count(_ template: String) {
        withState { $0.requestCounts[template, default: 0] += 1 }
    }

    private func listEvents(_ query: [String: String]) -> SimulatedResponse {
        withState { s in
            switch ServerState.pageParameters(query, maxPerPage: s.maxPerPage) {
            case .failure(let error): return Self.response(for: error)
            case .success(let paging):
                s.beforeEventList()
                let actions = (query["actions"] ?? "").split(separator: ",")
                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                let search = query["search"]
                return .json(200, s.eventPage(page: paging.page, perPage: paging.perPage, actions: actions, search: search))
            }
        }
    }

    private func event(id: String) -> SimulatedResponse {
        withState { s in
            guard let record = s.events.last(where: { $0.id == id }) else {
                return .error(404, "Not Found", "no such eventlog")
            }
            return .json(200, legacy2019 ? Self.wrap("event", record.json) : record.json)
        }
    }

    private func listNotifications(_ query: [String: String]) -> SimulatedResponse {
        withState { s in
            switch ServerState.pageParameters(query, maxPerPage: s.maxPerPage) {
            case .failure(let error): return Self.response(for: error)
            case .success(let paging):
                var acknowledged: Bool?
                if let text = query["acknowledged"] {
                    guard text == "true" || text == "false" else {
                        return .error(400, "Bad Request", "acknowledged must be a true or false")
                    }
                    acknowledged = text == "true"
                }
                s.beforeNotificationList()
                return .json(200, s.notificationPage(page: paging.page, perPage: paging.perPage, acknowledged: acknowledged))
            }
        }
    }

    private func notification(id: String) -> SimulatedResponse {
        withState { s in
            guard let note = s.notifications.first(where: { String($0.id) == id }) else {
                return .error(404, "Not Found", "No such notification")
            }
            return .json(200, legacy2019 ? Self.wrap("notification", note.json) : note.json)
        }
    }

    private func acknowledge(id: String, body: Data) -> SimulatedResponse {
        struct Acknowledge: Decodable { let acknowledged: Bool }
        guard let request = try? JSONDecoder().decode(Acknowledge.self, from: body) else {
            return .error(400, "Bad Request", "acknowledged must be a boolean")
        }
        return withState { s in
            guard let numeric = Int(id), s.setAcknowledged(id: numeric, request.acknowledged) else {
                return .error(404, "Not Found", "No such notification")
            }
            return SimulatedResponse(status: 204, contentType: "application/json; charset=utf-8", body: [])
        }
    }

    private func listTasks(_ query: [String: String]) -> SimulatedResponse {
        withState { s in
            switch ServerState.pageParameters(query, maxPerPage: s.maxPerPage) {
            case .failure(let error): return Self.response(for: error)
            case .success(let paging):
                s.beforeTaskRequest()
                return .json(200, s.taskPage(page: paging.page, perPage: paging.perPage, type: query["type"]))
            }
        }
    }

    private func task(id: String) -> SimulatedResponse {
        withState { s in
            s.beforeTaskRequest()
            guard let task = s.tasks.first(where: { String($0.id) == id }) else {
                return .error(404, "Not Found", "No such task")
            }
            return .json(200, task.json)
        }
    }

    private func taskLogs(id: String, query: [String: String]) -> SimulatedResponse {
        var lines = 10
        if let text = query["lines"] {
            guard let value = ServerState.parseInt(text) else { return .error(400, "Bad Request", "lines must be a number") }
            lines = value
        }
        let format = query["format"] ?? "json"
        guard format == "json" || format == "short" else { return .error(400, "Bad Request", "format must be json or short") }
        let faults = currentFaults
        return withState { s in
            guard let task = s.tasks.first(where: { String($0.id) == id }) else {
                return .error(404, "Not Found", "No such task")
            }
            let log = s.taskLog(task, lines: lines, json: format == "json")
            return SimulatedResponse(status: 200, contentType: "application/x-logs",
                                     body: format == "json" ? faults.spoilTaskLog(log, taskId: id) : log)
        }
    }

    static func wrap(_ key: String, _ json: [UInt8]) -> [UInt8] {
        Array("{\"\(key)\":".utf8) + json + [UInt8(ascii: "}")]
    }

    static func response(for error: RequestError) -> SimulatedResponse {
        switch error {
        case .badRequest(let message): return .error(400, "Bad Request", message)
        case .notFound(let message): return .error(404, "Not Found", message)
        }
    }

    // MARK: - Control endpoints (/_sim/…)

    /// The simulator's own controls. They need no Cloudron token: the server binds 127.0.0.1 only.
    func control(method: String, path: String, query: [String: String], body: Data) -> SimulatedResponse {
        withState { $0.requestCounts[path, default: 0] += 1 }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func encoded<T: Encodable>(_ value: T) -> SimulatedResponse {
            guard let data = try? encoder.encode(value) else { return .error(500, "Internal Server Error", "encoding failed") }
            return .json(200, Array(data))
        }
        switch (method, path) {
        case ("GET", "/_sim/truth"):
            return encoded(withState { $0.truth() })
        case ("GET", "/_sim/dynamics"):
            return encoded(withState { $0.dynamics })
        case ("POST", "/_sim/dynamics"):
            guard let dynamics = try? JSONDecoder().decode(SimulatorDynamics.self, from: body) else {
                return .error(400, "Bad Request", "body must be a SimulatorDynamics JSON object")
            }
            withState { $0.dynamics = dynamics }
            return encoded(dynamics)
        case ("GET", "/_sim/clock"):
            let now: Int64 = withState { $0.now }
            return encoded(["now": now])
        case ("POST", "/_sim/clock"):
            struct Advance: Decodable { let advanceSeconds: Int64 }
            let seconds = query["advance"].flatMap { Int64($0) }
                ?? (try? JSONDecoder().decode(Advance.self, from: body))?.advanceSeconds
            guard let seconds else { return .error(400, "Bad Request", "give ?advance=SECONDS or {\"advanceSeconds\":N}") }
            let now: Int64 = withState { s in s.clockOffset += seconds; return s.now }
            return encoded(["now": now])
        case ("POST", "/_sim/prune"):
            let pruned: Int = withState { $0.prune() }
            return encoded(["pruned": pruned])
        case ("GET", "/_sim/faults"):
            return encoded(currentFaults)
        case ("POST", "/_sim/faults"):
            guard let faults = try? JSONDecoder().decode(SimulatorFaults.self, from: body) else {
                return .error(400, "Bad Request", "body must be a SimulatorFaults JSON object")
            }
            currentFaults = faults
            return encoded(faults)
        case ("GET", "/_sim/requests"):
            return encoded(withState { $0.requestCounts })
        default:
            return .error(404, "Not Found", "No such simulator control")
        }
    }
}
