import Foundation
import Archiver

/// `notifications [filters]`: the archived notifications (current state), newest first by default.
///
/// Tables and CSV show the API's `id`, `eventId`, `title`, `message`, `creationTime`, `acknowledged`, plus
/// `instance`; JSON and NDJSON give each notification exactly as the server sent it (every member, 2019's
/// `userId` and whatever newer servers add) with `instance` appended. Alerts (`eventId` null) are rewritten in place by the server; their earlier texts are versions in the
/// archive. `--action`, `--user`, `--app` and `--ip` do not apply and are refused.
public struct NotificationQuery: Sendable {
    public let filter: EventFilter

    /// - Throws: `QueryInputError` for an invalid filter or one that filters events only.
    public init(filter: EventFilter = EventFilter()) throws {
        try filter.validate()
        try filter.requireNoEventOnlyFilters(for: "notifications")
        self.filter = filter
    }

    public static let columns = ["id", "eventId", "title", "message", "creationTime", "acknowledged", "instance"]
        .map(Column.init)

    @discardableResult
    public func run<W: RowWriter>(on session: ReadSession, into writer: inout W) throws -> Int {
        try ArchivedNames.requireKnownInstance(filter, in: session)
        var conditions = filter.timeConditions(column: "n.creation_epoch")
        if let instance = filter.instance { conditions.append(SQLFragment("i.name = ?", [.text(instance)])) }
        let condition = SQLFragment.and(conditions)
        let limit = filter.limitClause
        let sql = """
            SELECT n.api_id, n.event_api_id, n.title, n.message, n.creation_epoch, n.acknowledged, i.name, v.raw
            FROM notifications n JOIN notification_versions v ON v.notification_id = n.id AND v.version = n.version
            JOIN instances i ON i.id = n.instance_id
            WHERE \(condition.sql)
            \(filter.orderBy(time: "n.creation_epoch", tieBreaker: "n.id"))
            \(limit.sql)
            """
        return try RowStreaming.run(session, SQLFragment(sql, condition.values + limit.values),
                                    columns: NotificationQuery.columns, into: &writer, makeReceivedRow: { row in
            ([row.textCell(0), row.textCell(1), row.textCell(2), row.textCell(3), row.timeCell(4), row.booleanCell(5),
              row.textCell(6)],
             ReceivedObject(raw: row.bytes(at: 7), addedColumns: [NotificationQuery.columns.count - 1]))
        })
    }
}

/// `tasks [filters]`: the archived tasks (current state), newest first by default.
///
/// Tables and CSV show `id`, `type`, `creationTime`, `percent`, `active`, `pending`, `success` (null on 2019
/// servers and while running), `errorMessage` (whether the server sent an error object, a string or the
/// 2019 `errorMessage`), `message`, `result` (JSON as received), plus `instance`; JSON and NDJSON give each
/// task exactly as the server sent it (`ts`, `error` as sent, every other member) with `instance` appended.
public struct TaskQuery: Sendable {
    public let filter: EventFilter

    /// - Throws: `QueryInputError` for an invalid filter or one that filters events only.
    public init(filter: EventFilter = EventFilter()) throws {
        try filter.validate()
        try filter.requireNoEventOnlyFilters(for: "tasks")
        self.filter = filter
    }

    public static let columns = ["id", "type", "creationTime", "percent", "active", "pending", "success",
                                 "errorMessage", "message", "result", "instance"].map(Column.init)

    @discardableResult
    public func run<W: RowWriter>(on session: ReadSession, into writer: inout W) throws -> Int {
        try ArchivedNames.requireKnownInstance(filter, in: session)
        var conditions = filter.timeConditions(column: "t.creation_epoch")
        if let instance = filter.instance { conditions.append(SQLFragment("i.name = ?", [.text(instance)])) }
        let condition = SQLFragment.and(conditions)
        let limit = filter.limitClause
        let sql = """
            SELECT t.api_id, t.type, t.creation_epoch, t.percent, t.active, t.pending, t.success,
                   NULLIF(t.error_message, ''), NULLIF(t.message, ''), v.raw, i.name
            FROM tasks t JOIN task_versions v ON v.task_id = t.id AND v.version = t.version
            JOIN instances i ON i.id = t.instance_id
            WHERE \(condition.sql)
            \(filter.orderBy(time: "t.creation_epoch", tieBreaker: "t.id"))
            \(limit.sql)
            """
        return try RowStreaming.run(session, SQLFragment(sql, condition.values + limit.values),
                                    columns: TaskQuery.columns, into: &writer, makeReceivedRow: { row in
            let raw = row.bytes(at: 9)
            return ([row.textCell(0), row.textCell(1), row.timeCell(2), row.integerCell(3), row.booleanCell(4),
                     row.booleanCell(5), row.booleanCell(6), row.textCell(7), row.textCell(8),
                     EventQuery.member("result", of: raw), row.textCell(10)],
                    ReceivedObject(raw: raw, addedColumns: [TaskQuery.columns.count - 1]))
        })
    }
}
