import Archiver
import Client
import Foundation
import Query

/// The few lines `sync` prints when not `--quiet`.
enum SyncSummary {
    /// A server's outcome: its summary on stdout (unless `quiet`); on stderr, even under `quiet`, its
    /// warnings, the streams that failed, its alarms and gap (unless the caller reports them as its own error)
    /// or what made it fail. `settings`: how the user named the server's settings (an error's hint names them).
    static func write(_ outcome: FleetOutcome, quiet: Bool, gapLine: Bool = true,
                      settings: ClientError.SettingsSource = .commandLine) {
        func describe(_ error: any Error) -> String {
            ExitStatus.oneLine((error as? ClientError)?.description(settingsFrom: settings) ?? String(describing: error))
        }
        switch outcome.result {
        case .success(let report):
            // An endpoint the server lacks or refuses is worth one line per run.
            for line in warnings(report, instance: outcome.server) {
                StandardError.line("cloudron-audit: warning: " + line)
            }
            for failure in report.failedStreams {
                StandardError.line("cloudron-audit: \(outcome.server): \(failure.stream.streamName) not synced: " + describe(failure.error))
            }
            if !quiet {
                print(text(report, instance: outcome.server))
                if report.firstCompletedRun { StandardError.line("cloudron-audit: note: " + readOnlyTokenNote(instance: outcome.server)) }
            }
            guard gapLine else { return }
            if report.events.alarms > 0 { StandardError.line("cloudron-audit: " + alarmLine(report.events.alarms, instance: outcome.server)) }
            if let gap = report.events.gap { StandardError.line("cloudron-audit: " + self.gapLine(gap, instance: outcome.server)) }
        case .failure(SyncError.instanceMoved(let name, let archived, let given)):
            // The flags the error's own text suggests do not go with --config: say what to write in the file.
            StandardError.line("cloudron-audit: \(name): this name is \(archived) in the archive, not \(given): give the server "
                               + "another name in the config, or add moved = true to its [[server]] if it changed its address")
        case .failure(let error):
            StandardError.line("cloudron-audit: \(outcome.server): " + describe(error))
        }
    }

    static func text(_ report: SyncReport, instance: String) -> String {
        var parts = ["\(instance): events \(describe(report.events.counts))"]
        parts.append("notifications \(describe(report.notifications))")
        parts.append("tasks \(describe(report.tasks))")
        if report.taskLogsStored > 0 { parts.append("task logs \(report.taskLogsStored)") }
        if report.taskLogsFailed > 0 {
            parts.append("\(report.taskLogsFailed) task logs unavailable (see status; asked again next time)")
        }
        let requests = report.listRequests.values.reduce(0, +)
        return parts.joined(separator: "; ") + " (\(requests) list requests)"
    }

    /// One line per selected stream that could not be synced, and one for malformed objects kept in quarantine.
    static func warnings(_ report: SyncReport, instance: String) -> [String] {
        var lines = report.unavailableStreams.map { "\(instance): \($0.stream) not synced: \($0.reason)" }
        let quarantined = ObjectKind.allCases.compactMap { kind in
            report.quarantined[kind].flatMap { $0 > 0 ? "\(kind.streamName) \($0)" : nil }
        }
        if !quarantined.isEmpty {
            lines.append("\(instance): the server sent malformed objects, kept in quarantine and the rest archived ("
                         + quarantined.joined(separator: ", ") + "); see status")
        }
        return lines
    }

    /// Said once per server, on its first completed sync: whichever token was given, a read-only one is
    /// enough. Cloudron offers no documented read-only way to learn a token's scope, and an audit tool never
    /// tries a write to find out, so this cannot be a check of the token in use (README: "A read-only API token").
    static func readOnlyTokenNote(instance: String) -> String {
        "\(instance): cloudron-audit only reads (GET requests), so a read-only API token is enough "
            + "(dashboard: Profile → API Tokens, scope Read-only); the server does not say which kind this one is, "
            + "so this is said once"
    }

    static func alarmLine(_ count: Int, instance: String) -> String {
        "\(count) source-tamper alarm(s) on \(instance): archived events deleted or rewritten on the server — see 'cloudron-audit status'"
    }

    static func gapLine(_ gap: ClosedRange<Int64>, instance: String) -> String {
        var times = TimestampFormatter()
        return "\(instance): events between \(times.string(from: gap.lowerBound)) and \(times.string(from: gap.upperBound)) "
            + "were pruned by the server before they were archived (gap recorded; sync more often than every 10 days)"
    }

    private static func describe(_ counts: IngestCounts) -> String {
        "\(counts.inserted) new, \(counts.changed) changed"
    }
}
