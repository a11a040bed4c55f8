/// A column of `event_fields` whose value is read from the event's JSON: the first of `paths` that is
/// present and gives a value (SQL's COALESCE over json_extract), each path read as its `Reading` says.
struct ExtractedColumn: Sendable {
    /// How a JSON member becomes the column's value (`ExtractedValue`).
    enum Reading: Sendable {
        /// A string's text; a number as written, a boolean as "1" or "0".
        case text
        /// A boolean as 1 or 0; anything else NULL.
        case flag
        /// A boolean as the role it stands for: servers before roles (2019) say `admin: true|false`
        /// where later ones say `role`; true is "admin", false "user", anything else NULL.
        case adminFlagAsRole
        /// 1 when the member is an object, NULL otherwise (whether an event carries a user object at all).
        case isObject
    }

    struct Path: Sendable {
        let path: JSONPath
        let reading: Reading
    }

    let name: String
    let paths: [Path]
    /// The schema version whose migration added the column (its fill computes the column for the
    /// versions archived before).
    let schemaVersion: Int
    /// The actions whose events the column is read from (NULL for every other event), nil for all: a field
    /// that one report reads from one action's events (the victim of an app.oom) would otherwise cost a
    /// value in every row where its paths happen to exist (an `app` object is in most app events), and its
    /// migration reads the raw JSON of those actions' versions only.
    let actions: Set<String>?

    init(_ name: String, _ paths: String..., reading: Reading = .text, schemaVersion: Int = 7, actions: Set<String>? = nil) {
        self.init(name, paths: paths.map { Path(path: JSONPath($0), reading: reading) }, schemaVersion: schemaVersion, actions: actions)
    }

    init(_ name: String, paths: [Path], schemaVersion: Int, actions: Set<String>? = nil) {
        self.name = name
        self.paths = paths
        self.schemaVersion = schemaVersion
        self.actions = actions
    }

    func applies(to action: String) -> Bool { actions?.contains(action) ?? true }
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
        ExtractedColumn("success", "data.success", reading: .flag),
        ExtractedColumn("user_email", "data.user.email", schemaVersion: 9),
        ExtractedColumn("user_role", paths: [.init(path: JSONPath("data.user.role"), reading: .text),
                                             .init(path: JSONPath("data.user.admin"), reading: .adminFlagAsRole)],
                        schemaVersion: 9),
        ExtractedColumn("user_object", "data.user", reading: .isObject, schemaVersion: 9),
        ExtractedColumn("admin_status_changed", "data.adminStatusChanged", reading: .flag, schemaVersion: 9),
        // What `oom` reports, so that it reads neither the raw JSON nor the table (schema 15): box names the victim
        // of an app.oom by `addon: {name}` or by `app: {…}`, one of them null, the container id when neither names it.
        ExtractedColumn("oom_addon", "data.addon", reading: .isObject, schemaVersion: 15, actions: ["app.oom"]),
        ExtractedColumn("oom_victim", "data.addon.name", "data.app.fqdn", "data.app.subdomain", "data.app.location", "data.containerId",
                        schemaVersion: 15, actions: ["app.oom"]),
        ExtractedColumn("oom_app_id", "data.app.id", schemaVersion: 15, actions: ["app.oom"]),
    ]

    /// Every path of `events` read in one pass per object level.
    private static let reader = JSONPathReader(paths: events.flatMap { $0.paths.map(\.path) }
        .reduce(into: []) { if !$0.contains($1) { $0.append($1) } })
    /// For each column, the positions of its paths in `reader.paths`.
    private static let pathPositions = events.map { column in column.paths.map { reader.paths.firstIndex(of: $0.path) ?? 0 } }

    /// The values of `events`' columns for the raw JSON of an event of `action`, in order.
    static func values(of raw: [UInt8], action: String) -> [SQLValue] {
        let found = reader.values(in: raw)
        return zip(events, pathPositions).map { column, positions in
            guard column.applies(to: action) else { return .null }
            for (path, position) in zip(column.paths, positions) {
                guard let member = found[position] else { continue }
                let value = ExtractedValue.read(member, as: path.reading)
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
                                                .text(action), .integer(creationEpoch)] + values(of: raw, action: action))
    }

    /// The fill step of the migrations of schemas `schemaVersions` (`Migration.Fill.eventFields`): the columns
    /// they add, computed for every event version archived before, in one pass over the raw JSON. The migration
    /// that creates `event_fields` (7) inserts every version's row (the action is the event's, as one id keeps one
    /// action; the time is the version's own), with its indexes built afterwards from the filled table rather
    /// than kept up to date row by row; a later one alone sets its new columns where the raw JSON gives them a value,
    /// reading only the versions of the actions they apply to when each of them names its actions (14: app.oom).
    /// `progress` is told the versions done and their total.
    static func fillEventFields(addedIn schemaVersions: Set<Int>, _ database: Database,
                                progress: (_ done: Int, _ total: Int) -> Void) throws {
        let positions = events.indices.filter { schemaVersions.contains(events[$0].schemaVersion) }
        let creates = events.contains { schemaVersions.contains($0.schemaVersion) }
            && !events.contains { $0.schemaVersion < schemaVersions.min() ?? 0 }
        let actions = !creates && positions.allSatisfy { events[$0].actions != nil }
            ? Set(positions.flatMap { events[$0].actions ?? [] }).sorted() : nil
        // Those actions' versions through events_by_action and the versions' (event_id, version) key, in no
        // order: ordering them by id would sort their raw JSON.
        let versions = "FROM event_versions v JOIN events e ON e.id = v.event_id"
            + (actions.map { " WHERE e.action IN (\($0.map { _ in "?" }.joined(separator: ", ")))" } ?? "")
        let order = actions == nil ? " ORDER BY v.id" : ""
        let arguments = (actions ?? []).map { SQLValue.text($0) }
        let insert = "INSERT INTO event_fields(\((eventKeyColumns + positions.map { events[$0].name }).joined(separator: ", "))) VALUES ("
            + Array(repeating: "?", count: eventKeyColumns.count + positions.count).joined(separator: ", ") + ")"
        let update = "UPDATE event_fields SET \(positions.map { "\(events[$0].name) = ?" }.joined(separator: ", ")) WHERE version_id = ?"
        var indexes: [String] = []
        if creates {
            var names: [String] = []
            try database.forEachRow("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'event_fields' AND sql IS NOT NULL") {
                names.append($0.string(at: 0))
                indexes.append($0.string(at: 1))
            }
            for name in names { try database.execute("DROP INDEX \(name)") }
        }
        let total = Int(try database.scalarInt("SELECT count(*) \(versions)", arguments) ?? 0)
        var done = 0
        progress(0, total)
        try database.forEachRow("SELECT v.id, v.event_id, v.version, e.instance_id, e.action, v.creation_epoch, v.raw \(versions)\(order)",
                                arguments) { row in
            let values = values(of: row.bytes(at: 6), action: row.string(at: 4))
            if creates {
                try database.run(insert, [.integer(row.int64(at: 0)), .integer(row.int64(at: 1)), .integer(row.int64(at: 2)),
                                          .integer(row.int64(at: 3)), .text(row.string(at: 4)), .integer(row.int64(at: 5))]
                                         + positions.map { values[$0] })
            } else {
                let added = positions.map { values[$0] }
                if added.contains(where: { $0 != .null }) {
                    try database.run(update, added + [.integer(row.int64(at: 0))])
                }
            }
            done += 1
            if done % 10_000 == 0 { progress(done, total) }
        }
        for index in indexes { try database.execute(index) }
        progress(done, total)
    }
}
