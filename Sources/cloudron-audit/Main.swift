import ArgumentParser
import Client
import Foundation
import Logging

/// The entry point: parse, run, and turn every failure into one line on stderr and a documented
/// exit code (see `ExitStatus`). ArgumentParser's own `main()` would print the usage block after
/// every error; a cron mail or a script wants the one line that names the fix.
@main
struct Main {
    static func main() async {
        // A reader that stops early (`| head`) must end the output quietly, not kill the process
        // mid-write: with SIGPIPE ignored the write fails with EPIPE, which `ExitStatus` treats as done.
        signal(SIGPIPE, SIG_IGN)
        // swift-log's default prints `info` lines on stderr: a `--quiet` cron sync must print only its errors.
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        do {
            var command = try CloudronAudit.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            ExitStatus.exit(with: error)
        }
    }
}

struct CloudronAudit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloudron-audit",
        abstract: "Archive a Cloudron server's event log, notifications and tasks, and answer audit questions from the archive.",
        discussion: """
        A Cloudron keeps its event log for about ten days and rewrites some rows in place. cloudron-audit \
        syncs it into one SQLite archive (several servers per file), keeps every version of every row, \
        and proves what it holds.

        Examples:
          CLOUDRON_TOKEN=… cloudron-audit sync --domain my.example.com --db audit.db
          cloudron-audit status --db audit.db
          cloudron-audit events --db audit.db --action 'user.login' --since 7d
          cloudron-audit push --db audit.db \\
              --to postgresql://audit@db.example.com/audit
          cloudron-audit demo
        """,
        version: CloudronAuditVersion.current,
        subcommands: [SyncCommand.self, StatusCommand.self, VerifyCommand.self, EventsCommand.self, SearchCommand.self,
                      ReportCommand.self, PushCommand.self,
                      NotificationsCommand.self, TasksCommand.self, KeyCommand.self, DemoCommand.self]
    )
}
