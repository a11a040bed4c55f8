import Archiver
import Foundation
import Testing

/// A small tmpfs mounted on a folder, for a read-only or full file system. Needs root and mount(8);
/// tests that use it are skipped (with the reason printed) where mounting is not allowed.
struct TmpfsMount {
    let folder: ScratchFolder
    var path: String { folder.path }

    /// Whether this process may mount a tmpfs (tried once on a probe folder).
    static let isAvailable: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/bin/mount") else { return false }
        let probe = try? ScratchFolder()
        defer { probe?.remove() }
        guard let probe, (try? runBlocking("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe.path])) == 0 else {
            return false
        }
        _ = try? runBlocking("/bin/umount", [probe.path])
        return true
    }()

    init(options: String) async throws {
        folder = try ScratchFolder()
        let status = try await Self.run("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", folder.path])
        guard status == 0 else {
            folder.remove()
            throw TestFailure("mount -t tmpfs -o \(options) failed (\(status))")
        }
    }

    /// Runs `body` with a fresh mount and unmounts it afterwards, also when `body` throws (a `defer`
    /// cannot await, and a mount left behind outlives the test process).
    static func with<T>(options: String, _ body: (TmpfsMount) async throws -> T) async throws -> T {
        let mount = try await TmpfsMount(options: options)
        do {
            let result = try await body(mount)
            await mount.unmount()
            return result
        } catch {
            await mount.unmount()
            throw error
        }
    }

    func remount(_ options: String) async throws {
        let status = try await Self.run("/bin/mount", ["-o", "remount," + options, folder.path])
        guard status == 0 else { throw TestFailure("mount -o remount,\(options) failed (\(status))") }
    }

    func file(_ name: String) -> String { folder.file(name) }

    /// Unmounts (lazily, so an open descriptor cannot keep it) and removes the folder.
    func unmount() async {
        _ = try? await Self.run("/bin/umount", ["-l", folder.path])
        folder.remove()
    }

    private static func process(_ tool: String, _ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        return process
    }

    private static func run(_ tool: String, _ arguments: [String]) async throws -> Int32 {
        let process = process(tool, arguments)
        try await ChildProcess.run(process)
        return process.terminationStatus
    }

    /// Only for the one-time availability probe, which runs while traits are evaluated, not on the pool.
    private static func runBlocking(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let process = process(tool, arguments)
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite("the archive is missing, damaged, foreign, newer, read-only or on a full disk")
struct ArchiveErrorTests {
    static let token = "e2e-archive-token-0b7e55"

    static func sync(_ url: String, db: String) async throws -> CommandResult {
        try await Command(["sync", "--url", url, "--db", db, "--quiet"], environment: ["CLOUDRON_TOKEN": token]).run()
    }

    static func simulator(events: Int = 200, seed: UInt64 = 41) async throws -> FakeCloudronProcess {
        try await FakeCloudronProcess(["--seed", String(seed), "--events", String(events), "--readonly-token", token])
    }

    /// Every command that opens the archive, reading or writing (sync goes to a closed port: the
    /// archive must be refused before any request).
    static func everyCommand(db: String) async throws -> [(String, CommandResult)] {
        let closed = try CannedServer.closedPort()
        var results: [(String, CommandResult)] = []
        for arguments in [
            ["events", "--db", db], ["search", "--db", db, "alice"], ["status", "--db", db], ["verify", "--db", db],
            ["notifications", "--db", db], ["tasks", "--db", db], ["report", "logins", "--db", db],
            ["sync", "--db", db, "--url", "http://127.0.0.1:\(closed)"],
        ] {
            results.append((arguments[0], try await Command(arguments, environment: ["CLOUDRON_TOKEN": token]).run()))
        }
        return results
    }

    @Test("an archive path in a missing folder: sync exits 73 naming the folder, and creates nothing")
    func missingFolder() async throws {
        let simulator = try await Self.simulator()
        let url = simulator.url
        let folder = try ScratchFolder()
        let db = folder.file("no/such/folder/audit.db")
        let result = try await Self.sync(url, db: db)
        expectFailure(result, exit: 73, naming: ["folder"])
        #expect(!FileManager.default.fileExists(atPath: folder.file("no")))
        await simulator.stop()
        folder.remove()
    }

    @Test("--db naming a folder or an empty file: one line that says which, not an I/O error")
    func folderOrEmptyFile() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        for command in [["events"], ["status"], ["verify"], ["search", "alice"]] {
            let result = try await Command(command + ["--db", folder.path]).run()
            expectFailure(result, exit: 66, naming: ["is a folder", "--db"])
        }
        let empty = folder.file("empty.db")
        FileManager.default.createFile(atPath: empty, contents: Data())
        for command in [["events"], ["status"], ["verify"]] {
            let result = try await Command(command + ["--db", empty]).run()
            expectFailure(result, exit: 65, naming: ["empty", "no sync has completed", "--db"])
            #expect(!result.stderr.contains("a SQLite database, but"), "contradicts itself: \(result.stderr)")
        }
    }

    @Test("a file that is not SQLite: every command exits 65 and the file is untouched")
    func notSQLite() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = folder.file("notes.db")
        let text = Data(String(repeating: "These are my notes, not an archive.\n", count: 200).utf8)
        try text.write(to: URL(fileURLWithPath: db))
        for (command, result) in try await Self.everyCommand(db: db) {
            expectFailure(result, exit: 65, naming: ["not a SQLite database"])
            #expect(FileManager.default.contents(atPath: db) == text, "\(command) changed the file")
        }
        #expect(!FileManager.default.fileExists(atPath: db + "-wal"))
    }

    @Test("another program's SQLite database: every command exits 65 and no table is added to it")
    func foreignDatabase() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = folder.file("other.db")
        do {
            let other = try Database(path: db, mode: .readWrite)
            try other.execute("CREATE TABLE recipes(name TEXT); INSERT INTO recipes VALUES ('bread')")
        }   // closed here: the snapshot below is of the file at rest
        let before = ArchiveBytes(db)
        for (command, result) in try await Self.everyCommand(db: db) {
            expectFailure(result, exit: 65, naming: ["not a cloudron-audit archive"])
            #expect(ArchiveBytes(db) == before, "\(command) changed another program's database")
        }
    }

    @Test("a truncated archive: every command exits 65 (verify 65 or 1) and the file is not changed further")
    func truncatedArchive() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try await makeDemoArchive(in: folder)
        guard let whole = FileManager.default.contents(atPath: db) else { throw TestFailure("no archive") }
        let truncated = whole.prefix(whole.count / 3)
        try truncated.write(to: URL(fileURLWithPath: db))
        for (command, result) in try await Self.everyCommand(db: db) {
            if command == "verify" && result.status == 1 {
                expectOneErrorLine(result, naming: ["damaged"])
            } else if command == "status" && result.status == 0 {
                // A third of the file can still hold the tables status reads; verify is what must catch it.
                expectNoCrashText(result)
            } else {
                expectFailure(result, exit: 65, naming: ["truncated"])
            }
            #expect(FileManager.default.contents(atPath: db) == truncated, "\(command) changed the truncated file")
        }
    }

    @Test("an archive from a newer cloudron-audit: every command exits 65 naming the upgrade, file unchanged")
    func newerSchema() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try await makeDemoArchive(in: folder)
        do {
            let future = try Database(path: db, mode: .readWrite)
            try future.execute("PRAGMA user_version = \(ArchiveSchema.currentVersion + 1)")
        }   // closed here: the snapshot below is of the file at rest
        let before = ArchiveBytes(db)
        for (command, result) in try await Self.everyCommand(db: db) {
            expectFailure(result, exit: 65, naming: ["newer", "upgrade cloudron-audit"])
            #expect(ArchiveBytes(db) == before, "\(command) changed the archive")
        }
    }

    @Test("an archive in a read-only folder: sync exits 73, the reading commands still work",
          .enabled(if: TmpfsMount.isAvailable, "needs root and mount(8) for a read-only tmpfs"))
    func readOnlyFolder() async throws {
        let simulator = try await Self.simulator()
        let url = simulator.url
        try await TmpfsMount.with(options: "size=8m") { mount in
            let db = mount.file("audit.db")
            #expect(try await Self.sync(url, db: db).status == 0)
            try await mount.remount("ro")
            let before = ArchiveBytes(db)

            let sync = try await Self.sync(url, db: db)
            expectFailure(sync, exit: 73, naming: [db])
            let fresh = try await Self.sync(url, db: mount.file("new.db"))
            expectFailure(fresh, exit: 73, naming: [mount.file("new.db"), "read-only file system"])

            for arguments in [["events", "--db", db], ["status", "--db", db], ["verify", "--db", db],
                              ["search", "--db", db, "login"]] {
                let result = try await Command(arguments).run()
                #expect(result.status == 0, "\(arguments[0]) on a read-only folder: \(result.stderr)")
                #expect(result.stderr.isEmpty, "\(arguments[0]): \(result.stderr)")
            }
            let output = try await Command(["events", "--db", db, "--output", mount.file("out.ndjson")]).run()
            expectFailure(output, exit: 73, naming: ["out.ndjson"])
            #expect(ArchiveBytes(db) == before)
            await simulator.stop()
        }
    }

    @Test("a full disk: sync exits 74 naming the space, and after space is freed the next sync completes, verify clean",
          .enabled(if: TmpfsMount.isAvailable, "needs root and mount(8) for a tiny tmpfs"))
    func fullDisk() async throws {
        let simulator = try await Self.simulator(events: 3000, seed: 42)
        let url = simulator.url
        // 4 MB: the schema commits, then the disk fills after a page or a few of events (the WAL grows
        // until a checkpoint, so how many pages commit depends on the sync's transaction sizes).
        try await TmpfsMount.with(options: "size=4m") { mount in
            let db = mount.file("audit.db")

            let full = try await Self.sync(url, db: db)
            expectFailure(full, exit: 74, naming: ["disk"])
            // What was committed before the disk filled is consistent.
            try await mount.remount("size=64m")
            let partial = try SyncCrashTests.archivedEvents(db).count
            #expect(partial < 3000, "the disk never filled: the test proved nothing")
            let verifyPartial = try await Command(["verify", "--db", db]).run()
            #expect(verifyPartial.status == 0, "verify after a full disk: \(verifyPartial.stdout) \(verifyPartial.stderr)")

            let next = try await Self.sync(url, db: db)
            #expect(next.status == 0, "the sync after space was freed: \(next.stderr)")
            #expect(try SyncCrashTests.archivedEvents(db) == (try await simulator.currentEvents()))
            let verify = try await Command(["verify", "--db", db]).run()
            #expect(verify.status == 0, "verify: \(verify.stdout) \(verify.stderr)")
            await simulator.stop()
        }
    }

    /// /dev/full fails every write with ENOSPC: a full disk that needs no privileges, so exit 74 is tested
    /// on every machine (the tmpfs tests above need root).
    @Test("--output /dev/full and stdout on /dev/full: exit 74 naming the space, one line",
          arguments: [["events", "--format", "json"], ["events", "--format", "csv"], ["search", "login", "--format", "table"],
                      ["report", "logins", "--format", "ndjson"]])
    func outputOnDevFull(_ command: [String]) async throws {
        let db = try await SharedArchive.get()
        let named = try await Command(command + ["--db", db, "--output", "/dev/full"]).run()
        expectFailure(named, exit: 74, naming: ["no space left"])

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.path("cloudron-audit"))
        process.arguments = command + ["--db", db]
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        defer { try? full.close() }
        let errors = Pipe()
        process.standardOutput = full
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let noOutput = Pipe()
        try noOutput.fileHandleForWriting.close()   // stdout goes to /dev/full: this pipe only ends at once
        let collected = OutputCollector(out: noOutput, err: errors)
        try await ChildProcess.run(process)
        let stderr = await collected.finish().1
        expectFailure(CommandResult(status: process.terminationStatus, stdout: "", stderr: stderr), exit: 74,
                      naming: ["no space left"])
    }

    @Test("--output onto a full disk: exit 74, no partial file left behind",
          .enabled(if: TmpfsMount.isAvailable, "needs root and mount(8) for a tiny tmpfs"))
    func outputOnFullDisk() async throws {
        let db = try await SharedArchive.get()
        try await TmpfsMount.with(options: "size=16k") { mount in
            let result = try await Command(["events", "--db", db, "--format", "json", "--output", mount.file("events.json")]).run()
            expectFailure(result, exit: 74, naming: ["no space left"])
            #expect((try? FileManager.default.contentsOfDirectory(atPath: mount.path)) == [], "left behind a partial file")
        }
    }
}
