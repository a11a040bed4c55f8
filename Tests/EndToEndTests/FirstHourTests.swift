import Foundation
import Testing
import TestSupport

/// What a new user meets first: help with examples for every command, shell completion, and an
/// archive that Datasette opens with its full-text search detected.
@Suite("the first hour: help, completion, Datasette")
struct FirstHourTests {
    static let subcommands = ["sync", "status", "verify", "events", "search", "report", "notifications", "tasks", "demo"]

    @Test("--help of the tool and of every subcommand shows examples, exit 0, nothing on stderr",
          arguments: [[String]()] + subcommands.map { [$0] })
    func helpHasExamples(_ command: [String]) async throws {
        for form in [command + ["--help"], ["help"] + command] {
            let result = try await Command(form).run()
            #expect(result.status == 0, "\(form): \(result.stderr)")
            #expect(result.stderr.isEmpty, "\(form): \(result.stderr)")
            #expect(result.stdout.contains("USAGE:"), "\(form)")
            #expect(result.stdout.contains("Examples:"), "\(form) shows no examples")
            let examples = result.stdout.components(separatedBy: "Examples:").last?
                .split(separator: "\n").filter { $0.contains("cloudron-audit ") }.count ?? 0
            #expect(examples >= 2, "\(form) shows \(examples) example command(s)")
        }
    }

    @Test("every subcommand is listed in the top-level help")
    func topLevelListsSubcommands() async throws {
        let help = try await Command(["--help"]).run().stdout
        for name in Self.subcommands {
            #expect(help.contains("  \(name)"), "\(name) missing from --help")
        }
    }

    @Test("--version prints the version and exits 0")
    func version() async throws {
        let result = try await Command(["--version"]).run()
        #expect(result.status == 0 && result.stderr.isEmpty)
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
    }

    @Test("--generate-completion-script works for bash, zsh and fish", arguments: ["bash", "zsh", "fish"])
    func completionScript(shell: String) async throws {
        let result = try await Command(["--generate-completion-script", shell]).run()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.isEmpty)
        #expect(result.stdout.count > 500, "a short script: \(result.stdout)")
        for name in Self.subcommands {
            #expect(result.stdout.contains(name), "\(shell) completion lacks \(name)")
        }
        #expect(result.stdout.contains("--since") && result.stdout.contains("--token-file"))
    }

    static let bash = Prerequisite.executable("/bin/bash", package: "bash")

    @Test("bash accepts the bash completion script", bash.trait)
    func bashParsesCompletion() async throws {
        try Self.bash.require()
        let script = try await Command(["--generate-completion-script", "bash"]).run().stdout
        let folder = try ScratchFolder()
        defer { folder.remove() }
        try script.write(toFile: folder.file("completion.bash"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-n", folder.file("completion.bash")]
        let errors = Pipe()
        process.standardError = errors
        try await ChildProcess.run(process)
        let text = String(decoding: drain(errors), as: UTF8.self)
        #expect(process.terminationStatus == 0, "bash -n: \(text)")
    }

    // MARK: Datasette

    static var packageRoot: String {
        // …/<root>/.build-x/debug/cloudron-auditPackageTests.xctest → <root>
        var folder = Binary.productsFolder
        while folder.pathComponents.count > 1 {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) { return folder.path }
            folder.deleteLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath
    }

    static var script: String { packageRoot + "/scripts/datasette-check.sh" }

    /// python3 with the venv module: what the script needs before it can install from PyPI.
    static let pythonVenv = Prerequisite.python("import venv, ensurepip", packages: "python3 python3-venv")

    @Test("Datasette (in a venv under .build) sees events_fts as the full-text table of events and finds rows with it",
          pythonVenv.trait, .timeLimit(.minutes(5)))
    func datasetteDetectsFTS() async throws {
        try Self.pythonVenv.require()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.script]
        var environment = ProcessInfo.processInfo.environment
        environment["CLOUDRON_AUDIT_BIN"] = Binary.path("cloudron-audit")
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: Self.packageRoot)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let collected = OutputCollector(out: out, err: err)
        try await ChildProcess.run(process)
        let (stdout, stderr) = await collected.finish()
        if process.terminationStatus == 2 {
            // The script's documented "cannot install from PyPI" status. Under CI that is a failure (the
            // check did not run); elsewhere a known issue, which make test fails on unless allow-listed.
            let reason = stdout.split(separator: "\n").last(where: { $0.hasPrefix("SKIP") }) ?? "no reason printed"
            if Prerequisite.underCI {
                Issue.record("Datasette check could not run under CI: \(reason)")
            } else {
                withKnownIssue("Datasette check skipped: \(reason)") { Issue.record("\(reason)") }
            }
            return
        }
        #expect(process.terminationStatus == 0, "datasette-check.sh failed:\n\(stdout)\n\(stderr)")
        #expect(stdout.contains("OK: events_fts is the FTS table of events"), "\(stdout)")
        #expect(stdout.contains("OK: full-text search"), "\(stdout)")
    }
}
