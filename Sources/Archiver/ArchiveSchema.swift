import CSQLite

/// One numbered schema migration, embedded from schema/NNNN_name.sql at build time.
public struct Migration: Sendable {
    public let version: Int
    public let fileName: String
    public let sql: [UInt8]
    /// What the SQL alone cannot compute for the rows already archived, in the upgrade's transaction, so
    /// that no reader ever sees it half done. It runs after the SQL, or where the SQL has a line
    /// `fillPlacement` (the SQL before it creates what the fill writes, the SQL after it uses what it wrote).
    let fill: Fill?

    /// A fill step (see `fill`).
    enum Fill: Sendable, Equatable {
        /// The `event_fields` columns that this schema version adds (`ExtractedColumn.schemaVersion`), computed
        /// from every event version's raw JSON. Where one upgrade crosses several such migrations, the last one
        /// computes the columns of all of them in one pass over the raw JSON (`ArchiveSchema.prepare`).
        case eventFields
        /// Every row of `source` copied into `target`, a twin of it that the migration's SQL creates (to
        /// rebuild a table with fewer columns): the columns `target` has, with their row ids.
        case copyRows(from: String, into: String)
    }

    public init(version: Int, fileName: String, sql: [UInt8]) {
        self.init(version: version, fileName: fileName, sql: sql, fill: nil)
    }

    init(version: Int, fileName: String, sql: [UInt8], fill: Fill?) {
        self.version = version
        self.fileName = fileName
        self.sql = sql
        self.fill = fill
    }

    static let fillPlacement = "-- (the fill step runs here)"

    /// The SQL before the fill step, and after it.
    var sqlAroundFill: (before: String, after: String) {
        let text = String(decoding: sql, as: UTF8.self)
        guard let marker = text.range(of: "\n" + Self.fillPlacement + "\n") else { return (text, "") }
        return (String(text[..<marker.lowerBound]), String(text[marker.upperBound...]))
    }

    /// Copies every row of `source` into `target` (`Fill.copyRows`), in row id batches between which the
    /// progress is told.
    static func copyRows(from source: String, into target: String, _ database: Database,
                         progress: (_ done: Int, _ total: Int) -> Void) throws {
        var columns: [String] = []
        try database.forEachRow("SELECT name FROM pragma_table_info(?) ORDER BY cid", [.text(target)]) { columns.append($0.string(at: 0)) }
        let list = columns.joined(separator: ", ")
        let total = Int(try database.scalarInt("SELECT count(*) FROM \(source)") ?? 0)
        var done = 0
        var last: Int64 = .min
        progress(0, total)
        while let high = try database.scalarInt("SELECT max(rowid) FROM (SELECT rowid FROM \(source) WHERE rowid > ? ORDER BY rowid LIMIT 20000)",
                                                [.integer(last)]) {
            try database.run("INSERT INTO \(target)(\(list)) SELECT \(list) FROM \(source) WHERE rowid > ? AND rowid <= ? ORDER BY rowid",
                             [.integer(last), .integer(high)])
            done += database.changes
            last = high
            progress(done, total)
        }
    }
}

/// How far an upgrade that rewrites archived rows has got (for a progress line on a terminal).
public struct UpgradeProgress: Sendable {
    /// The migration's file name.
    public var migration: String
    public var done: Int
    public var total: Int
}

/// The archive's schema: the ordered list of migrations, and the checks made on every open.
///
/// The applied version is PRAGMA user_version (one number any SQLite tool shows), and each applied
/// migration is also a row of `schema_migrations`. PRAGMA application_id marks the file as ours, so
/// that pointing `--db` at another program's database fails instead of adding tables to it.
public enum ArchiveSchema {
    /// "CAud".
    public static let applicationID: Int64 = 0x4341_7564

    /// Every file in schema/*.sql, in order (a test checks that none is missing).
    public static let migrations: [Migration] = [
        Migration(version: 1, fileName: "0001_initial.sql", sql: PackageResources._001_initial_sql),
        Migration(version: 2, fileName: "0002_events_by_time.sql", sql: PackageResources._002_events_by_time_sql),
        Migration(version: 3, fileName: "0003_signed_heads.sql", sql: PackageResources._003_signed_heads_sql),
        Migration(version: 4, fileName: "0004_unavailable_parts.sql", sql: PackageResources._004_unavailable_parts_sql),
        Migration(version: 5, fileName: "0005_quarantine.sql", sql: PackageResources._005_quarantine_sql),
        Migration(version: 6, fileName: "0006_archive_identity.sql", sql: PackageResources._006_archive_identity_sql),
        Migration(version: 7, fileName: "0007_event_fields.sql", sql: PackageResources._007_event_fields_sql,
                  fill: .eventFields),
        Migration(version: 8, fileName: "0008_alarms.sql", sql: PackageResources._008_alarms_sql),
        Migration(version: 9, fileName: "0009_user_roles.sql", sql: PackageResources._009_user_roles_sql,
                  fill: .eventFields),
        Migration(version: 10, fileName: "0010_user_role_lookups.sql", sql: PackageResources._010_user_role_lookups_sql),
        Migration(version: 11, fileName: "0011_search_text_recomputed.sql", sql: PackageResources._011_search_text_recomputed_sql,
                  fill: .copyRows(from: "events", into: "events_rebuilt")),
        Migration(version: 12, fileName: "0012_report_lookups.sql", sql: PackageResources._012_report_lookups_sql),
        Migration(version: 13, fileName: "0013_login_order.sql", sql: PackageResources._013_login_order_sql),
        Migration(version: 14, fileName: "0014_verifications.sql", sql: PackageResources._014_verifications_sql),
        Migration(version: 15, fileName: "0015_report_covering_indexes.sql", sql: PackageResources._015_report_covering_indexes_sql,
                  fill: .eventFields),
        Migration(version: 16, fileName: "0016_rewrites_by_run.sql", sql: PackageResources._016_rewrites_by_run_sql),
        Migration(version: 17, fileName: "0017_login_index_conditions.sql", sql: PackageResources._017_login_index_conditions_sql),
    ]

    public static var currentVersion: Int { migrations.last?.version ?? 0 }

    /// The tables whose rows are chain records (their id is the chain sequence number), in no order.
    public static var chainTables: [String] { ChainTable.allCases.map(\.name) }

    /// The current-state table and column that rows of chain table `table` point at: a record's
    /// canonical bytes include that row's instance id and API id.
    public static func chainParent(of table: String) -> (table: String, column: String)? {
        switch ChainTable.allCases.first(where: { $0.name == table }) {
        case .versions(let kind): (kind.currentTable, kind.parentColumn)
        case .taskLogs: (ObjectKind.tasks.currentTable, ObjectKind.tasks.parentColumn)
        case .quarantine, .alarms, nil: nil
        }
    }

    /// Tables derived from one chain record per row and keyed by its sequence number, by that key column
    /// (`event_fields.version_id` is its event version's id): written with the record, never changed after.
    /// A copy of the archive (the central store) takes them by chain range with the records.
    public static let chainKeyedTables: [String: String] = ["event_fields": "version_id"]

    /// Whether rows of chain table `table` change after they are written, in columns outside the chain
    /// (a quarantined element's last_seen_at and resolved_at): a copy of the archive must then re-read them.
    public static func chainRowsChangeInPlace(_ table: String) -> Bool {
        switch ChainTable.allCases.first(where: { $0.name == table }) {
        case .versions, .taskLogs, .alarms, nil: false
        case .quarantine: true
        }
    }

    /// Checks the file's schema version and brings it up to date (read-write), or refuses it.
    ///
    /// Another process may be upgrading the same file: the write lock is then waited for as long as an
    /// upgrade can take (`upgradeWaitMilliseconds`), and the migrations it applied are not run again.
    static func prepare(_ database: Database, now: Int64, migrations: [Migration] = ArchiveSchema.migrations,
                        progress: (UpgradeProgress) -> Void = { _ in }) throws {
        let currentVersion = migrations.last?.version ?? 0
        let (found, applicationID, objectCount) = try inspect(database)
        let isFresh = found == 0 && applicationID == 0 && objectCount == 0
        if !isFresh && applicationID != Self.applicationID {
            throw SQLiteError(kind: .notAnArchive, code: 0, message: "another program's SQLite database, not a cloudron-audit archive",
                              context: database.path)
        }
        if found > currentVersion {
            throw SQLiteError(kind: .schemaTooNew(found: found, supported: currentVersion), code: 0,
                              message: "schema too new", context: database.path)
        }
        guard found < currentVersion else { return }
        if database.mode == .readOnly {
            if isFresh {
                throw SQLiteError(kind: .notAnArchive, code: 0, message: "empty, not a cloudron-audit archive yet (no sync has completed into it)",
                                  context: database.path)
            }
            throw SQLiteError(kind: .schemaTooOld(found: found, supported: currentVersion), code: 0,
                              message: "schema too old", context: database.path)
        }
        database.setBusyTimeout(milliseconds: Self.upgradeWaitMilliseconds)
        // A migration may rebuild a table (0011): SQLite's procedure for that runs with foreign keys off,
        // which only takes effect outside a transaction. Each migration keeps every row id it copies.
        try database.execute("PRAGMA foreign_keys = OFF")
        defer {
            database.setBusyTimeout(milliseconds: Database.busyTimeoutMilliseconds)
            try? database.execute("PRAGMA foreign_keys = ON")
        }
        // One transaction for the whole upgrade: a reader sees the old schema or the new one, and the fills can
        // be merged and the indexes built once, after the rows they index (an upgrade left half done would
        // otherwise be committed between its migrations).
        try database.execute("PRAGMA cache_size = -\(Self.upgradePageCacheKibibytes)")
        defer { try? database.execute("PRAGMA cache_size = -\(database.mode.pageCacheKibibytes)") }
        try database.transaction {
            // Another process may have migrated between our check and our write lock.
            let applied = try inspect(database).version
            let pending = migrations.filter { $0.version > applied }
            // The extracted fields are computed once, by the last of this upgrade's migrations that adds some,
            // for the columns of all of them (the migrations between do not read them).
            let fieldVersions = Set(pending.filter { $0.fill == .eventFields }.map(\.version))
            for migration in pending {
                let sql = migration.sqlAroundFill
                try database.execute(sql.before)
                let report = { (done: Int, total: Int) in
                    progress(UpgradeProgress(migration: migration.fileName, done: done, total: total))
                }
                // A new archive has no rows to fill: its schema is the SQL's alone.
                switch applied == 0 ? nil : migration.fill {
                case .eventFields where migration.version == fieldVersions.max():
                    try ExtractedColumns.fillEventFields(addedIn: fieldVersions, database, progress: report)
                case .copyRows(let source, let target):
                    try Migration.copyRows(from: source, into: target, database, progress: report)
                case .eventFields, nil:
                    break
                }
                if !sql.after.isEmpty { try database.execute(sql.after) }
                try database.run("INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                                 [.integer(Int64(migration.version)), .text(migration.fileName), .integer(now)])
                try database.execute("PRAGMA application_id = \(Self.applicationID)")
                try database.execute("PRAGMA user_version = \(migration.version)")
            }
        }
    }

    /// The page cache of an upgrade, KiB: its fills and index builds write every page of the tables they make
    /// (tens of MB a million events) and sort every key, which a sync's cache would spill to the file and to
    /// temporary files many times over.
    static let upgradePageCacheKibibytes = 65_536

    /// How long opening an archive waits for another process's upgrade of it (filling the extracted
    /// fields of ten million events takes minutes).
    static let upgradeWaitMilliseconds: Int32 = 30 * 60 * 1000

    private static func inspect(_ database: Database) throws -> (version: Int, applicationID: Int64, objectCount: Int64) {
        let version = try database.scalarInt("PRAGMA user_version") ?? 0
        let applicationID = try database.scalarInt("PRAGMA application_id") ?? 0
        let objects = try database.scalarInt("SELECT count(*) FROM sqlite_master") ?? 0
        return (Int(version), applicationID, objects)
    }
}
