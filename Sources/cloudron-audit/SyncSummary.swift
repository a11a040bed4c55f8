import Archiver
import Foundation
import Query

/// The few lines `sync` prints when not `--quiet`.
enum SyncSummary {
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

    static func gapLine(_ gap: ClosedRange<Int64>, instance: String) -> String {
        var times = TimestampFormatter()
        return "\(instance): events between \(times.string(from: gap.lowerBound)) and \(times.string(from: gap.upperBound)) "
            + "were pruned by the server before they were archived (gap recorded; sync more often than every 10 days)"
    }

    private static func describe(_ counts: IngestCounts) -> String {
        "\(counts.inserted) new, \(counts.changed) changed"
    }
}
