#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A loopback port bound but not listening: Linux refuses a connection to it (RST), and while it is held
/// no other socket is given or can bind it. A port that was only bound, read and closed could be handed
/// to a server another test started meanwhile, which then answered where "connection refused" was
/// expected (seen: a 401 in InterruptedSyncTests under a full run).
public final class HeldPort: @unchecked Sendable {
    private static let keptLock = NSLock()
    nonisolated(unsafe) private static var kept: [HeldPort] = []

    /// Holds `port` until the test process ends (a "refused" port for any number of requests).
    public static func keepForever(_ port: HeldPort) {
        keptLock.withLock { kept.append(port) }
    }

    public let port: UInt16
    private let lock = NSLock()
    private var socket: Int32

    /// A loopback URL of the port.
    public var url: String { "http://127.0.0.1:\(port)" }

    public init() throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HeldPortError(call: "socket") }
        // No SO_REUSEADDR: a server that sets it must still not be able to bind this port.
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { close(fd); throw HeldPortError(call: "bind") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        socket = fd
    }

    /// Frees the port for a server the test starts on it next (a short window, not a whole test's).
    public func release() {
        lock.withLock {
            if socket >= 0 { close(socket) }
            socket = -1
        }
    }

    deinit { release() }
}

struct HeldPortError: Error, CustomStringConvertible {
    var call: String
    var description: String { "\(call)() for a held loopback port failed: errno \(errno)" }
}
