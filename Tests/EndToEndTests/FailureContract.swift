import Foundation
import Testing

/// What issue 6 asks of every failing command, checked in one place: the exit code the README documents,
/// exactly one line on stderr (prefixed `cloudron-audit: `) that names what to fix, and no crash text.
func expectFailure(_ result: CommandResult, exit expected: Int32, naming hints: [String],
                   sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status == expected, "exit \(result.status), expected \(expected); stderr: \(result.stderr)",
            sourceLocation: sourceLocation)
    expectOneErrorLine(result, naming: hints, sourceLocation: sourceLocation)
}

/// The message half of the contract, for cases where more than one exit code is acceptable.
func expectOneErrorLine(_ result: CommandResult, naming hints: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.errorLines.count == 1, "stderr must be exactly one line, got: \(result.stderr)",
            sourceLocation: sourceLocation)
    #expect(result.stderr.hasPrefix("cloudron-audit: "), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    expectNoCrashText(result, sourceLocation: sourceLocation)
    let lower = result.stderr.lowercased()
    for hint in hints {
        #expect(lower.contains(hint.lowercased()), "stderr does not name \"\(hint)\": \(result.stderr)",
                sourceLocation: sourceLocation)
    }
}

/// Swift runtime traps print "Fatal error" and a backtrace; signals end the process with 128+n or a
/// negative status. None of that may ever reach a user.
func expectNoCrashText(_ result: CommandResult, sourceLocation: SourceLocation = #_sourceLocation) {
    for marker in ["Fatal error", "fatal error", "Stack dump", "Backtrace", "backtrace", "💣"] {
        #expect(!result.stderr.contains(marker), "crash text in stderr: \(result.stderr)", sourceLocation: sourceLocation)
    }
    // 130 and 143 are the documented exits of a sync that SIGINT or SIGTERM stopped cleanly.
    #expect(result.status >= 0 && (result.status < 128 || [130, 143].contains(result.status)),
            "ended by a signal or trap: \(result.status)", sourceLocation: sourceLocation)
}

/// The bytes of an archive (main file and write-ahead log) to prove a command changed nothing.
struct ArchiveBytes: Equatable, CustomStringConvertible {
    let main: Data?
    let wal: Data?

    init(_ path: String) {
        main = FileManager.default.contents(atPath: path)
        wal = FileManager.default.contents(atPath: path + "-wal")
    }

    var description: String { "archive of \(main?.count ?? -1) bytes, wal \(wal?.count ?? -1) bytes" }
}

/// A small synced archive made by `cloudron-audit demo` (the binary's own simulator), shared by the
/// tests that only read it. Created once per test process and removed when the process exits.
enum SharedArchive {
    static let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("cloudron-audit-e2e-shared-\(getpid())").path
    static let path = folder + "/audit.db"

    /// The archive's path; the first call builds it.
    static func get() async throws -> String {
        try await made.value
    }

    private static let made = Task<String, Error> {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: SharedArchive.folder) }
        let demo = try await Command(["demo", "--db", path, "--events", "400", "--seed", "6"]).run()
        guard demo.status == 0 else { throw TestFailure("demo failed (\(demo.status)): \(demo.stderr)") }
        // Verified once, which is recorded: a report --all on it then checks only what was archived since
        // (nothing) and writes nothing, while tests beside it compare its bytes before and after reading.
        let verify = try await Command(["verify", "--db", path]).run()
        guard verify.status == 0 else { throw TestFailure("verify failed (\(verify.status)): \(verify.stderr)") }
        return path
    }
}

/// Makes a fresh archive with `cloudron-audit demo` in `folder` (for tests that damage or change one).
func makeDemoArchive(in folder: ScratchFolder, name: String = "audit.db", events: Int = 300) async throws -> String {
    let path = folder.file(name)
    let demo = try await Command(["demo", "--db", path, "--events", String(events), "--seed", "7"]).run()
    guard demo.status == 0 else { throw TestFailure("demo failed (\(demo.status)): \(demo.stderr)") }
    return path
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
