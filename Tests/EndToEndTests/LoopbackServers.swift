#if canImport(Glibc)
import Glibc
#endif
import CloudronSimulator
import Foundation
import TestSupport

/// What a `CannedServer` sends back for one request.
enum CannedAnswer: Sendable {
    /// A whole HTTP response (status line, headers, body).
    case bytes([UInt8])
    /// A response head, then `chunk` repeated until `total` body bytes are sent or the client hangs up.
    case stream(head: [UInt8], chunk: [UInt8], total: Int)

    /// A response with `Content-Length` and `Connection: close`.
    static func http(_ status: String, headers: [String] = [], body: String) -> CannedAnswer {
        http(status, headers: headers, body: Array(body.utf8))
    }

    static func http(_ status: String, headers: [String] = [], body: [UInt8]) -> CannedAnswer {
        var head = "HTTP/1.1 \(status)\r\nConnection: close\r\n"
        for header in headers { head += header + "\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        return .bytes(Array(head.utf8) + body)
    }

    static func json(_ body: String, status: String = "200 OK") -> CannedAnswer {
        http(status, headers: ["Content-Type: application/json; charset=utf-8"], body: body)
    }
}

/// A real HTTP server on 127.0.0.1 for the answers the Cloudron simulator never gives (HTML pages,
/// wrong shapes, redirects, huge bodies, other protocols). `answer` gets each request's head and picks
/// the response; every request head is recorded. One connection at a time, closed after each answer.
final class CannedServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let answer: @Sendable (String) -> CannedAnswer
    private let lock = NSLock()
    private var heads: [String] = []
    private var stopped = false

    var url: String { "http://127.0.0.1:\(port)" }
    /// Every request head received so far.
    var requests: [String] { lock.withLock { heads } }

    init(answer: @escaping @Sendable (String) -> CannedAnswer) throws {
        self.answer = answer
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw TestFailure("bind/listen failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        listener = fd
        Thread { [self] in serve() }.start()
    }

    /// A server that answers every request the same way.
    convenience init(always answer: CannedAnswer) throws {
        try self.init(answer: { _ in answer })
    }

    private func serve() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if lock.withLock({ stopped }) { return }
                continue
            }
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while !received.suffix(4).elementsEqual([13, 10, 13, 10]) {
                let n = read(client, &chunk, chunk.count)
                if n <= 0 { break }
                received.append(contentsOf: chunk[0..<n])
            }
            let head = String(decoding: received, as: UTF8.self)
            lock.withLock { heads.append(head) }
            switch answer(head) {
            case .bytes(let bytes):
                _ = Self.send(client, bytes[...])
            case .stream(let responseHead, let piece, let total):
                if Self.send(client, responseHead[...]) {
                    var sent = 0
                    while sent < total, Self.send(client, piece.prefix(total - sent)) { sent += piece.count }
                }
            }
            shutdown(client, Int32(SHUT_WR))
            close(client)
        }
    }

    /// Writes all of `bytes`; false when the client has gone. MSG_NOSIGNAL: a client that hangs up
    /// must not kill the test process with SIGPIPE.
    private static func send(_ socket: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let n = bytes[offset...].withUnsafeBufferPointer { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// Ends the accept loop (shutdown wakes a blocked accept on Linux). Idempotent.
    func stop() {
        let wasStopped = lock.withLock { () -> Bool in
            defer { stopped = true }
            return stopped
        }
        guard !wasStopped else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// A loopback port where nothing listens, held for the rest of the test process (see `HeldPort`).
    static func closedPort() throws -> UInt16 {
        let held = try HeldPort()
        HeldPort.keepForever(held)
        return held.port
    }

    static func accepts(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}

/// A Cloudron-looking canned server: `/api/v1/cloudron/status` and the notification and task lists
/// answer like a healthy empty server (or with `lists` when given), so a scenario can break exactly one
/// thing (the event log).
enum CloudronShapes {
    static func answer(eventLog: CannedAnswer, lists: CannedAnswer? = nil) -> @Sendable (String) -> CannedAnswer {
        { head in
            let path = head.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
            if path.hasPrefix("/api/v1/cloudron/status") { return .json(#"{"version":"9.0.15"}"#) }
            if path.hasPrefix("/api/v1/notifications") { return lists ?? .json(#"{"notifications":[]}"#) }
            if path.hasPrefix("/api/v1/tasks") { return lists ?? .json(#"{"tasks":[]}"#) }
            return eventLog
        }
    }
}

/// `openssl s_server` on loopback with a throwaway self-signed certificate for 127.0.0.1. With `-www`
/// it answers any request with an HTML status page: enough to tell "TLS failed" from "TLS passed".
final class SelfSignedTLSServer {
    static let openssl = "/usr/bin/openssl"

    let folder: ScratchFolder
    let port: UInt16
    private let process = Process()
    var certificate: String { folder.file("cert.pem") }
    var url: String { "https://127.0.0.1:\(port)" }

    init() async throws {
        folder = try ScratchFolder()
        try await Self.run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                      "-keyout", folder.file("key.pem"), "-out", folder.file("cert.pem"), "-days", "1",
                      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        let held = try HeldPort()
        port = held.port
        process.executableURL = URL(fileURLWithPath: Self.openssl)
        process.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", folder.file("cert.pem"),
                             "-key", folder.file("key.pem"), "-www", "-quiet"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        held.release()
        try process.run()
        for _ in 0..<100 where !CannedServer.accepts(port) { try await Task.sleep(nanoseconds: 50_000_000) }
        guard CannedServer.accepts(port) else {
            stop()
            throw TestFailure("openssl s_server did not start")
        }
    }

    /// SIGKILL: a child started from a Dispatch thread inherits a mask that blocks SIGTERM.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        folder.remove()
    }

    private static func run(_ arguments: [String]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try await ChildProcess.run(process)
        guard process.terminationStatus == 0 else { throw TestFailure("openssl \(arguments[0]) failed") }
    }
}

/// The simulator in its own process (`fake-cloudron`). Many tests can each run one at the same time:
/// in-process simulators share the test process's two cooperative threads, and a dozen of them at
/// once serve each other's requests one after the other.
final class FakeCloudronProcess: @unchecked Sendable {
    let url: String
    let readonlyToken: String
    private let process: Process

    init(_ arguments: [String]) async throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.path("fake-cloudron"))
        process.arguments = ["--port", "0"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The banner: url, admin-token, readonly-token (read on a Dispatch thread: the read blocks).
        let banner = await withCheckedContinuation { (continuation: CheckedContinuation<[String: String], Never>) in
            DispatchQueue.global().async {
                var text = ""
                var fields: [String: String] = [:]
                while fields["readonly-token"] == nil {
                    let data = out.fileHandleForReading.availableData
                    if data.isEmpty { break }
                    text += String(decoding: data, as: UTF8.self)
                    for line in text.split(separator: "\n") {
                        let parts = line.split(separator: " ", maxSplits: 1)
                        if parts.count == 2, parts[0].hasSuffix(":") { fields[String(parts[0].dropLast())] = String(parts[1]) }
                    }
                }
                continuation.resume(returning: fields)
            }
        }
        guard let url = banner["url"], let token = banner["readonly-token"] else {
            kill(process.processIdentifier, SIGKILL)
            throw TestFailure("fake-cloudron printed no banner")
        }
        self.url = url
        readonlyToken = token
    }

    /// The server's ground truth (`GET /_sim/truth`), read over a plain socket on a Dispatch thread.
    func truth() async throws -> SimulatorTruth {
        try JSONDecoder().decode(SimulatorTruth.self, from: Data(try await control("GET", "/_sim/truth")))
    }

    /// One of the simulator's controls (`POST /_sim/prune`, `POST /_sim/clock?advance=N`, …): the body of
    /// its answer. Over a plain socket on a Dispatch thread.
    @discardableResult
    func control(_ method: String, _ target: String, body: String = "") async throws -> [UInt8] {
        guard let port = url.split(separator: ":").last.flatMap({ UInt16($0) }) else { throw TestFailure("bad url \(url)") }
        let response = await withCheckedContinuation { (continuation: CheckedContinuation<[UInt8], Never>) in
            DispatchQueue.global().async {
                continuation.resume(returning: Self.request(method, target, body: body, port: port))
            }
        }
        guard let split = response.indices.first(where: { response[$0...].starts(with: [13, 10, 13, 10]) }),
              response.starts(with: Array("HTTP/1.1 200".utf8)) else {
            throw TestFailure("no 200 from \(method) \(target): \(String(decoding: response.prefix(200), as: UTF8.self))")
        }
        return Array(response[(split + 4)...])
    }

    /// The events the server holds now: id → raw JSON, as `SyncCrashTests.archivedEvents` reads an archive.
    func currentEvents() async throws -> [String: String] {
        Dictionary(try await truth().events.map { ($0.id, $0.json) }, uniquingKeysWith: { first, _ in first })
    }

    private static func request(_ method: String, _ target: String, body: String, port: UInt16) -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return [] }
        let request = Array(("\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body).utf8)
        _ = request.withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            received.append(contentsOf: chunk[0..<n])
        }
        return received
    }

    /// A test that throws before `stop()` must not leave a server behind.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// SIGKILL and reap; idempotent.
    func stop() async {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        await ChildProcess.waitForExit(process)
    }
}
