import Foundation
import Testing
import TestSupport

/// Readable events through the binary: the pager on a real pseudo-terminal, the format of `--output`
/// from its extension, and `--around` read oldest first.
@Suite(.serialized) struct ReadableOutputTests {
    static let python = Prerequisite.python("import pty, json, subprocess", packages: "python3")

    /// Runs the binary with its stdin and stdout on a new pseudo-terminal (python3's pty module), with
    /// PAGER set to a script that records its use in `mark` and passes its input through.
    private func onTerminal(_ arguments: [String], in folder: ScratchFolder) async throws -> (status: Int32, output: String, paged: Bool) {
        let mark = folder.file("pager-used-\(UUID().uuidString)")
        let pager = folder.file("pager.sh")
        try "#!/bin/sh\necho used > \"\(mark)\"\nexec cat\n".write(toFile: pager, atomically: true, encoding: .utf8)
        chmod(pager, 0o755)
        let script = """
            import json, os, pty, subprocess, sys
            main, secondary = pty.openpty()
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PAGER": sys.argv[1], "COLUMNS": "400"}
            child = subprocess.Popen(sys.argv[2:], stdin=secondary, stdout=secondary, stderr=subprocess.PIPE, env=env)
            os.close(secondary)
            out = b""
            while True:
                try:
                    chunk = os.read(main, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            child.wait()
            print(json.dumps({"status": child.returncode, "out": out.decode("utf-8", "replace")}))
            """
        let result = try await Command(["-c", script, pager, Binary.path("cloudron-audit")] + arguments)
            .withExecutable("/usr/bin/python3").run()
        try #require(result.status == 0, "python: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return (Int32(object["status"] as? Int ?? -1), object["out"] as? String ?? "",
                FileManager.default.fileExists(atPath: mark))
    }

    @Test(python.trait) func onATerminalLongOutputGoesThroughThePagerUnlessNoPager() async throws {
        try Self.python.require()
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try await SharedArchive.get()
        let paged = try await onTerminal(["events", "--db", db, "--limit", "50"], in: folder)
        #expect(paged.status == 0)
        #expect(paged.paged, "PAGER ran")
        #expect(paged.output.contains("summary"), "the table went through the pager to the terminal")
        let direct = try await onTerminal(["events", "--db", db, "--limit", "50", "--no-pager"], in: folder)
        #expect(direct.status == 0)
        #expect(!direct.paged, "--no-pager: PAGER did not run")
        #expect(direct.output.contains("summary"))
        // Not a terminal: never the pager, whatever PAGER says.
        let mark = folder.file("piped-mark")
        let pager = folder.file("piped.sh")
        try "#!/bin/sh\necho used > \"\(mark)\"\nexec cat\n".write(toFile: pager, atomically: true, encoding: .utf8)
        chmod(pager, 0o755)
        let piped = try await Command(["events", "--db", db, "--limit", "50", "--format", "table"],
                                      environment: ["PAGER": pager]).run()
        #expect(piped.status == 0)
        #expect(piped.stdout.contains("summary"))
        #expect(!FileManager.default.fileExists(atPath: mark))
    }

    @Test func outputTakesItsFormatFromTheExtension() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try await SharedArchive.get()
        // Before: --output events.csv without --format wrote NDJSON into a file named .csv.
        let csv = try await Command(["events", "--db", db, "--limit", "5", "--output", folder.file("e.csv")]).run()
        #expect(csv.status == 0)
        let text = try String(contentsOfFile: folder.file("e.csv"), encoding: .utf8)
        #expect(text.split(whereSeparator: \.isNewline).first == "time,instance,action,actor,subject,ip,app,summary,id")
        for (name, firstByte) in [("e.json", "["), ("e.jsonl", "{"), ("e.ndjson", "{"), ("e.txt", "t")] {
            let result = try await Command(["events", "--db", db, "--limit", "5", "--output", folder.file(name)]).run()
            #expect(result.status == 0, "\(name): \(result.stderr)")
            let written = try String(contentsOfFile: folder.file(name), encoding: .utf8)
            #expect(written.hasPrefix(firstByte), "\(name)")
        }
        let unknown = try await Command(["events", "--db", db, "--output", folder.file("e.pdf")]).run()
        #expect(unknown.status == 64)
        #expect(unknown.errorLines.count == 1)
        #expect(unknown.stderr.contains(".csv"))
        #expect(!FileManager.default.fileExists(atPath: folder.file("e.pdf")))
    }

    @Test func aroundReadsOldestFirstMarksTheAnchorAndRefusesSince() async throws {
        let db = try await SharedArchive.get()
        let all = try await Command(["events", "--db", db, "--format", "csv", "--order", "oldest"]).run()
        let rows = all.stdout.split(whereSeparator: \.isNewline).dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let anchor = try #require(rows.dropFirst(rows.count / 2).first)
        let anchorID = String(try #require(anchor.last))
        let around = try await Command(["events", "--db", db, "--format", "csv", "--around", String(anchorID.prefix(8)),
                                        "--window", "1h"]).run()
        #expect(around.status == 0, "\(around.stderr)")
        let lines = around.stdout.split(whereSeparator: \.isNewline).dropFirst()
        let times = lines.map { $0.split(separator: ",")[1] }
        #expect(times == times.sorted(), "oldest first by default")
        #expect(lines.filter { $0.hasPrefix("anchor,") }.count == 1)
        #expect(lines.first { $0.hasPrefix("anchor,") }?.hasSuffix(anchorID) == true)
        let refused = try await Command(["events", "--db", db, "--around", anchorID, "--since", "7d"]).run()
        #expect(refused.status == 64)
        #expect(refused.errorLines.count == 1)
        let newest = try await Command(["events", "--db", db, "--format", "csv", "--around", anchorID, "--window", "1h",
                                        "--order", "newest"]).run()
        let newestTimes = newest.stdout.split(whereSeparator: \.isNewline).dropFirst().map { $0.split(separator: ",")[1] }
        #expect(newestTimes == times.reversed() || newestTimes == newestTimes.sorted(by: >))
    }
}

/// `--help` of every command at 80 columns: no example is wrapped mid-command (a long one continues with
/// a shell backslash, so every line copies into a shell as printed).
@Suite struct HelpExampleTests {
    @Test(arguments: [["sync"], ["status"], ["verify"], ["events"], ["search"], ["notifications"], ["tasks"], ["report"],
                      ["push"], ["demo"], ["key", "generate"]])
    func examplesFitEightyColumns(_ command: [String]) async throws {
        let help = try await Command(command + ["--help"], environment: ["COLUMNS": "80"]).run()
        #expect(help.status == 0)
        let lines = help.stdout.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "Examples:"), "\(command) has examples")
        let examples = lines[(start + 1)...].prefix { !$0.isEmpty }
        #expect(!examples.isEmpty)
        var continued = false
        for line in examples {
            #expect(line.hasPrefix(continued ? "      " : "  ") && (continued || !line.hasPrefix("   ")), "\(command): \(line)")
            #expect(line.count <= 80)
            continued = line.hasSuffix(" \\")
        }
        #expect(!continued)
    }
}

extension Command {
    /// This command with another executable (a tool the test drives the binary through).
    func withExecutable(_ path: String) -> Command {
        var command = self
        command.executable = path
        return command
    }
}
