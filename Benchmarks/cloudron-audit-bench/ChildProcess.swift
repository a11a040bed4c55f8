#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What one finished child process cost: wall time from spawn to reaping, and its own peak RSS
/// (wait4's rusage is the child's alone, unlike getrusage(RUSAGE_CHILDREN), which keeps the maximum
/// over every child reaped so far).
struct ChildRun {
    var status: Int32
    var seconds: Double
    var peakRSSKilobytes: Int
    var output: String

    var peakRSSMegabytes: Double { Double(peakRSSKilobytes) / 1024 }
}

struct ChildProcessError: Error, CustomStringConvertible {
    let description: String
}

/// Runs programs the way a user's shell would, without a shell: argv as given, stdin from /dev/null,
/// stdout to a file (or captured), stderr to the bench's log. Signals are reset in the child: a
/// process spawned from a Dispatch thread otherwise inherits a mask that blocks SIGTERM.
enum ChildProcess {
    /// Where the children's stderr goes (a log in the work folder), so their messages do not bury the bench's.
    nonisolated(unsafe) static var stderrPath: String?

    /// Runs to completion. `stdout` nil captures the output (keep it small); a path writes there.
    @discardableResult
    static func run(_ argv: [String], stdout: String? = nil, environment: [String: String] = [:],
                    allowFailure: Bool = false, measureRSS: Bool = false) throws -> ChildRun {
        if measureRSS {
            // Linux carries the exec'ing process's peak RSS into the new program's ru_maxrss, and a
            // posix_spawn child starts as (a vfork of) this bench, which holds 100,000 events. GNU time
            // forks from its own small process, so its %M is the program's own peak.
            let rssFile = NSTemporaryDirectory() + "bench-rss-\(getpid())-\(UInt32.random(in: 0 ... .max))"
            var result = try run(["/usr/bin/time", "-f", "%M", "-o", rssFile] + argv, stdout: stdout, environment: environment,
                                 allowFailure: allowFailure)
            let text = (try? String(contentsOfFile: rssFile, encoding: .utf8)) ?? ""
            unlink(rssFile)
            result.peakRSSKilobytes = text.split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.last ?? -1
            return result
        }
        let capture = stdout == nil ? NSTemporaryDirectory() + "bench-capture-\(getpid())-\(UInt32.random(in: 0 ... .max))" : nil
        let target = stdout ?? capture!
        let start = monotonicSeconds()
        let pid = try spawn(argv, stdout: target, environment: environment)
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw ChildProcessError(description: "wait4 failed for \(argv[0])") }
        }
        let seconds = monotonicSeconds() - start
        var output = ""
        if let capture {
            output = (try? String(contentsOfFile: capture, encoding: .utf8)) ?? ""
            unlink(capture)
        }
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        if exit != 0 && !allowFailure {
            throw ChildProcessError(description: "\(argv.joined(separator: " ")) exited with \(exit)")
        }
        return ChildRun(status: exit, seconds: seconds, peakRSSKilobytes: Int(usage.ru_maxrss), output: output)
    }

    /// Starts a program that keeps running (the simulator); the caller stops it with `stop`.
    static func spawn(_ argv: [String], stdout: String, environment: [String: String] = [:]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let stderrPath = ChildProcess.stderrPath {
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let envStrings = env.map { "\($0.key)=\($0.value)" }
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = envStrings.map { strdup($0) } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, argv[0], &actions, &attributes, cArgs, cEnv)
        guard result == 0 else {
            throw ChildProcessError(description: "cannot start \(argv[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }

    static func stop(_ pid: pid_t) {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0 ..< 50 {
            if waitpid(pid, &status, WNOHANG) == pid { return }
            usleep(100_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }

    /// True when `name` is on PATH.
    static func available(_ name: String) -> Bool {
        (try? run(["sh", "-c", "command -v \(name)"], allowFailure: true).status) == 0
    }
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func fileSize(_ path: String) -> Int64 {
    var info = stat()
    return stat(path, &info) == 0 ? Int64(info.st_size) : 0
}
