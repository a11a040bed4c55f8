// A tiny HTTP/1.1 client over a POSIX socket, written for these tests so that the simulator is
// checked by code that shares nothing with it (nor with the Client module). Each request runs on
// its own thread: a blocking read must not hold one of the cooperative pool's two threads while the
// in-process server needs them to answer.

import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import CloudronSimulator

struct RawResponse: Sendable {
    var status: Int
    /// Lower-cased header names.
    var headers: [String: String]
    var body: [UInt8]
    /// No byte at all came back (the connection was closed without a response).
    var isEmpty: Bool
    var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as a JSON object.
    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw RawHTTPError.notJSON(text)
        }
        return object
    }
    /// The objects of a list body, e.g. `eventlogs`.
    func list(_ key: String) throws -> [[String: Any]] {
        guard let items = try json()[key] as? [[String: Any]] else { throw RawHTTPError.notJSON(text) }
        return items
    }
}

enum RawHTTPError: Error {
    case badURL(String), socket(String), notJSON(String)
}

enum RawHTTP {
    static func get(_ base: String, _ target: String, headers: [String: String] = [:]) async throws -> RawResponse {
        try await request(base, method: "GET", target: target, headers: headers)
    }

    static func request(_ base: String, method: String, target: String, headers: [String: String] = [:],
                        body: [UInt8] = []) async throws -> RawResponse {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try blockingRequest(base, method: method, target: target,
                                                                        headers: headers, body: body) })
            }
            thread.start()
        }
    }

    private static func blockingRequest(_ base: String, method: String, target: String, headers: [String: String],
                                        body: [UInt8]) throws -> RawResponse {
        guard base.hasPrefix("http://127.0.0.1:"), let port = UInt16(base.dropFirst("http://127.0.0.1:".count)) else {
            throw RawHTTPError.badURL(base)
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError.socket("socket") }
        defer { close(fd) }
        // Only bounds a server that never answers. The in-process simulator answers from the cooperative
        // pool, which the whole test run shares: on a loaded 2-core machine it waited over 100 s for a turn.
        var timeout = timeval(tv_sec: 300, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw RawHTTPError.socket("connect") }

        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method != "GET" { head += "Content-Length: \(body.count)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw RawHTTPError.socket("send") }
            sent += n
        }

        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received.append(contentsOf: buffer[0..<n])
        }
        guard !received.isEmpty else { return RawResponse(status: 0, headers: [:], body: [], isEmpty: true) }
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0...(received.count - 4)).first(where: { Array(received[$0..<$0 + 4]) == separator }) else {
            throw RawHTTPError.socket("no header end")
        }
        let lines = String(decoding: received[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        let status = statusParts.count > 1 ? Int(statusParts[1]) ?? 0 : 0
        var parsed: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            parsed[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return RawResponse(status: status, headers: parsed, body: Array(received[(end + 4)...]), isEmpty: false)
    }
}

/// Starts a simulator for one test and stops it afterwards.
func withSimulator<T>(_ configuration: SimulatorConfiguration,
                      _ body: (SimulatedCloudron, String) async throws -> T) async throws -> T {
    let simulator = SimulatedCloudron(configuration: configuration)
    let url = try await simulator.start()
    do {
        let result = try await body(simulator, url)
        await simulator.stop()
        return result
    } catch {
        await simulator.stop()
        throw error
    }
}
