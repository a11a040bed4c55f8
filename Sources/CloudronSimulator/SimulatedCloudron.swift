// The public face of the simulator: a Cloudron server on 127.0.0.1 that misbehaves as box does.

import Foundation
import FlyingFox
import FlyingSocks

/// A simulated Cloudron ("box") server for tests, benchmarks and the demo.
///
/// Serves the event log, notifications, tasks, task logs, profile and status with box's paging,
/// tie, upsert and pruning behaviour (see `shared/cloudron-api.md`). Control endpoints under
/// `/_sim/` (`truth`, `dynamics`, `faults`, `clock`, `prune`, `requests`) need no Cloudron token: the
/// server binds 127.0.0.1 only, so only local processes reach them.
public final class SimulatedCloudron: Sendable {
    private let core: SimulatorCore
    private let running = RunningServer()

    /// Builds the data (a million events take a few seconds in release builds).
    public init(configuration: SimulatorConfiguration) {
        core = SimulatorCore(configuration: configuration)
    }

    public var adminToken: String { core.adminToken }
    public var readonlyToken: String { core.readonlyToken }

    /// Starts serving on 127.0.0.1 (port 0 picks a free port) and returns `http://127.0.0.1:PORT`.
    public func start(port: UInt16 = 0) async throws -> String {
        let address = try sockaddr_in.inet(ip4: "127.0.0.1", port: port)
        let server = HTTPServer(config: .init(address: address, timeout: 60, logger: .disabled),
                                handler: SimulatorHTTPHandler(core: core))
        let task = Task { try await server.run() }
        do {
            // Generous: this only bounds a start that is really broken. The listener runs on the cooperative
            // pool; when a whole test run starts at once on a loaded 2-core machine, it waited minutes.
            try await server.waitUntilListening(timeout: 300)
        } catch {
            task.cancel()
            throw error
        }
        guard case .ip4(_, let boundPort)? = await server.listeningAddress else {
            await server.stop()
            throw SimulatorError.notListening
        }
        await running.set(server: server, task: task)
        return "http://127.0.0.1:\(boundPort)"
    }

    /// Stops listening and closes open connections.
    public func stop() async {
        guard let (server, task) = await running.take() else { return }
        await server.stop(timeout: 1)
        task.cancel()
    }

    /// Sets the per-object and per-endpoint failures in force (also `POST /_sim/faults`).
    public func setFaults(_ faults: SimulatorFaults) async {
        core.currentFaults = faults
    }

    /// Changes what moves and what fails, effective from the next request. Also `POST /_sim/dynamics`.
    public func setDynamics(_ dynamics: SimulatorDynamics) async {
        core.withState { $0.dynamics = dynamics }
    }

    /// The current dynamics.
    public func dynamics() async -> SimulatorDynamics {
        core.withState { $0.dynamics }
    }

    /// Current objects, every version ever held, pruned ids. Also `GET /_sim/truth`.
    public func truth() async -> SimulatorTruth {
        core.withState { $0.truth() }
    }

    /// A task's whole log exactly as `GET /api/v1/tasks/{id}/logs?format=json` serves it now, without
    /// faults (empty once rotated away); nil for a task this server does not have.
    public func taskLog(id: String) async -> [UInt8]? {
        core.withState { state in
            state.tasks.first { String($0.id) == id }.map { state.taskLog($0, lines: -1, json: true) }
        }
    }

    /// Requests received per endpoint template, e.g. `"/api/v1/eventlog"` or `"/api/v1/tasks/{id}"`
    /// (unknown paths count as `"other"`, controls by their path); a request with another method than GET
    /// or HEAD counts under its method, e.g. `"POST /api/v1/notifications/{id}"`. Also `GET /_sim/requests`.
    public func requestCounts() async -> [String: Int] {
        core.withState { $0.requestCounts }
    }

    /// Moves the simulated now (which starts at the real now and runs with it). Also
    /// `POST /_sim/clock?advance=SECONDS`.
    public func advanceClock(seconds: Int64) async {
        core.withState { $0.clockOffset += seconds }
    }

    /// The simulated now, Unix seconds.
    public func now() async -> Int64 {
        core.withState { $0.now }
    }

    /// Deletes an event behind box's back (an intruder editing its database); false for an unknown id.
    public func tamperDelete(eventId: String) async -> Bool {
        core.withState { $0.tamperDelete(eventId: eventId) }
    }

    /// Rewrites an event's `data` in place behind box's back (same id and time); false for an unknown id.
    public func tamperRewrite(eventId: String, data: [UInt8]) async -> Bool {
        core.withState { $0.tamperRewrite(eventId: eventId, data: data) }
    }

    /// Runs box's retention job now (whether or not `retentionPruning` is on). Also `POST /_sim/prune`.
    public func pruneNow() async {
        core.withState { _ = $0.prune() }
    }
}

public enum SimulatorError: Error, Sendable {
    case notListening
}

/// The running server, if any.
private actor RunningServer {
    private var server: HTTPServer?
    private var task: Task<Void, any Error>?

    func set(server: HTTPServer, task: Task<Void, any Error>) {
        self.server = server
        self.task = task
    }

    func take() -> (HTTPServer, Task<Void, any Error>)? {
        guard let server, let task else { return nil }
        self.server = nil
        self.task = nil
        return (server, task)
    }
}

/// Translates FlyingFox requests for the core and applies transport chaos to its answers.
struct SimulatorHTTPHandler: HTTPHandler {
    let core: SimulatorCore

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        var query: [String: String] = [:]
        for item in request.query where query[item.name] == nil { query[item.name] = item.value }
        let method = request.method.rawValue
        let body = method == "GET" ? Data() : try await request.bodyData

        if request.path == "/_sim" || request.path.hasPrefix("/_sim/") {
            return Self.httpResponse(core.control(method: method, path: request.path, query: query, body: body))
        }

        let (chaos, slowMillis) = core.drawChaos()
        if slowMillis > 0 { try? await Task.sleep(nanoseconds: UInt64(slowMillis) * 1_000_000) }
        switch chaos {
        case .drop:
            return HTTPResponse(webSocket: ConnectionDrop())
        case .serverError(let json):
            return Self.httpResponse(SimulatorCore.serverError(json: json))
        case .tooManyRequests:
            return Self.httpResponse(SimulatorCore.tooManyRequests)
        case .none, .truncate:
            break
        }
        let answer = core.respond(method: method, path: request.path, query: query,
                                  authorization: request.headers[HTTPHeader("Authorization")], body: body)
        if chaos == .truncate {
            let headers = Self.headers(for: answer)
            let cut = CutShortBody(bytes: Array(answer.body.prefix(answer.body.count / 2)))
            // The status is the real one (200 for every successful read); only the body is cut.
            return HTTPResponse(statusCode: HTTPStatusCode(answer.status, phrase: Self.phrase(answer.status)), headers: headers,
                                body: HTTPBodySequence(from: cut, count: max(answer.body.count, 1)))
        }
        return Self.httpResponse(answer)
    }

    private static func headers(for answer: SimulatedResponse) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers[.contentType] = answer.contentType
        // FlyingFox's keep-alive costs ~44 ms per request here (Nagle and delayed ACKs): one
        // connection per request is far faster.
        headers[.connection] = "close"
        for (name, value) in answer.headers { headers[HTTPHeader(name)] = value }
        return headers
    }

    static func httpResponse(_ answer: SimulatedResponse) -> HTTPResponse {
        let data = Data(answer.body)
        return HTTPResponse(statusCode: HTTPStatusCode(answer.status, phrase: phrase(answer.status)),
                            headers: headers(for: answer),
                            body: HTTPBodySequence(data: data, suggestedBufferSize: max(4096, data.count)))
    }

    private static func phrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        default: "Unknown"
        }
    }
}

/// Closes the connection before any byte of a response is written: FlyingFox writes a WebSocket
/// upgrade's header only after the handler made its frames, and a throw there closes the socket.
private struct ConnectionDrop: WSHandler {
    struct Dropped: Error {}
    func makeFrames(for client: AsyncThrowingStream<WSFrame, any Error>) async throws -> AsyncStream<WSFrame> {
        throw Dropped()
    }
}

/// A body that delivers its bytes and then fails, so the connection closes short of the promised
/// Content-Length.
private struct CutShortBody: AsyncBufferedSequence, Sendable {
    typealias Element = UInt8
    let bytes: [UInt8]

    func makeAsyncIterator() -> Iterator { Iterator(bytes: bytes) }

    struct Iterator: AsyncBufferedIteratorProtocol {
        struct ConnectionCut: Error {}
        var bytes: [UInt8]
        var offset = 0

        mutating func next() async throws -> UInt8? {
            guard offset < bytes.count else { throw ConnectionCut() }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func nextBuffer(suggested count: Int) async throws -> ArraySlice<UInt8>? {
            guard offset < bytes.count else { throw ConnectionCut() }
            let end = Swift.min(bytes.count, offset + Swift.max(1, count))
            defer { offset = end }
            return bytes[offset..<end]
        }
    }
}
