import CentralStore
import Foundation

/// A throwaway PostgreSQL cluster from Debian's packages: initdb and pg_ctl in a scratch folder,
/// listening on 127.0.0.1 at a free port, password (SCRAM) authentication over TCP.
///
/// PostgreSQL refuses to run as root, and CI runs as root: then the cluster belongs to the
/// `postgres` system user (made by the package), run through `runuser`. One cluster serves the whole
/// test process; it is stopped when the process exits. When it cannot start, every test that needs
/// it fails with one line saying why: the tests never skip (`make test` installs the package).
/// `make bench` measures the central store on one too (hence a target of its own, not a test file).
public final class PostgresCluster: Sendable {
    public static let user = "auditor"
    public static let password = "s3cret-for-tests"

    public let folder: String
    public let port: Int
    public let binFolder: String
    /// A ~/.pgpass-format file with the password, for `passfile=` (never in the URI).
    public let passfile: String
    private let runAs: String?

    /// The cluster shared by every test of this process, started on first use.
    public static func shared() throws -> PostgresCluster {
        try sharedCluster.get()
    }

    private static let sharedCluster: Result<PostgresCluster, Error> = {
        do {
            let cluster = try PostgresCluster()
            runningCluster = cluster
            atexit { PostgresCluster.runningCluster?.stop() }
            return .success(cluster)
        } catch {
            return .failure(error)
        }
    }()

    nonisolated(unsafe) private static var runningCluster: PostgresCluster?

    public struct StartFailure: Error, CustomStringConvertible {
        public let description: String
    }

    private init() throws {
        guard let bin = Self.findBinFolder() else {
            throw StartFailure(description: "PostgreSQL server not installed (no /usr/lib/postgresql/*/bin/initdb): run 'make test', which installs Debian's postgresql")
        }
        binFolder = bin
        let isRoot = getuid() == 0
        runAs = isRoot ? "postgres" : nil
        folder = "/tmp/cloudron-audit-pg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        passfile = folder + "/pgpass"
        let pwfile = folder + "/pwfile"
        try Self.password.write(toFile: pwfile, atomically: true, encoding: .utf8)
        if let runAs {
            try Self.run("/bin/chown", ["-R", runAs, folder])
        }
        chmod(folder, 0o755)
        let data = folder + "/data"
        try Self.runServerTool("initdb", ["-D", data, "-U", Self.user, "--pwfile", pwfile, "-A", "scram-sha-256",
                                     "--encoding", "UTF8", "--locale", "C"], bin: bin, runAs: runAs)
        // libpq ignores a passfile others can read; this one belongs to the test process.
        try "127.0.0.1:*:*:\(Self.user):\(Self.password)\n".write(toFile: passfile, atomically: true, encoding: .utf8)
        chmod(passfile, 0o600)
        port = try Self.start(data: data, folder: folder) { tool, arguments in
            try Self.runServerTool(tool, arguments, bin: bin, runAs: isRoot ? "postgres" : nil)
        }
    }

    /// Starts the server on a random free port (another test process may hold the first one tried).
    private static func start(data: String, folder: String, run: (String, [String]) throws -> Void) throws -> Int {
        var lastError = ""
        for _ in 0 ..< 5 {
            let candidate = Int.random(in: 20_000 ..< 60_000)
            let options = "-c listen_addresses=127.0.0.1 -c port=\(candidate) -c unix_socket_directories='\(folder)' -c fsync=off -c max_connections=40"
            do {
                try run("pg_ctl", ["-D", data, "-l", folder + "/server.log", "-o", options, "-w", "-t", "30", "start"])
                return candidate
            } catch {
                lastError = (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8))?
                    .split(separator: "\n").last.map(String.init) ?? "\(error)"
            }
        }
        throw StartFailure(description: "PostgreSQL test server did not start: \(lastError)")
    }

    public func stop() {
        try? runServerTool("pg_ctl", ["-D", folder + "/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A connection URI for database `database` (created on demand by `makeDatabase`).
    public func uri(database: String, user: String = PostgresCluster.user) -> String {
        "postgresql://\(user)@127.0.0.1:\(port)/\(database)?passfile=\(passfile)&connect_timeout=10"
    }

    /// A fresh, empty database for one test, and its URI.
    public func makeDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let admin = try PostgresConnection(uri: uri(database: "postgres"))
        try admin.execute("CREATE DATABASE \(name)")
        return uri(database: name)
    }

    /// Runs psql (an oracle independent of our libpq layer) and returns its unaligned output.
    public func psql(_ uri: String, _ sql: String) throws -> String {
        let connectionString = uri
        let output = try Self.run(binFolder + "/psql", ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", connectionString, "-c", sql])
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func runServerTool(_ tool: String, _ arguments: [String]) throws {
        try Self.runServerTool(tool, arguments, bin: binFolder, runAs: runAs)
    }

    private static func runServerTool(_ tool: String, _ arguments: [String], bin: String, runAs: String?) throws {
        if let runAs {
            try run("/sbin/runuser", ["-u", runAs, "--", bin + "/" + tool] + arguments)
        } else {
            try run(bin + "/" + tool, arguments)
        }
    }

    private static func findBinFolder() -> String? {
        let base = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        return versions.compactMap(Int.init).sorted(by: >).map { "\(base)/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module does not export.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? =
        dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np").map {
            unsafeBitCast($0, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
        }

    /// Runs a program to its end and returns its output (stdout and stderr, through a file).
    ///
    /// posix_spawn and waitpid rather than Foundation's Process: its waitUntilExit never returned
    /// for `runuser` here (the child stayed a zombie), and an atexit handler cannot use it at all.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("pg-tool-\(UUID().uuidString)").path
        defer { unlink(outputPath) }
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of the test process is inherited. Without this, pg_ctl handed the server it starts
        // (alive until the test process ends) every descriptor open at that moment: the write ends of other
        // tests' output pipes and the socket through which Foundation's Process learns that a child exited,
        // so a test awaiting such a child, or the end of its output, waited forever.
        guard let closeFrom = Self.closeFrom, closeFrom(&actions, 3) == 0 else {
            throw StartFailure(description: "cannot keep the test process's descriptors from \(executable): glibc 2.34 or later is needed")
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard rc == 0 else { throw StartFailure(description: "cannot run \(executable): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw StartFailure(description: "\((executable as NSString).lastPathComponent) failed: "
                               + (text.split(separator: "\n").last.map(String.init) ?? "exit status \(status)"))
        }
        return text
    }
}
