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

/// How one object is spoiled in every list answer that holds it (single-object answers stay intact).
public enum MalformedFault: String, Sendable, Codable, CaseIterable {
    /// The object without its `id` member.
    case missingID
    /// `creationTime` that is no time.
    case badCreationTime
    /// The object with an invalid member in front (a raw tab in a string that also holds an escaped
    /// quote and brackets, then the number `-01`): no JSON, yet every bracket and quote still pairs up, so
    /// the page around it stays well framed.
    case invalidJSON
    /// A JSON string in place of the object.
    case notAnObject

    /// The object's bytes as spoiled; `json` is served as `{"id":"…",…,"creationTime":"…",…}`.
    func spoil(_ json: [UInt8], id: String) -> [UInt8] {
        switch self {
        case .missingID:
            let prefix = Array("{\"id\":\"\(id)\",".utf8)
            return json.starts(with: prefix) ? Array("{".utf8) + json.dropFirst(prefix.count) : json
        case .badCreationTime:
            let key = Array("\"creationTime\":\"".utf8)
            guard let start = SimulatorFaults.range(of: key, in: json)?.upperBound,
                  let end = json[start...].firstIndex(of: UInt8(ascii: "\"")) else { return json }
            return Array(json[..<start]) + Array("yesterday".utf8) + Array(json[end...])
        case .invalidJSON:
            return Array("{\"note\":\"a \\\"]\\\" }\t\",\"size\":-01,".utf8) + json.dropFirst()
        case .notAnObject:
            return Array("\"object \(id) is not available\"".utf8)
        }
    }
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
    /// `stream:id` (`eventlog:<uuid>`, `notifications:12`, `tasks:7`) → how that object is spoiled in
    /// the list answers that hold it; `tasklogs:<task id>:<line index>` → how that line of the task's JSON
    /// log is spoiled (`invalidJSON`, `notAnObject`; the others leave a log line as it is).
    public var malformed: [String: MalformedFault]
    /// Streams whose list answers are complete (as long as their Content-Length) but no JSON: a server
    /// bug, not a network cut, so asking again gets the same bytes.
    public var unparsableLists: Set<String>

    public init(taskLogs: [String: TaskLogFault] = [:], missingStreams: Set<String> = [],
                forbiddenStreams: Set<String> = [], unauthorizedStreams: Set<String> = [],
                malformed: [String: MalformedFault] = [:], unparsableLists: Set<String> = []) {
        self.taskLogs = taskLogs
        self.missingStreams = missingStreams
        self.forbiddenStreams = forbiddenStreams
        self.unauthorizedStreams = unauthorizedStreams
        self.malformed = malformed
        self.unparsableLists = unparsableLists
    }

    /// The ids of one stream's objects to spoil.
    func malformedIDs(of stream: String) -> [String: MalformedFault] {
        var ids: [String: MalformedFault] = [:]
        for (key, fault) in malformed where key.hasPrefix(stream + ":") { ids[String(key.dropFirst(stream.count + 1))] = fault }
        return ids
    }

    /// A JSON task log (one object per line, each ending in a newline) with the lines `malformed` names
    /// for this task spoiled.
    func spoilTaskLog(_ body: [UInt8], taskId: String) -> [UInt8] {
        let faults = malformedIDs(of: "tasklogs").compactMap { key, fault -> (Int, MalformedFault)? in
            let parts = key.split(separator: ":")
            guard parts.count == 2, parts[0] == taskId, let line = Int(parts[1]) else { return nil }
            return (line, fault)
        }
        guard !faults.isEmpty else { return body }
        var lines = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        for (index, fault) in faults where index < lines.count - 1 { lines[index] = fault.spoil(lines[index], id: taskId) }
        return Array(lines.joined(separator: [UInt8(ascii: "\n")]))
    }

    /// `body` with each object of `originals` (id → bytes as served) spoiled as `faults` says.
    static func spoil(_ body: [UInt8], originals: [String: [UInt8]], faults: [String: MalformedFault]) -> [UInt8] {
        var body = body
        for (id, fault) in faults {
            guard let original = originals[id], let range = Self.range(of: original, in: body) else { continue }
            body.replaceSubrange(range, with: fault.spoil(original, id: id))
        }
        return body
    }

    static func range(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard !needle.isEmpty, needle.count <= haystack.count else { return nil }
        var start = 0
        while let first = haystack[start...].firstIndex(of: needle[0]), first + needle.count <= haystack.count {
            if haystack[first..<(first + needle.count)].elementsEqual(needle) { return first..<(first + needle.count) }
            start = first + 1
        }
        return nil
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
        if unparsableLists.contains(stream), let key = Self.listKey(of: template) {
            return .json(200, Array("{\"\(key)\":[{\"id\":\"1\",\"creationTime\":".utf8))
        }
        return nil
    }

    /// The member holding a list route's objects; nil for any other route.
    private static func listKey(of template: String) -> String? {
        switch template {
        case "/api/v1/eventlog", "/api/v1/cloudron/eventlog": return "eventlogs"
        case "/api/v1/notifications": return "notifications"
        case "/api/v1/tasks": return "tasks"
        default: return nil
        }
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
