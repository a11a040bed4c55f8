import Archiver
import Query

/// SQL text with its parameters, numbered as PostgreSQL numbers them ($1, $2, …) and sent as text.
struct StoreSQL {
    var values: [String?] = []

    /// The placeholder of a new parameter.
    mutating func bind(_ value: String?) -> String {
        values.append(value)
        return "$\(values.count)"
    }
}

extension EventFilter {
    /// The filter as a WHERE condition over the store's `events e`, `event_versions v` (the version whose
    /// JSON the text filters read) and `instances i`, as `eventCondition` builds it for the archive.
    func storeCondition(timeColumn: String, parameters: inout StoreSQL) -> [String] {
        var parts: [String] = []
        for negated in [false, true] {
            let tests = actions.filter { $0.isNegated == negated }.map { pattern in
                pattern.isGlob ? "e.action LIKE \(parameters.bind(pattern.likePattern)) ESCAPE '\\'"
                    : "e.action = \(parameters.bind(pattern.text))"
            }
            guard !tests.isEmpty else { continue }
            let any = tests.joined(separator: " OR ")
            parts.append(negated ? "NOT (\(any))" : "(\(any))")
        }
        parts += storeTimeConditions(column: timeColumn, parameters: &parameters)
        if let instance { parts.append("i.name = \(parameters.bind(instance))") }
        for (value, paths) in [(user, EventJSONPaths.user), (app, EventJSONPaths.app), (ip, EventJSONPaths.ip)] {
            guard let value else { continue }
            let extracts = paths.map { "v.raw::json #>> '{\($0.dropFirst(2).split(separator: ".").joined(separator: ","))}'" }
            parts.append("\(parameters.bind(value)) IN (\(extracts.joined(separator: ", ")))")
        }
        return parts
    }

    func storeTimeConditions(column: String, parameters: inout StoreSQL) -> [String] {
        var parts: [String] = []
        if let since { parts.append("\(column) >= \(parameters.bind(String(since)))") }
        if let until { parts.append("\(column) < \(parameters.bind(String(until)))") }
        return parts
    }

    func storeLimit(parameters: inout StoreSQL) -> String {
        limit.map { "LIMIT \(parameters.bind(String($0)))" } ?? ""
    }
}

/// `events --from postgresql://…`: `EventQuery` on the central store, with the same columns, rows and
/// order as on the archive (several archives' events merged, ties broken by archive id).
///
/// One statement reads every row with what its layout shows (the readable layout's app names and role
/// changes joined in), streamed row by row: a connection answers one statement at a time.
public struct StoreEventQuery {
    public let query: EventQuery

    public init(_ query: EventQuery) { self.query = query }

    /// Streams the matching events into `writer` and returns how many there were.
    /// - Throws: `QueryInputError` as `EventQuery.run`; `CentralStoreError`.
    @discardableResult
    public func run<W: RowWriter>(on connection: PostgresConnection, into writer: inout W) throws -> Int {
        try CentralSchema.check(connection)
        return try connection.transaction {
            try connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return try stream(connection, into: &writer)
        }
    }

    private func stream<W: RowWriter>(_ connection: PostgresConnection, into writer: inout W) throws -> Int {
        let schema = CentralSchema.schemaName
        var filter = query.filter
        let names = try connection.query("SELECT DISTINCT name FROM \(schema).instances ORDER BY name").rows.compactMap { $0[0] }
        try ArchivedNames.requireKnownInstance(filter, among: names)
        var anchor: EventQuery.LocatedEvent?
        var only: EventQuery.LocatedEvent?
        if let around = query.around {
            let event = try locate(around.eventID, instance: filter.instance, connection)
            filter.instance = event.instance
            filter.since = event.epoch - around.window
            filter.until = event.epoch + around.window + 1   // the window is inclusive on both sides
            anchor = event
        }
        if let eventID = query.eventID { only = try locate(eventID, instance: filter.instance, connection) }

        let history = query.history
        let time = history ? "v.creation_epoch" : "e.creation_epoch"
        var parameters = StoreSQL()
        var conditions = filter.storeCondition(timeColumn: time, parameters: &parameters)
        if let only {
            conditions.append("e.archive_id = \(parameters.bind(only.archiveID)) AND e.id = \(parameters.bind(String(only.rowID)))")
        }
        // --around: the anchor's own archive (instance names may repeat across archives).
        if let anchor { conditions.append("e.archive_id = \(parameters.bind(anchor.archiveID))") }
        let direction = filter.order == .newest ? "DESC" : "ASC"
        let order = ([time, "e.id"] + (history ? ["v.version"] : []) + ["e.archive_id"]).map { "\($0) \(direction)" }
        let readable: Bool
        let shortIDs: Bool
        switch query.layout {
        case .received: (readable, shortIDs) = (false, false)
        case .readable(let short): (readable, shortIDs) = (true, short)
        }
        let rolesExist = try readable && connection.scalar("SELECT to_regclass($1)::text", ["\(schema).user_role_changes"]) != nil
        let columns = readable
            ? """
              e.api_id, e.action, \(time), i.name, v.version, v.first_seen_at, e.archive_id, e.id,
              f.actor_name, f.actor_id, f.ip, f.auth_type, f.mailbox_id, f.client_app_id, f.user_id, f.user_name,
              f.app_id, coalesce(f.app_name, named.app_name), f.task_id, f.backup_id, f.error_message, f.success,
              \(rolesExist ? "r.\"roleBefore\", r.\"roleAfter\"" : "NULL, NULL")
              """
            : "e.api_id, e.action, \(time), i.name, v.version, v.first_seen_at, e.archive_id, e.id, v.raw"
        // An app named only by id in this event (an LDAP or OIDC login, a task): its name from another
        // event of the same server, the first archived (as the archive's lookup finds it).
        let readableJoins = readable
            ? """
              LEFT JOIN \(schema).event_fields f ON f.archive_id = v.archive_id AND f.version_id = v.id
              LEFT JOIN LATERAL (
                  SELECT n.app_name FROM \(schema).event_fields n JOIN \(schema).events ne ON ne.archive_id = n.archive_id AND ne.id = n.event_id
                  WHERE f.app_name IS NULL AND n.archive_id = e.archive_id AND n.app_id = coalesce(f.app_id, f.client_app_id)
                    AND n.app_name IS NOT NULL AND ne.instance_id = e.instance_id
                  ORDER BY n.version_id LIMIT 1) named ON true
              \(rolesExist ? "LEFT JOIN \(schema).user_role_changes r ON r.archive_id = v.archive_id AND r.seq = v.id AND f.action IN ('user.add', 'user.update', 'user.remove')" : "")
              """
            : ""
        let sql = """
            SELECT \(columns)
            FROM \(schema).events e
            JOIN \(schema).event_versions v ON v.archive_id = e.archive_id AND v.event_id = e.id\(history ? "" : " AND v.version = e.version")
            JOIN \(schema).instances i ON i.archive_id = e.archive_id AND i.id = e.instance_id
            \(readableJoins)
            WHERE \(conditions.isEmpty ? "true" : conditions.joined(separator: " AND "))
            ORDER BY \(order.joined(separator: ", "))
            \(filter.storeLimit(parameters: &parameters))
            """
        return try StoreRows.stream(connection, sql, parameters.values, columns: query.outputColumns, into: &writer) { row in
            func text(_ index: Int) -> String? { index < row.count ? row[index] : nil }
            func cell(_ index: Int) -> Cell { text(index).map(Cell.text) ?? .null }
            func integer(_ index: Int) -> Int64 { text(index).flatMap { Int64($0) } ?? 0 }
            func integerCell(_ index: Int) -> Cell { text(index).flatMap { Int64($0) }.map(Cell.integer) ?? .null }
            func timeCell(_ index: Int) -> Cell { text(index).flatMap { Int64($0) }.map(Cell.time) ?? .null }
            let epoch = integer(2)
            let versionCells = history ? (integerCell(4), timeCell(5)) : nil
            var cells: [Cell]
            if readable {
                var facts = EventFacts(action: text(1) ?? "", actorName: text(8), actorID: text(9), ip: text(10), authType: text(11),
                                       mailbox: text(12), clientAppID: text(13), userID: text(14), userName: text(15),
                                       appID: text(16), appName: text(17), taskID: text(18), backupID: text(19),
                                       errorMessage: text(20), success: text(21).flatMap { Int64($0) }.map { $0 != 0 })
                (facts.roleBefore, facts.roleAfter) = (text(22), text(23))
                cells = EventQuery.readableCells(facts: facts, epoch: epoch, instance: cell(3), id: text(0) ?? "",
                                                 shortIDs: shortIDs, history: versionCells)
            } else {
                cells = EventQuery.receivedCells(id: cell(0), action: cell(1), epoch: epoch, raw: Array((text(8) ?? "").utf8),
                                                 instance: cell(3), history: versionCells)
            }
            guard let anchor else { return cells }
            return query.withOffset(cells, isAnchor: text(6) == anchor.archiveID && integer(7) == anchor.rowID,
                                    seconds: epoch - anchor.epoch)
        }
    }

    /// The event `eventID` (or a unique prefix of it) names, as `EventQuery` finds it in the archive.
    private func locate(_ eventID: String, instance: String?, _ connection: PostgresConnection) throws -> EventQuery.LocatedEvent {
        let prefix = try EventQuery.idPrefix(eventID)
        let schema = CentralSchema.schemaName
        var parameters = StoreSQL()
        // A range, as on the archive; COLLATE "C" compares as SQLite does (bytes), whatever the database's locale.
        var sql = """
            SELECT e.id, e.api_id, i.name, e.creation_epoch, e.archive_id
            FROM \(schema).events e JOIN \(schema).instances i ON i.archive_id = e.archive_id AND i.id = e.instance_id
            WHERE e.api_id COLLATE "C" >= \(parameters.bind(prefix)) AND e.api_id COLLATE "C" < \(parameters.bind(prefix + "\u{10FFFF}"))
            """
        if let instance { sql += " AND i.name = \(parameters.bind(instance))" }
        sql += " ORDER BY e.api_id COLLATE \"C\", i.name COLLATE \"C\", e.archive_id LIMIT \(EventQuery.locateCandidates)"
        let found = try connection.query(sql, parameters.values).rows.map { row in
            EventQuery.LocatedEvent(rowID: row[0].flatMap { Int64($0) } ?? 0, apiID: row[1] ?? "", instance: row[2] ?? "",
                                    epoch: row[3].flatMap { Int64($0) } ?? 0, archiveID: row[4])
        }
        return try EventQuery.choose(prefix, instance: instance, among: found)
    }
}

/// Streams one statement's rows into a writer, as `RowStreaming` does on the archive: the first row is
/// read before the header is written, so a statement that fails prints nothing.
enum StoreRows {
    static func stream<W: RowWriter>(_ connection: PostgresConnection, _ sql: String, _ parameters: [String?], columns: [Column],
                                     into writer: inout W, makeRow: ([String?]) throws -> [Cell]) throws -> Int {
        var count = 0
        try connection.forEachRow(sql, parameters) { row in
            if count == 0 { try writer.begin(columns: columns) }
            try writer.write(row: try makeRow(row))
            count += 1
        }
        if count == 0 { try writer.begin(columns: columns) }
        try writer.finish()
        return count
    }
}
