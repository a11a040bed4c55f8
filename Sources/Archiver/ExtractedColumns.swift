/// A column of `event_fields` whose value is read from the event's JSON: the first of `paths` that is
/// present and not null (SQL's COALESCE over json_extract), kept as `type` says.
struct ExtractedColumn: Sendable {
    enum ValueType: Sendable {
        /// A string's text; a number as written, a boolean as "1" or "0".
        case text
        /// A boolean as 1 or 0; anything else NULL.
        case flag
    }

    let name: String
    let paths: [JSONPath]
    let type: ValueType

    init(_ name: String, _ paths: String..., type: ValueType = .text) {
        self.name = name
        self.paths = paths.map(JSONPath.init)
        self.type = type
    }
}

/// The fields that reports and filters read from every event version, extracted once when the version
/// is stored (`event_fields`, schema 7). This list is the only place a field's JSON path is written:
/// ingest stores what it gives, the schema migration fills it in for versions archived before, and
/// `verify` recomputes it from each version's raw JSON. Adding a field is one entry here and one column
/// in a migration.
enum ExtractedColumns {
    static let events: [ExtractedColumn] = [
        ExtractedColumn("actor_name", "source.username"),
        ExtractedColumn("actor_id", "source.userId"),
        ExtractedColumn("ip", "source.ip"),
        ExtractedColumn("auth_type", "source.authType"),
        ExtractedColumn("mailbox_id", "source.mailboxId"),
        ExtractedColumn("client_app_id", "source.appId"),
        ExtractedColumn("user_id", "data.userId", "data.user.id"),
        ExtractedColumn("user_name", "data.user.username"),
        ExtractedColumn("app_id", "data.appId", "data.app.id"),
        ExtractedColumn("app_name", "data.app.fqdn", "data.newApp.fqdn", "data.app.subdomain", "data.app.location"),
        ExtractedColumn("task_id", "data.taskId"),
        ExtractedColumn("backup_id", "data.backupId"),
        ExtractedColumn("error_message", "data.errorMessage"),
        ExtractedColumn("success", "data.success", type: .flag),
    ]

    /// Every path of `events` read in one pass per object level.
    private static let reader = JSONPathReader(paths: events.flatMap(\.paths).reduce(into: []) { if !$0.contains($1) { $0.append($1) } })
    /// For each column, the positions of its paths in `reader.paths`.
    private static let pathPositions = events.map { column in column.paths.map { path in reader.paths.firstIndex(of: path) ?? 0 } }

    /// The values of `events`' columns for an event's raw JSON, in order.
    static func values(of raw: [UInt8]) -> [SQLValue] {
        let found = reader.values(in: raw)
        return zip(events, pathPositions).map { column, positions in
            for position in positions {
                guard let member = found[position] else { continue }
                let value = column.type == .flag ? ExtractedValue.flag(member) : ExtractedValue.text(member)
                if value != .null { return value }
            }
            return .null
        }
    }

    /// The columns of `event_fields` that are not extracted from JSON: where the row belongs and what
    /// the event is, which let a report filter and order without another table.
    static let eventKeyColumns = ["version_id", "event_id", "version", "instance_id", "action", "creation_epoch"]

    static let insertEventFieldsSQL = "INSERT INTO event_fields(\((eventKeyColumns + events.map(\.name)).joined(separator: ", "))) VALUES ("
        + Array(repeating: "?", count: eventKeyColumns.count + events.count).joined(separator: ", ") + ")"

    /// Stores the fields of one event version (in the caller's transaction).
    static func storeEventFields(_ database: Database, versionID: Int64, eventID: Int64, version: Int64, instanceID: Int64,
                                 action: String, creationEpoch: Int64, raw: [UInt8]) throws {
        try database.run(insertEventFieldsSQL, [.integer(versionID), .integer(eventID), .integer(version), .integer(instanceID),
                                                .text(action), .integer(creationEpoch)] + values(of: raw))
    }

    /// The migration's fill step: the fields of every event version archived before `event_fields` existed.
    /// The action is the event's (one id keeps one action); the time is the version's own.
    /// `progress` is told the versions done and their total.
    @Sendable static func fillEventFields(_ database: Database, progress: (_ done: Int, _ total: Int) -> Void) throws {
        let total = Int(try database.scalarInt("SELECT count(*) FROM event_versions") ?? 0)
        var done = 0
        progress(0, total)
        try database.forEachRow("""
            SELECT v.id, v.event_id, v.version, e.instance_id, e.action, v.creation_epoch, v.raw
            FROM event_versions v JOIN events e ON e.id = v.event_id ORDER BY v.id
            """) { row in
            try storeEventFields(database, versionID: row.int64(at: 0), eventID: row.int64(at: 1), version: row.int64(at: 2),
                                 instanceID: row.int64(at: 3), action: row.string(at: 4), creationEpoch: row.int64(at: 5),
                                 raw: row.bytes(at: 6))
            done += 1
            if done % 10_000 == 0 { progress(done, total) }
        }
        progress(done, total)
    }
}
