import Foundation
import TestSupport
import Testing

/// Runs the built `cloudron-audit` (or `fake-cloudron`) binary and captures what a user would see.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    /// stderr without the trailing newline; most failures must be exactly one line.
    var errorLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }
}

enum Binary {
    /// The folder of the test bundle is SwiftPM's build products folder, where the executables are.
    static var productsFolder: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    static func path(_ name: String) -> String {
        var folder = productsFolder
        // `swift test` runs `…/debug/cloudron-auditPackageTests.xctest`; be lenient about bundles.
        while !FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent(name).path),
              folder.pathComponents.count > 1 {
            folder.deleteLastPathComponent()
            if folder.lastPathComponent == ".build" { break }
        }
        return folder.appendingPathComponent(name).path
    }
}

/// Starts a process with `arguments`, an environment that holds only what is given (plus PATH),
/// and waits for it, unless `start` is used to kill it midway.
struct Command {
    var executable: String
    var arguments: [String]
    var environment: [String: String] = [:]
    var currentDirectory: String?
    /// The child's umask (octal, e.g. "000"), set by /bin/sh before it execs the binary: umask is
    /// process-wide, and changing the test process's own would leak into every test running beside.
    var umask: String?

    init(_ arguments: [String], environment: [String: String] = [:], binary: String = "cloudron-audit",
         umask: String? = nil) {
        executable = Binary.path(binary)
        self.arguments = arguments
        self.environment = environment
        self.umask = umask
    }

    func makeProcess(stdout: Pipe, stderr: Pipe) -> Process {
        let process = Process()
        if let umask {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "umask \(umask) && exec \"$0\" \"$@\"", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        return process
    }

    /// Runs to completion. Output is read concurrently so a large stdout cannot block the child.
    ///
    /// Async on purpose: Swift's cooperative pool has one thread per core (two here), and an
    /// in-process simulator serves from that pool. A test that *blocked* a pool thread in
    /// `waitUntilExit` while its child talked to such a simulator deadlocked the whole test run
    /// as soon as two such tests ran at once.
    func run() async throws -> CommandResult {
        let out = Pipe(), err = Pipe()
        let process = makeProcess(stdout: out, stderr: err)
        let collected = OutputCollector(out: out, err: err)
        try await ChildProcess.run(process)
        let (stdout, stderr) = await collected.finish()
        return CommandResult(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }
}

/// Starting and awaiting child processes without blocking a cooperative thread.
enum ChildProcess {
    /// Starts `process` and returns when it has exited.
    static func run(_ process: Process) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
    }

    /// Returns once an already started `process` has exited (polling, so nothing blocks).
    static func waitForExit(_ process: Process) async {
        while process.isRunning {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
    }
}

/// Drains a child's stdout and stderr on background threads.
final class OutputCollector: @unchecked Sendable {
    private var outData = Data(), errData = Data()
    private let group = DispatchGroup()

    init(out: Pipe, err: Pipe) {
        group.enter()
        DispatchQueue.global().async { self.outData = drain(out); self.group.leave() }
        group.enter()
        DispatchQueue.global().async { self.errData = drain(err); self.group.leave() }
    }

    /// The collected output, once both pipes reached their end (the readers run on Dispatch
    /// threads, so waiting for them here never holds a cooperative thread).
    func finish() async -> (String, String) {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            group.notify(queue: .global()) { continuation.resume() }
        }
        return (String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}

/// A fresh temporary folder, removed by `remove()`.
struct ScratchFolder {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("cloudron-audit-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> String { path + "/" + name }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
