import Archiver

/// `status --from`: what the central store holds, per pushed archive, server and stream.
public struct StoreStatus: Sendable, Codable, Equatable {
    /// The members of this value and its parts that hold epoch seconds (written as ISO times by
    /// `status --from … --format json`).
    public static let timeKeys: Set<String> = ["firstPushedAt", "pushedAt", "lastRunStartedAt", "oldest", "newest"]
    public struct ArchiveEntry: Sendable, Codable, Equatable {
        public var archiveID: String
        /// The chain records pushed and the newest link: compare with `status` on the archive's machine.
        public var chain: ChainAnchor
        /// The archive's schema version at its last push.
        public var archiveSchema: Int
        public var firstPushedAt: Int64
        public var pushedAt: Int64
        public var instances: [InstanceEntry]
    }

    public struct InstanceEntry: Sendable, Codable, Equatable {
        public var name: String
        public var baseURL: String
        public var streams: [StreamEntry]
        /// The newest sync run pushed: id, result, start.
        public var lastRunID: Int64?
        public var lastRunResult: String?
        public var lastRunStartedAt: Int64?
    }

    public struct StreamEntry: Sendable, Codable, Equatable {
        public var name: String
        public var objects: Int
        public var versions: Int
        public var oldest: Int64?
        public var newest: Int64?
        public var gaps: Int
    }

    public var store: String
    public var archives: [ArchiveEntry]

    /// Reads the status in one snapshot.
    public static func read(from connection: PostgresConnection) throws -> StoreStatus {
        try CentralSchema.check(connection)
        let schema = CentralSchema.schemaName
        return try connection.transaction {
            try connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            var status = StoreStatus(store: connection.target, archives: [])
            let archives = try connection.query("""
                SELECT archive_id, chain_length, chain_head, archive_schema, first_pushed_at, pushed_at
                FROM \(schema).store_archives ORDER BY first_pushed_at, archive_id
                """).rows
            let hasTable = { (table: String) in try connection.scalar("SELECT to_regclass($1)::text", ["\(schema).\(table)"]) != nil }
            let present = try Set((["instances", "sync_runs", "gaps"] + ObjectKind.allCases.flatMap { [$0.currentTable, $0.versionTable] })
                .filter(hasTable))
            for row in archives {
                let id = row[0] ?? ""
                var entry = ArchiveEntry(archiveID: id,
                                         chain: ChainAnchor(length: Int64(row[1] ?? "") ?? 0,
                                                            head: row[2].flatMap(ArchivePush.bytes(fromBytea:)).map { Hex.string($0) } ?? ""),
                                         archiveSchema: Int(row[3] ?? "") ?? 0, firstPushedAt: Int64(row[4] ?? "") ?? 0,
                                         pushedAt: Int64(row[5] ?? "") ?? 0, instances: [])
                guard present.contains("instances") else { status.archives.append(entry); continue }
                for instance in try connection.query("SELECT id, name, base_url FROM \(schema).instances WHERE archive_id = $1 ORDER BY name",
                                                     [id]).rows {
                    let instanceID = instance[0] ?? ""
                    var item = InstanceEntry(name: instance[1] ?? "", baseURL: instance[2] ?? "", streams: [])
                    if present.contains("sync_runs"), let run = try connection.query("""
                        SELECT id, result, started_at FROM \(schema).sync_runs WHERE archive_id = $1 AND instance_id = $2
                        ORDER BY id DESC LIMIT 1
                        """, [id, instanceID]).rows.first {
                        item.lastRunID = Int64(run[0] ?? "")
                        item.lastRunResult = run[1]
                        item.lastRunStartedAt = Int64(run[2] ?? "")
                    }
                    for kind in ObjectKind.allCases where present.contains(kind.currentTable) && present.contains(kind.versionTable) {
                        let counts = try connection.query("""
                            SELECT count(*), min(c.creation_epoch), max(c.creation_epoch),
                                   (SELECT count(*) FROM \(schema).\(kind.versionTable) v JOIN \(schema).\(kind.currentTable) p
                                      ON p.archive_id = v.archive_id AND p.id = v.\(kind.parentColumn)
                                    WHERE v.archive_id = $1 AND p.instance_id = $2),
                                   \(present.contains("gaps") ? "(SELECT count(*) FROM \(schema).gaps g WHERE g.archive_id = $1 AND g.instance_id = $2 AND g.stream = $3)" : "0")
                            FROM \(schema).\(kind.currentTable) c WHERE c.archive_id = $1 AND c.instance_id = $2
                            """, [id, instanceID, kind.streamName]).rows.first ?? []
                        func value(_ index: Int) -> String? { index < counts.count ? counts[index] : nil }
                        item.streams.append(StreamEntry(name: kind.streamName, objects: Int(value(0) ?? "") ?? 0,
                                                        versions: Int(value(3) ?? "") ?? 0, oldest: value(1).flatMap { Int64($0) },
                                                        newest: value(2).flatMap { Int64($0) }, gaps: Int(value(4) ?? "") ?? 0))
                    }
                    entry.instances.append(item)
                }
                status.archives.append(entry)
            }
            return status
        }
    }
}
