import Archiver
import Crypto
import Foundation

/// What one push did.
public struct PushReport: Sendable, Equatable, Codable {
    public var archiveID: String
    /// Chain records PostgreSQL held for the archive before and after the push.
    public var chainBefore: Int64
    public var chainAfter: Int64
    /// Rows sent, per table (tables with nothing to send are absent).
    public var rowsSent: [String: Int]
    /// Transactions committed.
    public var batches: Int

    public var totalRows: Int { rowsSent.values.reduce(0, +) }
}

/// `push`: copies an archive into the central store incrementally.
///
/// The cursor is the archive's chain sequence, kept in PostgreSQL (`store_archives.chain_length`):
/// each batch sends the chain records after it (and the current-state rows they changed) and moves
/// it in the same transaction, so a push killed at any moment leaves PostgreSQL at a batch boundary
/// and the next one continues from there. The archive is read in one snapshot (the session's), so
/// a sync writing meanwhile is seen either whole or not at all.
public struct ArchivePush {
    public let archive: ReadSession
    public let connection: PostgresConnection
    /// Chain records per transaction.
    public var batchSize: Int64 = 20_000
    /// Called after each committed batch with the chain records pushed so far and the archive's total.
    public var progress: (@Sendable (Int64, Int64) -> Void)?

    public init(archive: ReadSession, connection: PostgresConnection) {
        self.archive = archive
        self.connection = connection
    }

    private struct StoredTable {
        var columns: String
        var digest: [UInt8]?
    }

    public func run() throws -> PushReport {
        let layout = try ArchiveLayout(session: archive)
        let archiveID = try archive.archiveID()
        // Inlined into SQL below (DECLARE and COPY take no parameters): the id is hex by construction.
        guard !archiveID.isEmpty, archiveID.allSatisfy(\.isHexDigit) else {
            throw SQLiteError(kind: .notAnArchive, code: 0, message: "the archive id \(archiveID) is not hex", context: archive.path)
        }
        try CentralSchema.prepare(connection, for: layout, indexes: try CentralSchema.IndexDefinition.of(archive, layout: layout))

        let head = try archive.chainHead()
        let schemaVersion = try archive.schemaVersion()
        let now = String(Int64(Date().timeIntervalSince1970))
        try connection.query("""
            INSERT INTO \(CentralSchema.schemaName).store_archives VALUES ($1, 0, $2, $3, $4, $4) ON CONFLICT (archive_id) DO NOTHING
            """, [archiveID, Self.byteaLiteral([UInt8](repeating: 0, count: 32)), String(schemaVersion), now])
        let before = try storedCursor(archiveID)
        try checkSameChain(archiveID: archiveID, stored: before, head: head)

        var report = PushReport(archiveID: archiveID, chainBefore: before.length, chainAfter: before.length, rowsSent: [:], batches: 0)
        var stored: [String: StoredTable] = [:]
        for row in try connection.query("SELECT table_name, columns, digest FROM \(CentralSchema.schemaName).store_tables WHERE archive_id = $1",
                                        [archiveID]).rows {
            guard let name = row[0], let columns = row[1] else { continue }
            stored[name] = StoredTable(columns: columns, digest: row[2].flatMap(Self.bytes(fromBytea:)))
        }

        // A table whose columns changed since the archive's last push (a migration added one, perhaps
        // filling it for old rows), or that is new to the store (a migration added it and filled it for
        // records already pushed, as schema 7 did event_fields): its rows up to the cursor are sent, whole.
        let widened = before.length == 0 ? [] : layout.tables.filter { table in
            table.rule != .snapshot && stored[table.name]?.columns != table.columnList
        }
        if !widened.isEmpty {
            try connection.transaction {
                try lockCursor(archiveID, expecting: before.length)
                for table in widened {
                    try connection.query("DELETE FROM \(CentralSchema.qualified(table.name)) WHERE archive_id = $1", [archiveID])
                    report.rowsSent[table.name, default: 0] += try send(table, archiveID: archiveID,
                                                                        rows: rowsUpTo(table, before.length))
                    try recordTable(table, archiveID: archiveID, digest: nil)
                }
            }
            report.batches += 1
        }

        // Search documents of a store from before they existed (or made another way): remade for
        // everything already pushed; the batches below send those of the rows they change.
        var tokenizers: [ObjectKind: SearchTokenizer] = [:]
        for kind in ObjectKind.allCases where layout.table(kind.currentTable) != nil {
            tokenizers[kind] = try SearchTokenizer(kind: kind)
        }
        let staleDocuments = ObjectKind.allCases.filter {
            tokenizers[$0] != nil && stored[StoreSearchDocuments.table($0)]?.columns != StoreSearchDocuments.format
        }
        if !staleDocuments.isEmpty {
            try connection.transaction {
                try lockCursor(archiveID, expecting: before.length)
                for kind in staleDocuments {
                    guard let tokenizer = tokenizers[kind] else { continue }
                    let table = StoreSearchDocuments.table(kind)
                    try connection.query("DELETE FROM \(CentralSchema.qualified(table)) WHERE archive_id = $1", [archiveID])
                    let pushed = "(SELECT v.id FROM \(kind.versionTable) v WHERE v.\(kind.parentColumn) = \(kind.currentTable).id "
                        + "AND v.version = \(kind.currentTable).version) <= ?1"
                    let sent = try sendSearchDocuments(kind, archiveID: archiveID, whereClause: pushed, values: [.integer(before.length)],
                                                       tokenizer: tokenizer)
                    if sent > 0 { report.rowsSent[table, default: 0] += sent }
                    try connection.query("""
                        INSERT INTO \(CentralSchema.schemaName).store_tables VALUES ($1, $2, $3, NULL)
                        ON CONFLICT (archive_id, table_name) DO UPDATE SET columns = excluded.columns, digest = NULL
                        """, [archiveID, table, StoreSearchDocuments.format])
                }
            }
            report.batches += 1
        }

        // Chain records, batch by batch.
        var low = before.length
        while low < head.length {
            let high = min(low + batchSize, head.length)
            guard let link = try archive.chainLink(at: high) else {
                throw SQLiteError(kind: .other, code: 0, message: "chain record \(high) is missing: run 'cloudron-audit verify'", context: archive.path)
            }
            try connection.transaction {
                try lockCursor(archiveID, expecting: low)
                for table in layout.tables {
                    let rows: RowSelection
                    switch table.rule {
                    case .chain: rows = RowSelection(whereClause: "id > ?1 AND id <= ?2", values: [.integer(low), .integer(high)])
                    case let .chainChild(column):
                        rows = RowSelection(whereClause: "\(CentralSchema.quoted(column)) > ?1 AND \(CentralSchema.quoted(column)) <= ?2",
                                            values: [.integer(low), .integer(high)])
                    case let .currentState(parents):
                        let changed = parents.map {
                            "SELECT \(CentralSchema.quoted($0.column)) FROM \(CentralSchema.quoted($0.chainTable)) WHERE id > ?1 AND id <= ?2"
                        }.joined(separator: " UNION ")
                        rows = RowSelection(whereClause: "id IN (\(changed))", values: [.integer(low), .integer(high)])
                        // COPY cannot upsert: the store's rows of these objects go first, then their new rows (and
                        // search documents) are copied straight into the tables.
                        let ids = try selectedIDs(table, rows)
                        guard !ids.isEmpty else { continue }
                        try deleteRows(ids, from: table.name, archiveID: archiveID)
                        let sent = try send(table, archiveID: archiveID, rows: rows)
                        if sent > 0 { report.rowsSent[table.name, default: 0] += sent }
                        if let kind = ObjectKind.allCases.first(where: { $0.currentTable == table.name }), let tokenizer = tokenizers[kind] {
                            try deleteRows(ids, from: StoreSearchDocuments.table(kind), archiveID: archiveID)
                            let documents = try sendSearchDocuments(kind, archiveID: archiveID, whereClause: rows.whereClause,
                                                                    values: rows.values, tokenizer: tokenizer)
                            if documents > 0 { report.rowsSent[StoreSearchDocuments.table(kind), default: 0] += documents }
                        }
                        continue
                    case .snapshot: continue
                    }
                    let sent = try send(table, archiveID: archiveID, rows: rows)
                    if sent > 0 { report.rowsSent[table.name, default: 0] += sent }
                }
                for table in layout.tables where table.rule != .snapshot && stored[table.name]?.columns != table.columnList {
                    try recordTable(table, archiveID: archiveID, digest: nil)
                    stored[table.name] = StoredTable(columns: table.columnList, digest: nil)
                }
                try connection.query("""
                    UPDATE \(CentralSchema.schemaName).store_archives SET chain_length = $2, chain_head = $3, archive_schema = $4, pushed_at = $5
                    WHERE archive_id = $1
                    """, [archiveID, String(high), Self.byteaLiteral(link), String(schemaVersion), now])
            }
            report.batches += 1
            report.chainAfter = high
            progress?(high, head.length)
            low = high
        }

        // Snapshot tables, each sent whole when its content differs from the last push's.
        var changedSnapshots: [(ArchiveLayout.Table, [UInt8], [UInt8])] = []
        // Chain tables whose rows change in place later (outside the chain) are sent whole like them too.
        for table in layout.tables where table.rule == .snapshot || (table.rule == .chain && ArchiveSchema.chainRowsChangeInPlace(table.name)) {
            var buffer = CopyBuffer()
            try encode(table, archiveID: archiveID, rows: RowSelection(whereClause: "1", values: []), into: &buffer)
            let digest = Array(SHA256.hash(data: Array(table.columnList.utf8) + [0] + buffer.encoded))
            if stored[table.name]?.digest != digest { changedSnapshots.append((table, buffer.encoded, digest)) }
            if buffer.rows > 0, stored[table.name]?.digest != digest { report.rowsSent[table.name, default: 0] += buffer.rows }
        }
        if !changedSnapshots.isEmpty {
            try connection.transaction {
                try lockCursor(archiveID, expecting: report.chainAfter)
                for (table, encoded, digest) in changedSnapshots {
                    try connection.query("DELETE FROM \(CentralSchema.qualified(table.name)) WHERE archive_id = $1", [archiveID])
                    try connection.copyIn(copyStatement(table), encoded: encoded)
                    try recordTable(table, archiveID: archiveID, digest: digest)
                }
            }
            report.batches += 1
        }
        return report
    }

    // MARK: Cursor

    private func storedCursor(_ archiveID: String) throws -> (length: Int64, link: [UInt8]) {
        let row = try connection.query("SELECT chain_length, chain_head FROM \(CentralSchema.schemaName).store_archives WHERE archive_id = $1",
                                       [archiveID]).rows.first
        guard let row, let length = row[0].flatMap({ Int64($0) }), let link = row[1].flatMap(Self.bytes(fromBytea:)) else {
            throw CentralStoreError(kind: .server, message: "no cursor row for archive \(archiveID)")
        }
        return (length, link)
    }

    /// Refuses to mix two archives under one id (a copied file that both went on syncing, or an older
    /// backup of it restored): PostgreSQL's head must be a record of this archive's chain.
    private func checkSameChain(archiveID: String, stored: (length: Int64, link: [UInt8]), head: (length: Int64, link: [UInt8])) throws {
        let ours = stored.length <= head.length ? try archive.chainLink(at: stored.length) : nil
        guard ours == stored.link else {
            throw CentralStoreError(kind: .badTarget, message: stored.length > head.length
                ? "PostgreSQL holds \(stored.length) chain records for archive \(archiveID), this archive only \(head.length): an older copy of the archive? Nothing pushed"
                : "PostgreSQL holds another chain under archive id \(archiveID) (a copy of this archive that went its own way?): nothing pushed")
        }
    }

    /// Locks the archive's cursor row for this transaction and checks nobody moved it meanwhile.
    private func lockCursor(_ archiveID: String, expecting length: Int64) throws {
        let found = try connection.scalar("SELECT chain_length FROM \(CentralSchema.schemaName).store_archives WHERE archive_id = $1 FOR UPDATE",
                                          [archiveID])
        guard found == String(length) else {
            throw CentralStoreError(kind: .busy, message: "another push of archive \(archiveID) ran meanwhile: run push again")
        }
    }

    private func recordTable(_ table: ArchiveLayout.Table, archiveID: String, digest: [UInt8]?) throws {
        try connection.query("""
            INSERT INTO \(CentralSchema.schemaName).store_tables VALUES ($1, $2, $3, $4)
            ON CONFLICT (archive_id, table_name) DO UPDATE SET columns = excluded.columns, digest = excluded.digest
            """, [archiveID, table.name, table.columnList, digest.map(Self.byteaLiteral)])
    }

    // MARK: Rows

    /// Which rows of a table to send: a WHERE clause over the archive's table with ?1, ?2 bound.
    private struct RowSelection {
        var whereClause: String
        var values: [SQLValue]
    }

    private func rowsUpTo(_ table: ArchiveLayout.Table, _ length: Int64) -> RowSelection {
        switch table.rule {
        case .chain: RowSelection(whereClause: "id <= ?1", values: [.integer(length)])
        case let .chainChild(column): RowSelection(whereClause: "\(CentralSchema.quoted(column)) <= ?1", values: [.integer(length)])
        case .currentState, .snapshot: RowSelection(whereClause: "1", values: [])
        }
    }

    private func copyStatement(_ table: ArchiveLayout.Table) -> String {
        let columns = (["archive_id"] + table.columns.map(\.name)).map(CentralSchema.quoted).joined(separator: ", ")
        return "COPY \(CentralSchema.qualified(table.name)) (\(columns)) FROM STDIN"
    }

    private func send(_ table: ArchiveLayout.Table, archiveID: String, rows: RowSelection) throws -> Int {
        try connection.copyIn(copyStatement(table)) { buffer in
            try encode(table, archiveID: archiveID, rows: rows, into: &buffer)
        }
    }

    /// The ids of the rows `rows` picks from a current-state table of the archive.
    private func selectedIDs(_ table: ArchiveLayout.Table, _ rows: RowSelection) throws -> [Int64] {
        var ids: [Int64] = []
        try archive.forEachRow("SELECT id FROM \(CentralSchema.quoted(table.name)) WHERE \(rows.whereClause)", rows.values) {
            ids.append($0.int64(at: 0))
        }
        return ids
    }

    /// Deletes the store's rows of objects about to be sent again (their current state, their search document).
    private func deleteRows(_ ids: [Int64], from table: String, archiveID: String) throws {
        try connection.query("DELETE FROM \(CentralSchema.qualified(table)) WHERE archive_id = $1 AND id = ANY($2::bigint[])",
                             [archiveID, "{" + ids.map(String.init).joined(separator: ",") + "}"])
    }

    /// Reads rows from the archive and encodes them for COPY, each value by its column's mapped type.
    private func encode(_ table: ArchiveLayout.Table, archiveID: String, rows: RowSelection, into buffer: inout CopyBuffer) throws {
        let order = table.primaryKey.isEmpty ? "rowid" : table.primaryKey.map(CentralSchema.quoted).joined(separator: ", ")
        let statement = try archive.prepare("""
            SELECT \(table.columns.map { CentralSchema.quoted($0.name) }.joined(separator: ", ")) FROM \(CentralSchema.quoted(table.name))
            WHERE \(rows.whereClause) ORDER BY \(order)
            """)
        try statement.bind(rows.values)
        let types = table.columns.map(\.type)
        while try statement.step() {
            buffer.appendText(archiveID)
            for (offset, type) in types.enumerated() {
                let index = Int32(offset)
                switch (statement.storageClass(at: index), type) {
                case (.null, _): buffer.appendNull()
                case (.integer, .integer): buffer.appendInteger(statement.int64(at: index))
                case (.integer, .real), (.real, .real), (.real, .integer): buffer.appendReal(statement.double(at: index))
                case (_, .blob): statement.withUnsafeBytes(at: index) { buffer.appendBytea($0) }
                default: statement.withUnsafeBytes(at: index) { buffer.appendText($0) }
                }
            }
            buffer.endRow()
        }
    }

    // MARK: bytea

    static func byteaLiteral(_ bytes: [UInt8]) -> String { "\\x" + Hex.string(bytes) }

    /// PostgreSQL's text form of bytea (`\x` and hex digits).
    static func bytes(fromBytea text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((utf8.count - 2) / 2)
        var index = 2
        while index < utf8.count {
            guard let high = hexValue(utf8[index]), let low = hexValue(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
