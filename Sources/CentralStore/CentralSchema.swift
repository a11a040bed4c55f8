import Archiver

/// The central store's schema in PostgreSQL: schema `cloudron_audit`, three bookkeeping tables of its
/// own (`store_*`), and one table per archive table, created and widened from `ArchiveLayout`.
///
/// Every mirrored table gets `archive_id` in front of its columns and of its primary key, so any
/// number of archives share the tables without colliding. No foreign keys and no triggers: rows
/// arrive in batches (a chain record may land before its sync run), and a PostgreSQL-compatible
/// engine that distributes tables by `archive_id` needs neither.
public enum CentralSchema {
    public static let schemaName = "cloudron_audit"
    /// The store's own bookkeeping format, stored in `store_info`; a newer one is refused.
    public static let formatVersion = 1
    static let application = "cloudron-audit"

    static func qualified(_ table: String) -> String { "\(schemaName).\(quoted(table))" }
    static func quoted(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// Checks that the schema, if there, is ours and not newer (reading commands).
    static func check(_ connection: PostgresConnection) throws {
        let exists = try connection.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = $1", [schemaName]) != "0"
        guard exists else {
            throw CentralStoreError(kind: .notPushed, message: "\(connection.target) has no \(schemaName) schema: run 'cloudron-audit push' first")
        }
        try checkOwnership(connection)
    }

    private static func checkOwnership(_ connection: PostgresConnection) throws {
        let notOurs = CentralStoreError(kind: .badTarget,
                                        message: "schema \(schemaName) in \(connection.target) belongs to another program (no cloudron-audit store_info): choose another database")
        guard try connection.scalar("SELECT to_regclass($1)::text", ["\(schemaName).store_info"]) != nil else { throw notOurs }
        let rows = try connection.query("SELECT key, value FROM \(schemaName).store_info").rows
        let info = Dictionary(rows.compactMap { row -> (String, String)? in
            guard let key = row[0], let value = row[1] else { return nil }
            return (key, value)
        }, uniquingKeysWith: { first, _ in first })
        guard info["application"] == application, let format = info["format"].flatMap(Int.init) else { throw notOurs }
        if format > formatVersion {
            throw CentralStoreError(kind: .schemaTooNew(found: format, supported: formatVersion),
                                    message: "the store in \(connection.target) has format \(format), newer than the \(formatVersion) this cloudron-audit supports: upgrade cloudron-audit")
        }
    }

    /// Creates what is missing for `layout` (schema, tables, columns, indexes) in one transaction,
    /// serialised with other pushes by an advisory lock so that two machines pushing their first
    /// time do not race on CREATE TABLE.
    static func prepare(_ connection: PostgresConnection, for layout: ArchiveLayout, indexes: [IndexDefinition]) throws {
        try connection.transaction {
            try connection.query("SELECT pg_advisory_xact_lock(hashtext($1))", [schemaName])
            let exists = try connection.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = $1", [schemaName]) != "0"
            if exists {
                try checkOwnership(connection)
            } else {
                try connection.execute("""
                    CREATE SCHEMA \(schemaName);
                    CREATE TABLE \(schemaName).store_info (key text PRIMARY KEY, value text NOT NULL);
                    INSERT INTO \(schemaName).store_info VALUES ('application', '\(application)'), ('format', '\(formatVersion)');
                    -- One row per archive pushed here: the push cursor (its chain sequence) and the head there.
                    CREATE TABLE \(schemaName).store_archives (
                        archive_id      text PRIMARY KEY,
                        chain_length    bigint NOT NULL,
                        chain_head      bytea NOT NULL,
                        archive_schema  integer NOT NULL,
                        first_pushed_at bigint NOT NULL,
                        pushed_at       bigint NOT NULL
                    );
                    -- Per archive and table: the column list last pushed, and for snapshot tables the SHA-256
                    -- of their content then (unchanged content is not sent again).
                    CREATE TABLE \(schemaName).store_tables (
                        archive_id  text NOT NULL,
                        table_name  text NOT NULL,
                        columns     text NOT NULL,
                        digest      bytea,
                        PRIMARY KEY (archive_id, table_name)
                    );
                    """)
            }
            for table in layout.tables {
                let target = qualified(table.name)
                let definitions = ["archive_id text NOT NULL"]
                    + table.columns.map { "\(quoted($0.name)) \($0.type.rawValue)\($0.notNull ? " NOT NULL" : "")" }
                    + ["PRIMARY KEY (\((["archive_id"] + table.primaryKey).map(quoted).joined(separator: ", ")))"]
                try connection.execute("CREATE TABLE IF NOT EXISTS \(target) (\(definitions.joined(separator: ", ")))")
                // Columns a later migration added: nullable, since rows of older archives lack them.
                for column in table.columns {
                    try connection.execute("ALTER TABLE \(target) ADD COLUMN IF NOT EXISTS \(quoted(column.name)) \(column.type.rawValue)")
                }
                // Columns a later migration removed (schema 11: the events' search text): kept for the rows of
                // archives pushed before, nullable, since this archive's rows lack them.
                let kept = Set(["archive_id"] + table.columns.map(\.name))
                for row in try connection.query("""
                    SELECT column_name FROM information_schema.columns
                    WHERE table_schema = $1 AND table_name = $2 AND is_nullable = 'NO'
                    """, [schemaName, table.name]).rows {
                    guard let name = row[0], !kept.contains(name) else { continue }
                    try connection.execute("ALTER TABLE \(target) ALTER COLUMN \(quoted(name)) DROP NOT NULL")
                }
            }
            for kind in ObjectKind.allCases where layout.table(kind.currentTable) != nil {
                for statement in StoreSearchDocuments.createStatements(kind) { try connection.execute(statement) }
            }
            for index in indexes {
                try connection.execute("CREATE INDEX IF NOT EXISTS \(quoted(index.name)) ON \(qualified(index.table)) "
                                       + "(\((["archive_id"] + index.columns).map(quoted).joined(separator: ", ")))"
                                       + (index.condition.map { " WHERE \($0)" } ?? ""))
            }
            // The report views and the archive's views (user_role_changes), from reports/postgresql.
            try StoreReportViews.install(connection)
        }
    }

    /// An index of the archive, mirrored with `archive_id` in front (reports filter on the same columns).
    struct IndexDefinition: Sendable {
        var name: String
        var table: String
        var columns: [String]
        /// A partial index's WHERE clause, as the archive's schema wrote it. The report indexes of schemas
        /// 12-15 each cover a few actions of event_fields with many columns: mirrored whole, every pushed
        /// row would be entered in each. Their conditions (`action IN ('…')`, `version > 1`, `user_object = 1`,
        /// schema 17's `+action = '…' OR …` less its unary plus) read the same in PostgreSQL. An index already in
        /// the store stays as it is.
        var condition: String?

        /// The archive's own indexes on mirrored tables, from `pragma index_list` / `index_info`.
        static func of(_ session: ReadSession, layout: ArchiveLayout) throws -> [IndexDefinition] {
            var found: [IndexDefinition] = []
            for table in layout.tables {
                var names: [(name: String, sql: String?)] = []
                try session.forEachRow("""
                    SELECT l.name, CASE WHEN l.partial THEN m.sql END FROM pragma_index_list(?) l
                    LEFT JOIN sqlite_schema m ON m.type = 'index' AND m.name = l.name WHERE l.origin = 'c'
                    """, [.text(table.name)]) {
                    names.append(($0.string(at: 0), $0.optionalString(at: 1)))
                }
                for (name, sql) in names {
                    var columns: [String] = []
                    try session.forEachRow("SELECT name FROM pragma_index_info(?) ORDER BY seqno", [.text(name)]) {
                        columns.append($0.string(at: 0))
                    }
                    found.append(IndexDefinition(name: name, table: table.name, columns: columns,
                                                 condition: sql.flatMap(partialIndexCondition)))
                }
            }
            return found
        }

        /// The condition of `CREATE INDEX … ON table(columns) WHERE condition`: what follows the column list's
        /// closing parenthesis and WHERE (the columns are plain names, so the first ")" closes the list), in
        /// PostgreSQL's words: SQLite's unary plus before a column (`+action`, which only keeps SQLite's planner off
        /// another index, schema 17) has no text operator there and is left out.
        static func partialIndexCondition(_ sql: String) -> String? {
            guard let close = sql.firstIndex(of: ")") else { return nil }
            let rest = sql[sql.index(after: close)...].trimmingCharacters(in: .whitespacesAndNewlines)
            guard rest.prefix(5).uppercased() == "WHERE", rest.count > 5 else { return nil }
            let condition = rest.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !condition.isEmpty else { return nil }
            var translated = "", inString = false, previous: Character = " "
            for (character, next) in zip(condition, condition.dropFirst().map(Optional.some) + [nil]) {
                if character == "'" { inString.toggle() }
                let unaryPlus = !inString && character == "+" && (next.map { $0.isLetter || $0 == "_" } ?? false)
                    && (previous == " " || previous == "(")
                if !unaryPlus { translated.append(character) }
                previous = character
            }
            return translated
        }
    }
}
