import Archiver

/// `verify --from`: recomputes every pushed archive's hash chain from the rows in PostgreSQL, with
/// the same replay (`ChainReplay`) and canonical bytes as `verify` on the archive, and checks the
/// chain heads its sync runs recorded and the head the last push left.
public struct StoreVerification {
    public struct ArchiveResult: Sendable {
        public var archiveID: String
        public var report: VerificationReport
    }

    public let connection: PostgresConnection
    /// Rows fetched per round trip from each table's cursor.
    public var fetchSize = 5_000

    public init(connection: PostgresConnection) { self.connection = connection }

    public func run() throws -> [ArchiveResult] {
        try CentralSchema.check(connection)
        let schema = CentralSchema.schemaName
        return try connection.transaction {
            // One snapshot for the whole check, so a push committing meanwhile is seen whole or not at all.
            try connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            let archives = try connection.query("SELECT archive_id, chain_length, chain_head FROM \(schema).store_archives ORDER BY archive_id").rows
            return try archives.compactMap { row -> ArchiveResult? in
                guard let id = row[0], id.allSatisfy(\.isHexDigit), let length = row[1].flatMap({ Int64($0) }) else { return nil }
                var report = try verify(archiveID: id)
                if report.isIntact, report.chainLength != length || report.chainHead != (row[2].flatMap(ArchivePush.bytes(fromBytea:)).map { Hex.string($0) } ?? "") {
                    report.problems.append(.init(check: .anchor, table: "store_archives", detail:
                        "the last push recorded \(length) chain records and another head; the store has \(report.chainLength)"))
                }
                return ArchiveResult(archiveID: id, report: report)
            }
        }
    }

    /// The chain of one archive, merged from the cursors over its chain tables in sequence order.
    private func verify(archiveID: String) throws -> VerificationReport {
        let schema = CentralSchema.schemaName
        var anchors: [ChainReplay.Anchor] = []
        if try connection.scalar("SELECT to_regclass($1)::text", ["\(schema).sync_runs"]) != nil {
            for row in try connection.query("""
                SELECT id, chain_length, chain_head FROM \(schema).sync_runs WHERE archive_id = $1 AND chain_length IS NOT NULL
                """, [archiveID]).rows {
                guard let run = row[0].flatMap({ Int64($0) }), let length = row[1].flatMap({ Int64($0) }) else { continue }
                anchors.append(.init(run: run, length: length, head: row[2].flatMap(ArchivePush.bytes(fromBytea:)) ?? []))
            }
        }
        var replay = ChainReplay(anchors: anchors)
        var cursors: [StoreChainCursor] = []
        for table in ArchiveSchema.chainTables.sorted() {
            guard try connection.scalar("SELECT to_regclass($1)::text", ["\(schema).\(table)"]) != nil else { continue }
            cursors.append(try StoreChainCursor(table: table, archiveID: archiveID, connection: connection, fetchSize: fetchSize))
        }
        // The tables share one sequence: always feed the cursor holding the lowest number.
        while replay.isIntact, let next = cursors.min(by: { ($0.sequence ?? .max) < ($1.sequence ?? .max) }),
              next.sequence != nil {
            try next.feed(into: &replay)
        }
        replay.finish()
        for cursor in cursors { try cursor.close() }
        return VerificationReport(chainLength: replay.length, chainHead: replay.headHex, problems: replay.problems, skipped: [])
    }
}

/// Reads one chain table of one archive in sequence order through a server-side cursor, joined to
/// its parent as `verify` on the archive joins it (the parent's instance and API id are hashed too).
private final class StoreChainCursor {
    let table: String
    private let connection: PostgresConnection
    private let name: String
    private let fetchSize: Int
    private var rows: [[String?]] = []
    private var position = 0
    private var exhausted = false
    private var lines: LineCursor?

    var sequence: Int64? { position < rows.count ? rows[position][0].flatMap { Int64($0) } : nil }

    init(table: String, archiveID: String, connection: PostgresConnection, fetchSize: Int) throws {
        self.table = table
        self.connection = connection
        self.fetchSize = fetchSize
        name = CentralSchema.quoted("verify_" + table)
        let schema = CentralSchema.schemaName
        let select: String
        if table == "task_logs" {
            select = """
                SELECT l.id, l.task_id, t.instance_id, t.api_id, l.rotated, l.line_count, l.content_hash,
                       l.first_seen_at, l.run_id, l.chain_link
                FROM \(schema).task_logs l LEFT JOIN \(schema).tasks t ON t.archive_id = l.archive_id AND t.id = l.task_id
                WHERE l.archive_id = '\(archiveID)' ORDER BY l.id
                """
            lines = try LineCursor(archiveID: archiveID, connection: connection, fetchSize: fetchSize)
        } else if table == "quarantine" {
            select = """
                SELECT id, instance_id, stream, api_id, reason, raw, content_hash, first_seen_at, run_id, chain_link, place_epoch
                FROM \(schema).quarantine WHERE archive_id = '\(archiveID)' ORDER BY id
                """
        } else if table == "alarms" {
            select = """
                SELECT id, instance_id, stream, api_id, kind, detail, noticed_at, run_id, chain_link
                FROM \(schema).alarms WHERE archive_id = '\(archiveID)' ORDER BY id
                """
        } else {
            let (parentTable, parentColumn) = ArchiveSchema.chainParent(of: table) ?? ("tasks", "task_id")
            select = """
                SELECT v.id, v.\(parentColumn), p.instance_id, p.api_id, v.version, v.raw, v.content_hash,
                       v.creation_epoch, v.first_seen_at, v.run_id, v.chain_link
                FROM \(schema).\(table) v LEFT JOIN \(schema).\(parentTable) p ON p.archive_id = v.archive_id AND p.id = v.\(parentColumn)
                WHERE v.archive_id = '\(archiveID)' ORDER BY v.id
                """
        }
        try connection.execute("DECLARE \(name) NO SCROLL CURSOR FOR \(select)")
        try fetch()
    }

    private func fetch() throws {
        guard !exhausted else { rows = []; position = 0; return }
        rows = try connection.query("FETCH \(fetchSize) FROM \(name)").rows
        position = 0
        exhausted = rows.count < fetchSize
    }

    func feed(into replay: inout ChainReplay) throws {
        let row = rows[position]
        func int(_ index: Int) -> Int64 { row[index].flatMap { Int64($0) } ?? 0 }
        func text(_ index: Int) -> [UInt8] { Array((row[index] ?? "").utf8) }
        func blob(_ index: Int) -> [UInt8] { row[index].flatMap(ArchivePush.bytes(fromBytea:)) ?? [] }
        let apiID = row[3] ?? ""
        if table == "quarantine" {
            replay.feedQuarantine(id: int(0), instanceID: int(1), stream: row[2] ?? "", apiID: row[3], reason: row[4] ?? "",
                                  raw: text(5), contentHash: blob(6), placeEpoch: row[10].flatMap { Int64($0) },
                                  firstSeenAt: int(7), runID: int(8), link: blob(9))
        } else if table == "alarms" {
            replay.feedAlarm(id: int(0), instanceID: int(1), stream: row[2] ?? "", kind: row[4] ?? "", apiID: apiID,
                             detail: row[5] ?? "", noticedAt: int(6), runID: int(7), link: blob(8))
        } else if let lines {
            let logLines = try lines.lines(of: int(0))
            replay.feedTaskLog(id: int(0), taskRowID: int(1), instanceID: int(2), apiID: apiID, rotated: int(4),
                               lineCount: int(5), contentHash: blob(6), firstSeenAt: int(7), runID: int(8), lines: logLines,
                               link: blob(9))
        } else {
            replay.feedVersion(table: table, id: int(0), parentID: int(1), instanceID: int(2), apiID: apiID, version: int(4),
                               raw: text(5), contentHash: blob(6), creationEpoch: int(7), firstSeenAt: int(8), runID: int(9),
                               link: blob(10))
        }
        position += 1
        if position == rows.count { try fetch() }
    }

    func close() throws {
        try connection.execute("CLOSE \(name)")
        try lines?.close()
    }

    /// task_log_lines of the archive in (log_id, line_no) order, consumed log by log.
    private final class LineCursor {
        private let connection: PostgresConnection
        private let fetchSize: Int
        private var rows: [[String?]] = []
        private var position = 0
        private var exhausted = false

        init(archiveID: String, connection: PostgresConnection, fetchSize: Int) throws {
            self.connection = connection
            self.fetchSize = fetchSize
            try connection.execute("""
                DECLARE verify_task_log_lines NO SCROLL CURSOR FOR
                SELECT log_id, line_no, timestamp_us, message, raw FROM \(CentralSchema.schemaName).task_log_lines
                WHERE archive_id = '\(archiveID)' ORDER BY log_id, line_no
                """)
        }

        private var current: [String?]? {
            get throws {
                if position == rows.count {
                    guard !exhausted else { return nil }
                    rows = try connection.query("FETCH \(fetchSize) FROM verify_task_log_lines").rows
                    position = 0
                    exhausted = rows.count < fetchSize
                    if rows.isEmpty { return nil }
                }
                return rows[position]
            }
        }

        /// The lines of log `id`; lines of logs before it (orphans) are passed over.
        func lines(of id: Int64) throws -> [ChainReplay.LogLine] {
            var found: [ChainReplay.LogLine] = []
            while let row = try current, let logID = row[0].flatMap({ Int64($0) }), logID <= id {
                if logID == id {
                    found.append(.init(lineNo: row[1].flatMap { Int64($0) } ?? 0, timestampMicroseconds: row[2].flatMap { Int64($0) } ?? 0,
                                       message: row[3] ?? "", raw: Array((row[4] ?? "").utf8)))
                }
                position += 1
            }
            return found
        }

        func close() throws { try connection.execute("CLOSE verify_task_log_lines") }
    }
}
