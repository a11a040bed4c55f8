import Foundation
import Archiver

/// `tasks --log TASK_ID [--instance NAME]`: one archived task log, in the order the server sent its lines.
///
/// Columns `time` and `message`; each row also carries the line exactly as received, which JSON and NDJSON
/// write instead (`tasks --log ID --format ndjson` is the server's log line for line). Box gives a
/// continuation line (the rest of a message that held a newline) timestamp 0: its `time` is null, not 1970.
public struct TaskLogQuery: Sendable {
    public let taskID: String
    public let instance: String?

    public init(taskID: String, instance: String? = nil) {
        self.taskID = taskID
        self.instance = instance
    }

    public static let columns = ["time", "message"].map(Column.init)

    /// Streams the log's lines into `writer`; returns how many there were.
    /// - Throws: `TaskLogNotArchived` when there is no log to show (and why), `QueryInputError` for an
    ///   unknown instance or a task id that several instances have, `SQLiteError`.
    @discardableResult
    public func run<W: RowWriter>(on session: ReadSession, into writer: inout W) throws -> Int {
        let task = try locate(in: session)
        guard let logID = task.logID, !task.rotated else { throw notArchived(task) }
        let fragment = SQLFragment("SELECT timestamp_us, message, raw FROM task_log_lines WHERE log_id = ? ORDER BY line_no",
                                   [.integer(logID)])
        return try RowStreaming.run(session, fragment, columns: TaskLogQuery.columns, into: &writer,
                                    makeReceivedRow: { line in
            let micros = line.int64(at: 0)
            let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
            return ([micros == 0 ? .null : .time(seconds), line.textCell(1)],
                    ReceivedObject(raw: line.bytes(at: 2), addedColumns: []))
        })
    }

    /// What the archive knows of the task's log.
    struct ArchivedTask {
        var instance: String
        var finished: Bool
        var logID: Int64?
        var rotated: Bool
        var failure: (reason: String, attempts: Int64, lastTry: Int64)?
    }

    private func locate(in session: ReadSession) throws -> ArchivedTask {
        try ArchivedNames.requireKnownInstance(EventFilter(instance: instance), in: session)
        var found: [ArchivedTask] = []
        try session.forEachRow("""
            SELECT i.name, t.finished, l.id, l.rotated, f.reason, f.attempts, f.last_try_at
            FROM tasks t JOIN instances i ON i.id = t.instance_id
            LEFT JOIN task_logs l ON l.task_id = t.id LEFT JOIN task_log_failures f ON f.task_id = t.id
            WHERE t.api_id = ?1 AND (?2 IS NULL OR i.name = ?2)
            ORDER BY i.name
            """, [.text(taskID), instance.map { .text($0) } ?? .null]) { row in
            found.append(ArchivedTask(
                instance: row.string(at: 0), finished: row.int64(at: 1) != 0,
                logID: row.isNull(at: 2) ? nil : row.int64(at: 2), rotated: !row.isNull(at: 3) && row.int64(at: 3) != 0,
                failure: row.isNull(at: 4) ? nil : (row.string(at: 4), row.int64(at: 5), row.int64(at: 6))))
        }
        guard let first = found.first else {
            throw TaskLogNotArchived(taskID: taskID, instance: instance, reason: .unknownTask)
        }
        guard found.count == 1 else {
            throw QueryInputError("task id \(TimeExpression.quoted(taskID)) exists on instances "
                                  + found.map(\.instance).joined(separator: ", ") + ": add --instance")
        }
        return first
    }

    private func notArchived(_ task: ArchivedTask) -> TaskLogNotArchived {
        let reason: TaskLogNotArchived.Reason
        if task.rotated {
            reason = .rotated
        } else if let failure = task.failure {
            var times = TimestampFormatter()
            reason = .unavailable("\(failure.reason) (\(failure.attempts) attempts, the last at \(times.string(from: failure.lastTry)))")
        } else if !task.finished {
            reason = .unfinished
        } else {
            reason = .notFetched
        }
        return TaskLogNotArchived(taskID: taskID, instance: task.instance, reason: reason)
    }
}

/// An archived task whose log cannot be shown, and why, in one line. The CLI exits 66 (no input).
public struct TaskLogNotArchived: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The archive has no task of that id (on that instance).
        case unknownTask
        /// The server had already rotated the log away when a sync asked for it (box keeps about 7 days).
        case rotated
        /// The server could not give it (424, 500, too large, too slow), with the last error and attempts.
        case unavailable(String)
        /// The task had not finished at the last sync: logs are read once a task has finished.
        case unfinished
        /// Finished, but no sync with `--task-logs` has asked for its log yet.
        case notFetched
    }

    public let taskID: String
    public let instance: String?
    public let reason: Reason

    public var description: String {
        let task = "task \(TimeExpression.quoted(taskID))" + (instance.map { " of instance \(TimeExpression.quoted($0))" } ?? "")
        switch reason {
        case .unknownTask:
            return "no \(task) in the archive"
        case .rotated:
            return "the log of \(task) is not archived: the server had rotated it away before it was read (box keeps task logs about 7 days)"
        case .unavailable(let why):
            return "the log of \(task) is unavailable: \(why)"
        case .unfinished:
            return "the log of \(task) is not archived yet: the task had not finished at the last sync (logs are archived once a task finishes)"
        case .notFetched:
            return "the log of \(task) is not archived yet: sync with --task-logs to archive it"
        }
    }
}
