import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Long output on a terminal goes through a pager, as git does: `$PAGER`, else `less -FRX` (which
/// quits at once when the output fits one screen, keeps colours and does not clear the screen).
/// Never when stdout is not a terminal, so scripts and pipes see the rows directly.
public final class Pager {
    /// What the pager reads: write the output here, then call `finish()`.
    public let input: Int32
    private let process: pid_t
    private var finished = false

    private init(input: Int32, process: pid_t) {
        self.input = input
        self.process = process
    }

    /// The pager command for `environment`: `PAGER` when set (empty or `cat`: none), else `less -FRX`
    /// when `less` is on the `PATH` (a machine without it gets the rows directly, not an error).
    public static func command(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let pager = environment["PAGER"] {
            let trimmed = pager.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty || trimmed == "cat" ? nil : trimmed
        }
        let path = environment["PATH"] ?? "/usr/bin:/bin"
        let hasLess = path.split(separator: ":").contains { access("\($0)/less", X_OK) == 0 }
        return hasLess ? "less -FRX" : nil
    }

    /// Starts the pager when stdout is a terminal and a pager is configured; nil otherwise or when it
    /// cannot be started (the caller then writes to stdout itself).
    public static func startIfTerminal() -> Pager? {
        guard isatty(STDOUT_FILENO) == 1, let command = command() else { return nil }
        return start(command)
    }

    /// Runs `command` through `/bin/sh -c`, its stdin a pipe from this process, its stdout ours.
    static func start(_ command: String) -> Pager? {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { return nil }
        let (readEnd, writeEnd) = (ends[0], ends[1])
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, readEnd, STDIN_FILENO)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        var process: pid_t = 0
        let arguments = ["/bin/sh", "-c", command]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let spawned = posix_spawn(&process, "/bin/sh", &actions, nil, &argv, environ)
        close(readEnd)
        guard spawned == 0 else {
            close(writeEnd)
            return nil
        }
        return Pager(input: writeEnd, process: process)
    }

    /// Closes the pager's input and waits until the reader quits it.
    public func finish() {
        guard !finished else { return }
        finished = true
        close(input)
        var status: Int32 = 0
        while waitpid(process, &status, 0) < 0 && errno == EINTR {}
    }

    deinit { finish() }
}
