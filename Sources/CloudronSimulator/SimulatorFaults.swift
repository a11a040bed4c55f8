// Failures a real server gives for one object or one endpoint while everything else works
// (cloudron-api.md, "What follows for the archiver"). None by default; a test sets exactly the ones it
// wants to meet, and clears them to play a server that recovered.

/// How one task's log answers.
public enum TaskLogFault: String, Sendable, Codable, CaseIterable {
    /// 424 Failed Dependency, as in box's API reference.
    case failedDependency
    /// 500, as box 2019 answers any error reading the log file.
    case internalError
    /// A log larger than any client's response cap (65 MiB of lines).
    case oversized
    /// Box aborts a request after about 10 s (its connect-timeout middleware answers 503
    /// "Response timeout"); answered at once here, so tests do not wait.
    case timedOut
}

/// The per-object and per-endpoint failures currently in force.
public struct SimulatorFaults: Sendable, Codable, Equatable {
    /// Task id → how that task's log answers.
    public var taskLogs: [String: TaskLogFault]
    /// Streams (`eventlog`, `notifications`, `tasks`) whose list and object routes the server does not
    /// have: 404 as for any unknown route (servers before late 2018 have no notifications or tasks).
    public var missingStreams: Set<String>
    /// Streams refused to every token with 403 `Missing required scope`.
    public var forbiddenStreams: Set<String>
    /// Streams answered with 401 `No such token` (box 9 does so on some admin endpoints to a token
    /// that works elsewhere).
    public var unauthorizedStreams: Set<String>

    public init(taskLogs: [String: TaskLogFault] = [:], missingStreams: Set<String> = [],
                forbiddenStreams: Set<String> = [], unauthorizedStreams: Set<String> = []) {
        self.taskLogs = taskLogs
        self.missingStreams = missingStreams
        self.forbiddenStreams = forbiddenStreams
        self.unauthorizedStreams = unauthorizedStreams
    }

    public static let none = SimulatorFaults()

    /// The stream a route template belongs to, for the stream switches.
    static func stream(of template: String) -> String? {
        if template.contains("eventlog") { return "eventlog" }
        if template.hasPrefix("/api/v1/notifications") { return "notifications" }
        if template.hasPrefix("/api/v1/tasks") { return "tasks" }
        return nil
    }

    /// The answer that replaces a route's own, if a fault is set for it.
    func override(template: String) -> SimulatedResponse? {
        guard let stream = Self.stream(of: template) else { return nil }
        if missingStreams.contains(stream) { return .error(404, "Not Found", "No such route") }
        if unauthorizedStreams.contains(stream) { return .error(401, "Unauthorized", "No such token") }
        if forbiddenStreams.contains(stream) { return .error(403, "Forbidden", "Missing required scope") }
        return nil
    }

    /// The answer of a task's log under `fault`.
    static func taskLog(_ fault: TaskLogFault, taskId: String) -> SimulatedResponse {
        switch fault {
        case .failedDependency: return .error(424, "Failed Dependency", "Log file not available")
        case .internalError: return .error(500, "Internal Server Error", "Error reading log file")
        case .timedOut: return .error(503, "Service Unavailable", "Response timeout")
        case .oversized:
            let line = Array("{\"realtimeTimestamp\":1796000000000000,\"message\":\"\(String(repeating: "x", count: 960))\",\"source\":\"\(taskId)\"}\n".utf8)
            var body: [UInt8] = []
            body.reserveCapacity((65 << 20) + line.count)
            while body.count <= 65 << 20 { body += line }
            return SimulatedResponse(status: 200, contentType: "application/x-logs", body: body)
        }
    }
}
