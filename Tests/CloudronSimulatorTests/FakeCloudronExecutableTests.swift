import Foundation
import Testing
@testable import CloudronSimulator

/// The `fake-cloudron` executable, built beside the test bundle by `swift build`/`swift test`.
private func fakeCloudronPath() -> String {
    URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("fake-cloudron").path
}

/// Reads the three banner lines on a thread of its own (a blocking read must not hold the pool).
private func readBanner(_ handle: FileHandle) async -> [String: String] {
    await withCheckedContinuation { continuation in
        Thread {
            var text = ""
            while text.components(separatedBy: "\n").count < 4 {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            var fields: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1)
                if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
            }
            continuation.resume(returning: fields)
        }.start()
    }
}

@Suite struct FakeCloudronExecutableTests {
    @Test func printsItsURLAndTokensAndServesUntilTerminated() async throws {
        let path = fakeCloudronPath()
        try #require(FileManager.default.isExecutableFile(atPath: path), "fake-cloudron not built at \(path)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--events", "300", "--seed", "5", "--json-401"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        let banner = await readBanner(output.fileHandleForReading)
        let url = try #require(banner["url:"])
        #expect(url.hasPrefix("http://127.0.0.1:"))
        let token = try #require(banner["admin-token:"])
        #expect(banner["readonly-token:"] != nil && banner["readonly-token:"] != token)

        let page = try await RawHTTP.get(url, "/api/v1/eventlog?per_page=300", headers: ["Authorization": "Bearer \(token)"])
        #expect(try page.list("eventlogs").count == 300)
        #expect(try await RawHTTP.get(url, "/api/v1/eventlog").text == #"{"status":"Unauthorized","message":"No such token"}"#)

        process.terminate()
        // Never hang: if SIGTERM did not end it within 10 s, SIGKILL it and fail.
        let endedBySIGTERM: Bool = await withCheckedContinuation { continuation in
            Thread {
                for _ in 0..<200 where process.isRunning { usleep(50_000) }
                let running = process.isRunning
                if running { kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
                continuation.resume(returning: !running && process.terminationStatus == SIGTERM)
            }.start()
        }
        #expect(endedBySIGTERM)
    }
}
