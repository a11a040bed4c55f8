import Foundation

/// A stream a run could not sync at all, and why (the server's answer, one line).
public struct UnavailableStream: Sendable, Codable, Equatable {
    public var stream: String
    public var reason: String

    public init(stream: String, reason: String) {
        self.stream = stream
        self.reason = reason
    }
}

/// A finished task whose log the server could not give.
public struct TaskLogFailure: Sendable, Codable, Equatable {
    public var taskId: String
    /// The last attempt's error.
    public var reason: String
    public var attempts: Int
    public var firstTry: Int64
    public var lastTry: Int64
    /// No longer asked for: the first failure lies further back than box keeps task logs.
    public var givenUp: Bool
}

extension Archive {
    /// How long a task log that failed is asked for again: box rotates task logs away after about 7
    /// days, after which the answer can only be empty; a day more absorbs clock skew.
    public static let taskLogRetryWindow: Int64 = 8 * 86_400

    /// Records one failed attempt at a task's log (the first, or one more).
    public func recordTaskLogFailure(instance: Int64, taskId: String, reason: String, run: Int64, at time: Int64) throws {
        try transaction {
            try database.run("""
                INSERT INTO task_log_failures(task_id, reason, attempts, first_try_at, last_try_at, last_run_id)
                SELECT id, ?3, 1, ?4, ?4, ?5 FROM tasks WHERE instance_id = ?1 AND api_id = ?2
                ON CONFLICT(task_id) DO UPDATE SET reason = excluded.reason, attempts = attempts + 1,
                    last_try_at = excluded.last_try_at, last_run_id = excluded.last_run_id
                """, [.integer(instance), .text(taskId), .text(reason.replacingNewlines()), .integer(time), .integer(run)])
        }
    }

    /// The instance's task logs that could not be archived, oldest task first.
    public func taskLogFailures(instance: Int64, now: Int64 = Int64(Date().timeIntervalSince1970)) throws -> [TaskLogFailure] {
        var failures: [TaskLogFailure] = []
        try database.forEachRow("""
            SELECT t.api_id, f.reason, f.attempts, f.first_try_at, f.last_try_at
            FROM task_log_failures f JOIN tasks t ON t.id = f.task_id
            WHERE t.instance_id = ? ORDER BY t.creation_epoch, t.id
            """, [.integer(instance)]) { row in
            let firstTry = row.int64(at: 3)
            failures.append(TaskLogFailure(taskId: row.string(at: 0), reason: row.string(at: 1), attempts: row.int(at: 2),
                                           firstTry: firstTry, lastTry: row.int64(at: 4),
                                           givenUp: firstTry < now - Archive.taskLogRetryWindow))
        }
        return failures
    }
}
