#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A real HTTP server on 127.0.0.1 that answers every connection with the same canned bytes, for the
/// answers the Cloudron simulator never gives (redirects, oversized bodies, proxy HTML pages). It runs
/// on its own thread, records each request's head, and closes each connection after answering.
final class CannedHTTPServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let response: [UInt8]
    private let lock = NSLock()
    private var heads: [String] = []
    private var stopped = false

    var url: String { "http://127.0.0.1:\(port)" }

    /// Every request head received so far (request line and headers).
    var requests: [String] { lock.withLock { heads } }

    /// `contentLength: false` sends no Content-Length (the body ends when the connection closes);
    /// `declaredLength` declares another length than the body's (more: a body cut short).
    init(status: String, headers: [String] = [], body: [UInt8], contentLength: Bool = true,
         declaredLength: Int? = nil) throws {
        var head = "HTTP/1.1 \(status)\r\nConnection: close\r\n"
        for header in headers { head += header + "\r\n" }
        if contentLength { head += "Content-Length: \(declaredLength ?? body.count)\r\n" }
        head += "\r\n"
        response = Array(head.utf8) + body

        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw CannedServerError.socket }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw CannedServerError.socket }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        listener = fd
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    private func serve() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                // The listener is closed here, by the thread that accepts on it, never under a blocked
                // accept: a closed descriptor's number is soon reused by the next test's server, and an
                // accept still waiting on the number would steal that server's connections.
                if lock.withLock({ stopped }) { close(listener); return }
                continue
            }
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while !received.ends(with: [13, 10, 13, 10]) {
                let n = read(client, &chunk, chunk.count)
                if n <= 0 { break }
                received.append(contentsOf: chunk[0..<n])
            }
            lock.withLock { heads.append(String(decoding: received, as: UTF8.self)) }
            var sent = 0
            while sent < response.count {
                let n = response[sent...].withUnsafeBufferPointer { write(client, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                sent += n
            }
            shutdown(client, Int32(SHUT_WR))
            close(client)
        }
    }

    /// Ends the accept loop (shutdown wakes a blocked accept on Linux, which then closes the listener).
    /// Idempotent.
    func stop() {
        let wasStopped = lock.withLock { () -> Bool in
            defer { stopped = true }
            return stopped
        }
        guard !wasStopped else { return }
        shutdown(listener, Int32(SHUT_RDWR))
    }
}

enum CannedServerError: Error { case socket }

private extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
