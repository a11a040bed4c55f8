import Archiver
import Foundation
import Testing

/// Files hold audit data: the archive, its companions and every output are private (0600), an
/// `--output` never writes through a symlink someone planted, and a report definition cannot write.
@Suite("files: private modes, no symlink write-through, read-only reports")
struct FileSafetyTests {
    static func mode(_ path: String) -> Int? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Int(info.st_mode & 0o7777)
    }

    static func isSymlink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    @Test("the archive and the files next to it are created 0600, whatever the umask")
    func archiveModes() async throws {
        let simulator = try await FakeCloudronProcess(["--seed", "61", "--events", "200"])
        let url = simulator.url
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = folder.file("audit.db")
        // A permissive umask, as in a careless cron environment.
        let sync = try await Command(["sync", "--url", url, "--db", db, "--quiet"],
                                     environment: ["CLOUDRON_TOKEN": simulator.readonlyToken], umask: "000").run()
        await simulator.stop()
        #expect(sync.status == 0, "stderr: \(sync.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(names.contains("audit.db"))
        for name in names {
            #expect(Self.mode(folder.file(name)) == 0o600, "\(name) has mode \(String(Self.mode(folder.file(name)) ?? -1, radix: 8))")
        }
    }

    @Test("--output and report --all files are 0600 (the folder 0700), whatever the umask")
    func outputModes() async throws {
        let db = try await SharedArchive.get()
        let folder = try ScratchFolder()
        defer { folder.remove() }
        for (command, name) in [(["events", "--format", "csv"], "events.csv"), (["report", "logins", "--format", "json"], "logins.json"),
                                (["notifications", "--format", "ndjson"], "n.ndjson"), (["tasks", "--format", "table"], "t.txt")] {
            let result = try await Command(command + ["--db", db, "--output", folder.file(name)], umask: "000").run()
            #expect(result.status == 0, "\(command): \(result.stderr)")
            #expect(Self.mode(folder.file(name)) == 0o600, "\(name): \(String(Self.mode(folder.file(name)) ?? -1, radix: 8))")
        }
        let all = try await Command(["report", "--all", "--db", db, "--output-dir", folder.file("reports")], umask: "000").run()
        #expect(all.status == 0, "report --all: \(all.stderr)")
        #expect(Self.mode(folder.file("reports")) == 0o700)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.file("reports"))
        #expect(files.contains("manifest.json"))
        for name in files {
            #expect(Self.mode(folder.file("reports/" + name)) == 0o600, "reports/\(name)")
        }
    }

    @Test("--output onto a planted symlink replaces the link and never writes to its target")
    func plantedSymlink() async throws {
        let db = try await SharedArchive.get()
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let victim = folder.file("victim.conf")
        let original = Data("precious: yes\n".utf8)
        FileManager.default.createFile(atPath: victim, contents: original)
        for (index, command) in [["events"], ["report", "logins"], ["search", "login"]].enumerated() {
            let link = folder.file("shared-\(index).csv")
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)
            let result = try await Command(command + ["--db", db, "--format", "csv", "--output", link]).run()
            #expect(result.status == 0, "\(command): \(result.stderr)")
            #expect(FileManager.default.contents(atPath: victim) == original, "\(command) wrote through the symlink")
            #expect(!Self.isSymlink(link), "the link is still there")
            #expect(Self.mode(link) == 0o600)
        }
        // A dangling link must not create its target either.
        let target = folder.file("created-through-link")
        let dangling = folder.file("dangling.csv")
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: target)
        #expect(try await Command(["events", "--db", db, "--format", "csv", "--output", dangling]).run().status == 0)
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    /// Only nodes in a scratch folder and /dev/fd/1 (rename(2) cannot replace it: /dev/fd is /proc/self/fd):
    /// the test must not damage the machine when the bug it guards against is back.
    @Test("--output onto a stream (/dev/fd/1, a FIFO, a character device) writes to it and leaves the node in place")
    func outputOntoStreams() async throws {
        let db = try await SharedArchive.get()
        let folder = try ScratchFolder()
        defer { folder.remove() }

        let viaDescriptor = try await Command(["events", "--db", db, "--format", "ndjson", "--output", "/dev/fd/1"]).run()
        #expect(viaDescriptor.status == 0, "stderr: \(viaDescriptor.stderr)")
        let direct = try await Command(["events", "--db", db, "--format", "ndjson"]).run()
        #expect(!direct.stdout.isEmpty && viaDescriptor.stdout == direct.stdout)

        // The read end is opened first, non-blocking, and the output kept under the pipe's 64 KiB: if the
        // FIFO were replaced by a file, the read finds nothing instead of waiting forever.
        let fifo = folder.file("pipe")
        #expect(mkfifo(fifo, 0o600) == 0)
        let readEnd = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(readEnd >= 0)
        defer { close(readEnd) }
        let few = ["events", "--db", db, "--format", "ndjson", "--limit", "5"]
        let intoFIFO = try await Command(few + ["--output", fifo]).run()
        #expect(intoFIFO.status == 0, "stderr: \(intoFIFO.stderr)")
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let received = read(readEnd, &buffer, buffer.count)
        let expected = try await Command(few).run().stdout
        #expect(!expected.isEmpty && String(decoding: buffer.prefix(max(0, received)), as: UTF8.self) == expected)
        var info = stat()
        #expect(lstat(fifo, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO, "the FIFO was replaced by a file")

        if getuid() == 0 {
            let null = folder.file("null")
            #expect(mknod(null, S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0)   // 1:3, the null device
            let intoNull = try await Command(["events", "--db", db, "--output", null]).run()
            #expect(intoNull.status == 0, "stderr: \(intoNull.stderr)")
            #expect(lstat(null, &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR, "the device node was replaced by a file")
        }
    }

    @Test("--output into a missing folder: exit 73 naming the file")
    func outputInMissingFolder() async throws {
        let db = try await SharedArchive.get()
        let result = try await Command(["events", "--db", db, "--output", "/nonexistent-e2e/out.csv"]).run()
        expectFailure(result, exit: 73, naming: ["/nonexistent-e2e/out.csv"])
    }

    static let header = """
        -- title: Hostile
        -- description: Tries to change the evidence.
        -- columns: n:integer

        """

    /// Report bodies that try to write. Each must fail with one line and leave the archive as it was.
    static let hostile: [(String, String)] = [
        ("delete", "DELETE FROM events"),
        ("update", "UPDATE event_versions SET raw = '{}'"),
        ("insert-returning", "INSERT INTO instances(name, base_url, created_at) VALUES ('x', 'y', 0) RETURNING id"),
        ("drop", "DROP TABLE events"),
        ("attach", "ATTACH DATABASE '{folder}/attached.db' AS evil"),
        ("pragma-version", "PRAGMA user_version = 99"),
        ("pragma-query-only", "PRAGMA query_only = 0"),
        ("pragma-journal", "PRAGMA journal_mode = DELETE"),
        ("vacuum-into", "VACUUM INTO '{folder}/copy.db'"),
        ("create-temp", "CREATE TEMP TABLE t AS SELECT 1 AS n"),
    ]

    @Test("hostile report definitions (--reports-dir) fail with one line; the archive is unchanged and verify clean")
    func hostileReports() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try await makeDemoArchive(in: folder)
        let reports = folder.file("reports")
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        for (name, sql) in Self.hostile {
            let text = Self.header + sql.replacingOccurrences(of: "{folder}", with: folder.path) + "\n"
            try text.write(toFile: reports + "/evil-\(name).sql", atomically: true, encoding: .utf8)
        }
        let before = ArchiveBytes(db)
        let events = try SyncCrashTests.archivedEvents(db)
        for (name, _) in Self.hostile {
            let result = try await Command(["report", "evil-\(name)", "--db", db, "--reports-dir", reports, "--format", "csv"]).run()
            #expect(result.status != 0, "evil-\(name) ran: \(result.stdout.prefix(200))")
            expectOneErrorLine(result, naming: ["evil-\(name)"])
            #expect(result.status == 64, "evil-\(name) exit \(result.status): \(result.stderr)")
        }
        // A second statement is never run (one statement per report); the first one is a harmless read.
        try (Self.header + "SELECT 1 AS n; DELETE FROM events;\n").write(toFile: reports + "/two-statements.sql",
                                                                        atomically: true, encoding: .utf8)
        let two = try await Command(["report", "two-statements", "--db", db, "--reports-dir", reports, "--format", "csv"]).run()
        if two.status != 0 { expectOneErrorLine(two, naming: ["two-statements"]) }
        try FileManager.default.removeItem(atPath: reports + "/two-statements.sql")

        let all = try await Command(["report", "--all", "--db", db, "--reports-dir", reports, "--output-dir", folder.file("out")]).run()
        #expect(all.status != 0, "report --all ran the hostile reports")
        expectOneErrorLine(all, naming: [])
        #expect(ArchiveBytes(db) == before, "a hostile report changed the archive file")
        #expect(try SyncCrashTests.archivedEvents(db) == events)
        #expect(!FileManager.default.fileExists(atPath: folder.file("attached.db")))
        #expect(!FileManager.default.fileExists(atPath: folder.file("copy.db")))
        let verify = try await Command(["verify", "--db", db]).run()
        #expect(verify.status == 0, "verify: \(verify.stdout) \(verify.stderr)")
    }
}
