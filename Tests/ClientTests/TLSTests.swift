import Testing
import Foundation
import TestSupport
@testable import Client

/// TLS against `openssl s_server` on loopback with a throwaway self-signed certificate: verification is
/// always on, `--cacert` makes a private CA work, and a wrong pinned key fails even with a trusted chain.
@Suite struct TLSTests {
    final class TLSServer {
        let directory: URL
        let port: UInt16
        let process: Process
        var certificate: String { directory.appendingPathComponent("cert.pem").path }
        var publicKey: String { directory.appendingPathComponent("pub.pem").path }
        var url: String { "https://127.0.0.1:\(port)" }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("client-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                              "-keyout", directory.appendingPathComponent("key.pem").path,
                              "-out", directory.appendingPathComponent("cert.pem").path, "-days", "1",
                              "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
            try Self.openssl(["pkey", "-in", directory.appendingPathComponent("key.pem").path, "-pubout",
                              "-out", directory.appendingPathComponent("pub.pem").path])
            // A free port, held until s_server is started on it. Another test's server can still take it in
            // the moment between (s_server then exits, unable to bind): a few attempts, each on a new port.
            var started: (Process, UInt16)?
            for _ in 0..<5 where started == nil {
                let held = try HeldPort()
                held.release()
                started = try Self.start(on: held.port, certificate: directory).map { ($0, held.port) }
            }
            guard let started else { throw TestFailure("openssl s_server could not bind a loopback port") }
            (process, port) = started
        }

        /// Starts `openssl s_server` on `port`: the server once it accepts, nil if it exited first (the port
        /// was taken), an error if it neither exits nor accepts.
        private static func start(on port: UInt16, certificate directory: URL) throws -> Process? {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = ["s_server", "-accept", "127.0.0.1:\(port)",
                                 "-cert", directory.appendingPathComponent("cert.pem").path,
                                 "-key", directory.appendingPathComponent("key.pem").path, "-www", "-quiet"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            for _ in 0..<100 where process.isRunning && !accepts(port) { usleep(50_000) }
            // Accepting while still running: s_server's own socket (a server that took the port first makes it exit).
            if process.isRunning && accepts(port) { return process }
            if !process.isRunning { process.waitUntilExit(); return nil }
            // Whatever happens next, the server must not outlive the test.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TestFailure("openssl s_server did not start")
        }

        /// SIGKILL, not terminate(): a child spawned from a Dispatch thread inherits its blocked signal
        /// mask, SIGTERM included, so terminate() would be ignored and waitUntilExit() would hang.
        func stop() {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            try? FileManager.default.removeItem(at: directory)
        }

        static func openssl(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw TestFailure("openssl \(arguments[0]) failed") }
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

    func client(_ server: TLSServer, caFile: String? = nil, pin: String? = nil) throws -> CloudronClient {
        var configuration = try ClientConfiguration(baseURL: server.url, token: APIToken("tls-test-token"))
        configuration.caFile = caFile
        configuration.pinnedPublicKey = pin
        configuration.retry = RetryPolicy(maxAttempts: 3, baseDelay: 0.01)
        configuration.connectTimeout = 3
        configuration.requestTimeout = 5
        return try CloudronClient(configuration: configuration)
    }

    @Test(Prerequisite.openssl.trait) func verificationPrivateCAAndPinning() async throws {
        try Prerequisite.openssl.require()
        let server = try TLSServer()
        defer { server.stop() }

        let untrusted = try client(server)
        let error = try await #require(throws: ClientError.self) { try await untrusted.status() }
        #expect(error.category == .tls && !error.isRetryable, "\(error)")
        #expect(error.description.hasPrefix("TLS verification failed for \(server.url)/api/v1/cloudron/status"))
        #expect(error.description.contains("--cacert"))
        #expect(untrusted.statistics().requestsSent == 1)

        // With the CA file the handshake succeeds; s_server -www then answers an HTML status page.
        let trusted = try client(server, caFile: server.certificate)
        let html = try await #require(throws: ClientError.self) { try await trusted.status() }
        #expect(html.category == .malformedResponse && html.description.contains("HTML"), "\(html)")

        let pinned = try client(server, caFile: server.certificate, pin: server.publicKey)
        let pinnedError = try await #require(throws: ClientError.self) { try await pinned.status() }
        #expect(pinnedError.category == .malformedResponse, "right key: TLS passes, \(pinnedError)")

        let wrongPin = try client(server, caFile: server.certificate,
                                  pin: "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        let wrongPinError = try await #require(throws: ClientError.self) { try await wrongPin.status() }
        #expect(wrongPinError.category == .tls, "\(wrongPinError)")
    }
}
