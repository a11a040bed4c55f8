import Archiver

/// The archive's tables as the central store mirrors them, read from the archive's own schema
/// (`pragma table_info`, `pragma foreign_key_list`) so that a table or column added by a later
/// migration flows into PostgreSQL without a line here.
///
/// Each table is pushed by the rule that fits how the archive writes it:
/// - `chain`: rows are chain records (id = chain sequence): sent by sequence range (and, where the
///   archive changes columns outside the chain later, the quarantine, also sent whole like a snapshot).
/// - `chainChild`: rows belong to a chain record through a foreign key (task_log_lines), or are derived
///   from one and keyed by its sequence (`ArchiveSchema.chainKeyedTables`: event_fields): sent with it.
/// - `currentState`: one row per server object (has `api_id`), a chain table points at it, rewritten
///   only when a new version arrives: the rows that a batch's new versions point at are re-sent.
/// - `snapshot`: everything else (instances, sync runs, coverage, gaps, …): small, changed in place or
///   merged; sent whole when its content differs from what was last pushed.
public struct ArchiveLayout: Sendable, Equatable {
    public enum PushRule: Sendable, Equatable {
        case chain
        case chainChild(column: String)
        case currentState(parents: [ParentReference])
        case snapshot
    }

    /// A chain table's column that points at a current-state row.
    public struct ParentReference: Sendable, Equatable {
        public var chainTable: String
        public var column: String
    }

    public struct Column: Sendable, Equatable {
        public var name: String
        public var type: ColumnType
        public var notNull: Bool
    }

    /// SQLite's declared types, by affinity, mapped onto one PostgreSQL type each.
    public enum ColumnType: String, Sendable, Equatable {
        case integer = "bigint"
        case real = "double precision"
        case text = "text"
        case blob = "bytea"

        /// SQLite's affinity rules (section 3.1 of its datatype page), in their order.
        init(declared: String) {
            let type = declared.uppercased()
            if type.contains("INT") { self = .integer }
            else if type.contains("CHAR") || type.contains("CLOB") || type.contains("TEXT") { self = .text }
            else if type.contains("BLOB") || type.isEmpty { self = .blob }
            else if type.contains("REAL") || type.contains("FLOA") || type.contains("DOUB") { self = .real }
            else { self = .text }
        }
    }

    public struct Table: Sendable, Equatable {
        public var name: String
        public var columns: [Column]
        /// The primary key's columns, in key order (the archive id is put in front in PostgreSQL).
        public var primaryKey: [String]
        public var rule: PushRule

        public var columnList: String { columns.map(\.name).joined(separator: ", ") }
    }

    /// Not mirrored: the migration log and the id (the store has its own), the sync engine's opaque
    /// cursors, and SQLite's and FTS5's internal tables (PostgreSQL indexes text its own way).
    static let privateTables: Set<String> = ["schema_migrations", "archive_identity", "stream_state"]

    public var tables: [Table]

    public func table(_ name: String) -> Table? { tables.first { $0.name == name } }

    /// Reads the layout of an archive.
    public init(session: ReadSession) throws {
        let database = session
        var names: [String] = []
        var virtualTables: [String] = []
        try database.forEachRow("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name") { row in
            let name = row.string(at: 0)
            if row.string(at: 1).uppercased().hasPrefix("CREATE VIRTUAL TABLE") { virtualTables.append(name) }
            names.append(name)
        }
        let mirrored = names.filter { name in
            !name.hasPrefix("sqlite_") && !Self.privateTables.contains(name) && !virtualTables.contains(name)
                && !virtualTables.contains { name.hasPrefix($0 + "_") }   // FTS5 shadow tables
        }
        let chainTables = Set(ArchiveSchema.chainTables)
        var columns: [String: [Column]] = [:]
        var keys: [String: [String]] = [:]
        var references: [String: [(column: String, parent: String)]] = [:]
        for name in mirrored {
            var key: [(Int64, String)] = []
            try database.forEachRow("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid", [.text(name)]) { row in
                columns[name, default: []].append(Column(name: row.string(at: 0), type: ColumnType(declared: row.string(at: 1)),
                                                         notNull: row.int64(at: 2) != 0 || row.int64(at: 3) > 0))
                if row.int64(at: 3) > 0 { key.append((row.int64(at: 3), row.string(at: 0))) }
            }
            keys[name] = key.sorted { $0.0 < $1.0 }.map(\.1)
            try database.forEachRow("SELECT \"from\", \"table\" FROM pragma_foreign_key_list(?)", [.text(name)]) { row in
                references[name, default: []].append((row.string(at: 0), row.string(at: 1)))
            }
        }
        tables = mirrored.map { name in
            let rule: PushRule
            if chainTables.contains(name) {
                rule = .chain
            } else if let column = ArchiveSchema.chainKeyedTables[name] {
                rule = .chainChild(column: column)
            } else if let link = references[name]?.first(where: { chainTables.contains($0.parent) }) {
                rule = .chainChild(column: link.column)
            } else {
                let parents = chainTables.sorted().flatMap { chainTable in
                    (references[chainTable] ?? []).filter { $0.parent == name }
                        .map { ParentReference(chainTable: chainTable, column: $0.column) }
                }
                let isObject = columns[name]?.contains { $0.name == "api_id" } ?? false
                rule = !parents.isEmpty && isObject ? .currentState(parents: parents) : .snapshot
            }
            return Table(name: name, columns: columns[name] ?? [], primaryKey: keys[name] ?? [], rule: rule)
        }
    }
}
