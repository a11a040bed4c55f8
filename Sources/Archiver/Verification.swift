import CSQLite

/// What `verify` found. Intact when `problems` is empty; otherwise the first problem names the first
/// broken record (table, rowid, API id).
public struct VerificationReport: Sendable, Codable, Equatable {
    public struct Problem: Sendable, Codable, Equatable, CustomStringConvertible {
        public enum Check: String, Sendable, Codable {
            /// PRAGMA integrity_check and foreign_key_check.
            case integrity
            /// An FTS5 index: its structure (FTS5's 'integrity-check'), and its content against the text recomputed from each object's current version.
            case fullTextIndex
            /// A current-state row disagrees with its latest version.
            case currentState
            /// A version's extracted fields (`event_fields`) disagree with its raw JSON, or are missing.
            case extractedFields
            /// The hash chain over the archived records.
            case chain
            /// A chain head recorded by a sync run or a witness does not match (or lies beyond) the chain.
            case anchor
            /// A signed head is missing, does not verify, or disagrees with its run.
            case signature
        }

        public var check: Check
        public var table: String?
        public var rowid: Int64?
        public var apiID: String?
        public var detail: String

        public init(check: Check, table: String? = nil, rowid: Int64? = nil, apiID: String? = nil, detail: String) {
            self.check = check
            self.table = table
            self.rowid = rowid
            self.apiID = apiID
            self.detail = detail
        }

        public var description: String {
            var place = ""
            if let table { place += " \(table)" }
            if let rowid { place += " rowid \(rowid)" }
            if let apiID { place += " (id \(apiID))" }
            return "\(check.rawValue):\(place)\(place.isEmpty ? "" : ":") \(detail)".replacingNewlines()
        }
    }

    /// Number of chain records checked (the chain's length when intact).
    public var chainLength: Int64
    /// Hex of the newest verified link (32 zero bytes for an empty archive).
    public var chainHead: String
    public var problems: [Problem]
    /// Checks that could not run (e.g. the FTS check on a file that cannot be opened for writing).
    public var skipped: [String]
    /// The checks that ran, in their order.
    public var checks: [Problem.Check]
    /// nil for a full verification; for an incremental one, the recorded full verification it continues:
    /// only the chain records after `base.chainLength` were checked (see `Archive.verify(since:)`).
    public var base: RecordedVerification?

    public init(chainLength: Int64, chainHead: String, problems: [Problem], skipped: [String],
                checks: [Problem.Check] = [], base: RecordedVerification? = nil) {
        self.chainLength = chainLength
        self.chainHead = chainHead
        self.problems = problems
        self.skipped = skipped
        self.checks = checks
        self.base = base
    }

    public var isIntact: Bool { problems.isEmpty }
    public var firstProblem: Problem? { problems.first }
    public var isIncremental: Bool { base != nil }

    /// The chain records this check covered, by sequence number: all of them for a full one, those
    /// archived after its base for an incremental one (empty when nothing was).
    public var checkedRecords: ClosedRange<Int64>? {
        let first = (base?.chainLength ?? 0) + 1
        return first <= chainLength ? first ... chainLength : nil
    }

    /// What this check did not look at: the checks that could not run, and for an incremental check what
    /// only a full one covers.
    public var unchecked: [String] {
        skipped + (isIncremental ? Self.leftToFullVerification : [])
    }

    /// What an incremental check leaves to the next full one, in the words `report --all`'s manifest uses.
    public static let leftToFullVerification = [
        "records up to the recorded full verification: only that the chain still has the recorded head link at its length "
            + "(a change to an older record that leaves the stored links untouched is found by the next full verify)",
        "integrity: SQLite's integrity_check and foreign_key_check read the whole file",
        "fullTextIndex: FTS5's integrity-check of each index's structure reads the whole index; of the objects changed "
            + "since, each one's entry and its token counts per column are compared with its text, not the terms themselves "
            + "(FTS5 lists a row's terms only by reading the whole index)",
        "currentState, extractedFields, fullTextIndex: rows of objects that have no version since the recorded verification",
    ]
}

extension Archive {
    /// Checks the archive: SQLite's integrity and foreign keys, each FTS index against its table,
    /// each current-state row against its latest version, and the hash chain (including the heads
    /// recorded by sync runs). With `signedHeads`, also every signed head and witness line, and that the
    /// chain still reaches each of them. Throws only when the file cannot be read at all.
    public func verify(signedHeads: SignedHeadCheck? = nil) throws -> VerificationReport {
        try database.serialized {
            var report = VerificationReport(chainLength: 0, chainHead: ChainHead.genesis.link.hexString, problems: [], skipped: [],
                                            checks: [.integrity])
            try checkIntegrity(into: &report)
            guard report.problems.isEmpty else { return report }
            checkFullText(into: &report)
            var claims: [HeadClaim] = []
            var signatureProblems: [VerificationReport.Problem] = []
            if let signedHeads {
                report.checks.append(.signature)
                do { claims = try checkSignedHeads(signedHeads, problems: &signatureProblems) } catch {
                    signatureProblems.append(.init(check: .signature, detail: "could not run: \(error)"))
                }
            }
            try checkRecords(after: ChainHead.genesis, claims: claims, into: &report)
            checkFullTextContent(into: &report)
            report.problems += signatureProblems
            return report
        }
    }

    /// Checks only what was archived after a recorded full verification `base` (which the caller found
    /// intact, and whose head link the chain still has at its length): the hash chain replayed from that
    /// link over the records after it, the heads recorded by sync runs at or beyond it, and the
    /// current-state rows, extracted fields and full-text entries of the objects that gained a version since.
    /// Reads what was added, not the archive: what it leaves to a full verification is
    /// `VerificationReport.leftToFullVerification`.
    public func verify(since base: RecordedVerification) throws -> VerificationReport {
        try database.serialized {
            var report = VerificationReport(chainLength: base.chainLength, chainHead: base.chainHead, problems: [], skipped: [],
                                            base: base)
            guard let link = [UInt8](hex: base.chainHead) else {
                report.problems.append(.init(check: .chain, table: RecordedVerification.table, rowid: base.id,
                                             detail: "the recorded chain head is not hex"))
                return report
            }
            try checkRecords(after: ChainHead(length: base.chainLength, link: link), claims: [], into: &report)
            report.checks.append(.fullTextIndex)
            for kind in ObjectKind.allCases {
                do {
                    if let problem = try compareFullTextOfChangedRows(of: kind, after: base.chainLength) {
                        report.problems.append(problem)
                    }
                } catch {
                    report.problems.append(.init(check: .fullTextIndex, table: kind.ftsTable,
                                                 detail: "could not compare with the text of the raw JSON: \(error)"))
                }
            }
            return report
        }
    }

    /// The checks a full and an incremental verification share, over the chain records after `start`: the
    /// chain (and the heads runs recorded), then the current state and extracted fields of what they hold.
    private func checkRecords(after start: ChainHead, claims: [HeadClaim], into report: inout VerificationReport) throws {
        report.checks += [.chain, .anchor, .currentState, .extractedFields]
        do { try checkChain(after: start, claims: claims, into: &report) } catch {
            report.problems.append(.init(check: .chain, detail: "could not run: \(error)"))
        }
        do { try checkCurrentState(after: start.length, into: &report) } catch {
            report.problems.append(.init(check: .currentState, detail: "could not run: \(error)"))
        }
        do { try checkExtractedFields(after: start.length, into: &report) } catch {
            report.problems.append(.init(check: .extractedFields, detail: "could not run: \(error)"))
        }
    }

    private func checkIntegrity(into report: inout VerificationReport) throws {
        var messages: [String] = []
        try database.forEachRow("PRAGMA integrity_check") { messages.append($0.string(at: 0)) }
        if messages != ["ok"] {
            for message in messages.prefix(10) {
                report.problems.append(.init(check: .integrity, detail: message))
            }
            return
        }
        try database.forEachRow("PRAGMA foreign_key_check") { row in
            report.problems.append(.init(check: .integrity, table: row.string(at: 0), rowid: row.optionalInt64(at: 1),
                                         detail: "refers to a missing \(row.string(at: 2)) row"))
        }
    }

    /// Each FTS index's own structure (FTS5's 'integrity-check'); its content is compared with the raw JSON
    /// after the chain (`checkFullTextContent`). The integrity-check is an INSERT, which a read-only
    /// connection refuses; in read-only mode it runs on a second, read-write connection that executes
    /// nothing else.
    private func checkFullText(into report: inout VerificationReport) {
        guard let connection = fullTextConnection(into: &report) else { return }
        report.checks.append(.fullTextIndex)
        for kind in ObjectKind.allCases {
            let table = kind.ftsTable
            do {
                try connection.execute("INSERT INTO \(table)(\(table), rank) VALUES ('integrity-check', 0)")
            } catch let error as SQLiteError where error.kind != .notADatabase {
                // Not a verdict on the index (e.g. SQLite quietly opened a write-protected file read-only).
                report.skipped.append("full-text index check of \(table): \(error.message)")
            } catch {
                report.problems.append(.init(check: .fullTextIndex, table: table, detail: "index is damaged: \(error)"))
            }
        }
    }

    /// Each FTS index's content against the text recomputed from every object's current version
    /// (`compareFullText`). FTS5's own 'integrity-check' of the content cannot do it since schema 11: the
    /// events table no longer holds the text. After the chain, like the current state: a version altered
    /// behind the chain's back is reported as such first.
    private func checkFullTextContent(into report: inout VerificationReport) {
        guard report.skipped.allSatisfy({ !$0.hasPrefix("full-text index check") }),
              let connection = fullTextConnection(into: &report) else { return }
        for kind in ObjectKind.allCases {
            do {
                if let problem = try compareFullText(of: kind, on: connection) { report.problems.append(problem) }
            } catch {
                report.problems.append(.init(check: .fullTextIndex, table: kind.ftsTable,
                                             detail: "could not compare with the text of the raw JSON: \(error)"))
            }
        }
    }

    /// A read-write connection for the FTS checks (this one when it is); nil, with a note, when there is none.
    private func fullTextConnection(into report: inout VerificationReport) -> Database? {
        if database.mode == .readWrite { return database }
        do {
            return try Database(path: path, mode: .readWrite)
        } catch {
            report.skipped.append("full-text index check (needs write access to the file: \(error))")
            return nil
        }
    }

    /// Indexes the text that ingest indexed for each object (recomputed from its latest version's raw JSON by
    /// the same derivation) into a scratch FTS5 table with the index's columns, then compares both indexes in
    /// one pass: every token instance (term, row, column, position: fts5vocab 'instance', which lists them in
    /// an order that follows from the content alone) and every row's token counts (the `_docsize` table that
    /// bm25 reads). The first difference is reported, with the row it belongs to.
    private func compareFullText(of kind: ObjectKind, on connection: Database) throws -> VerificationReport.Problem? {
        let table = kind.ftsTable
        let scratch = try expectedFullText(of: kind, changedAfter: nil)
        let vocabulary = "verify_\(table)_instances"
        try connection.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.\(vocabulary) USING fts5vocab(main, \(table), instance)")
        defer { try? connection.execute("DROP TABLE IF EXISTS temp.\(vocabulary)") }

        // Each pair of lists comes in one order: by the row (column 0), or by `leading` (the term) and then the row.
        let comparisons: [(indexed: String, recomputed: String, width: Int32, leading: Int32?)] = [
            ("SELECT doc, term, col, offset FROM temp.\(vocabulary)", "SELECT doc, term, col, offset FROM expected_instances", 4, 1),
            ("SELECT id, sz FROM main.\(table)_docsize ORDER BY id", "SELECT id, sz FROM expected_docsize ORDER BY id", 2, nil),
        ]
        for (indexed, recomputed, width, leading) in comparisons {
            let found = try connection.prepare(indexed)
            let wanted = try scratch.prepare(recomputed)
            while true {
                let (hasFound, hasWanted) = (try found.step(), try wanted.step())
                if !hasFound && !hasWanted { break }
                if hasFound && hasWanted && (0 ..< width).allSatisfy({ found.value(at: $0) == wanted.value(at: $0) }) { continue }
                // The row where the two lists part: that of the entry that comes first.
                let row: Int64
                if !hasWanted || !hasFound {
                    row = hasFound ? found.int64(at: 0) : wanted.int64(at: 0)
                } else if let leading, found.bytes(at: leading) != wanted.bytes(at: leading) {
                    row = found.bytes(at: leading).lexicographicallyPrecedes(wanted.bytes(at: leading)) ? found.int64(at: 0) : wanted.int64(at: 0)
                } else {
                    row = min(found.int64(at: 0), wanted.int64(at: 0))
                }
                let apiID = try database.scalarString("SELECT api_id FROM \(kind.currentTable) WHERE id = ?", [.integer(row)])
                return .init(check: .fullTextIndex, table: table, rowid: row, apiID: apiID,
                             detail: "index differs from the text of the row's latest version")
            }
        }
        return nil
    }

    /// The full-text entries of the objects that gained a version after chain record `after`, against the
    /// text recomputed from each one's latest version: that each has its entry, with the token counts per
    /// column of that text (the `_docsize` row that bm25 reads), one lookup a row. Not its terms: FTS5 lists a
    /// row's terms only by reading the whole index (fts5vocab filters on the term alone), and looking each
    /// term up in its row (a MATCH narrowed to the rowid) cost 5.6 ms of CPU a record at 1M, ten minutes for a
    /// day of events; `compareFullText` of a full verification compares them.
    private func compareFullTextOfChangedRows(of kind: ObjectKind, after: Int64) throws -> VerificationReport.Problem? {
        let table = kind.ftsTable
        let scratch = try expectedFullText(of: kind, changedAfter: after)
        let indexedSizes = try database.prepare("SELECT sz FROM main.\(table)_docsize WHERE id = ?")
        let expectedSizes = try scratch.prepare("SELECT id, sz FROM expected_docsize ORDER BY id")
        while try expectedSizes.step() {
            let row = expectedSizes.int64(at: 0)
            try indexedSizes.bind(row, at: 1)
            let found = try indexedSizes.step() ? indexedSizes.bytes(at: 0) : nil
            indexedSizes.reset()
            if found != expectedSizes.bytes(at: 1) {
                let apiID = try database.scalarString("SELECT api_id FROM \(kind.currentTable) WHERE id = ?", [.integer(row)])
                return .init(check: .fullTextIndex, table: table, rowid: row, apiID: apiID,
                             detail: "index differs from the text of the row's latest version (its token counts)")
            }
        }
        return nil
    }

    /// A scratch FTS5 index (`expected`, with its `expected_instances` vocabulary) of the text ingest indexed
    /// for each object, recomputed from its latest version's raw JSON by the same derivation: of every object,
    /// or of those with a version after chain record `changedAfter`.
    private func expectedFullText(of kind: ObjectKind, changedAfter: Int64?) throws -> Database {
        let columns = kind.searchableColumns.joined(separator: ", ")
        let scratch = try Database(temporary: ())
        try scratch.execute("""
            CREATE VIRTUAL TABLE expected USING fts5(\(columns), content='');
            CREATE VIRTUAL TABLE expected_instances USING fts5vocab(expected, instance)
            """)
        let insert = "INSERT INTO expected(rowid, \(columns)) VALUES (?\(String(repeating: ", ?", count: kind.searchableColumns.count)))"
        try scratch.transaction {
            try database.forEachRow("""
                SELECT c.id, v.raw FROM \(kind.currentTable) c
                JOIN \(kind.versionTable) v ON v.\(kind.parentColumn) = c.id
                 AND v.version = (SELECT max(m.version) FROM \(kind.versionTable) m WHERE m.\(kind.parentColumn) = c.id)
                \(changedAfter == nil ? "" : "WHERE c.id IN (\(kind.objectsChangedSQL))")
                ORDER BY c.id
                """, changedAfter.map { [.integer($0)] } ?? []) { row in
                // A version that no longer decodes is reported by the current-state check.
                guard let texts = try? kind.searchTexts(raw: row.bytes(at: 1)) else { return }
                try scratch.run(insert, [.integer(row.int64(at: 0))] + texts.map(SQLValue.text))
            }
        }
        return scratch
    }

    // MARK: Hash chain

    /// Reads one chain table in sequence order, from the record after `after`, and feeds each row to the replay.
    private final class ChainCursor {
        let table: ChainTable
        let statement: Statement
        let lines: Statement?
        private(set) var sequence: Int64?

        init(table: ChainTable, after: Int64, database: Database) throws {
            self.table = table
            switch table {
            case .taskLogs:
                statement = try database.prepare("""
                    SELECT l.id, l.task_id, t.instance_id, t.api_id, l.rotated, l.line_count, l.content_hash,
                           l.first_seen_at, l.run_id, l.chain_link
                    FROM task_logs l LEFT JOIN tasks t ON t.id = l.task_id WHERE l.id > ? ORDER BY l.id
                    """)
                lines = try database.prepare(
                    "SELECT line_no, timestamp_us, message, raw FROM task_log_lines WHERE log_id = ? ORDER BY line_no")
            case .alarms:
                statement = try database.prepare("""
                    SELECT id, instance_id, stream, api_id, kind, detail, noticed_at, run_id, chain_link FROM alarms WHERE id > ? ORDER BY id
                    """)
                lines = nil
            case .quarantine:
                statement = try database.prepare("""
                    SELECT id, instance_id, stream, api_id, reason, raw, content_hash, first_seen_at, run_id, chain_link,
                           place_epoch
                    FROM quarantine WHERE id > ? ORDER BY id
                    """)
                lines = nil
            case .versions(let kind):
                statement = try database.prepare("""
                    SELECT v.id, v.\(kind.parentColumn), p.instance_id, p.api_id, v.version, v.raw, v.content_hash,
                           v.creation_epoch, v.first_seen_at, v.run_id, v.chain_link
                    FROM \(kind.versionTable) v LEFT JOIN \(kind.currentTable) p ON p.id = v.\(kind.parentColumn) WHERE v.id > ?
                    ORDER BY v.id
                    """)
                lines = nil
            }
            try statement.bind(after, at: 1)
            try step()
        }

        private func step() throws {
            sequence = try statement.step() ? statement.int64(at: 0) : nil
        }

        /// Feeds the current row, then moves to the next; false when the chain broke there.
        func feed(into replay: inout ChainReplay) throws -> Bool {
            let s = statement
            let fed: Bool
            if table == .alarms {
                fed = replay.feedAlarm(id: s.int64(at: 0), instanceID: s.int64(at: 1), stream: s.string(at: 2), kind: s.string(at: 4),
                                       apiID: s.string(at: 3), detail: s.string(at: 5), noticedAt: s.int64(at: 6), runID: s.int64(at: 7),
                                       link: s.bytes(at: 8))
            } else if table == .quarantine {
                fed = replay.feedQuarantine(id: s.int64(at: 0), instanceID: s.int64(at: 1), stream: s.string(at: 2),
                                            apiID: s.optionalString(at: 3), reason: s.string(at: 4), raw: s.bytes(at: 5),
                                            contentHash: s.bytes(at: 6), placeEpoch: s.optionalInt64(at: 10),
                                            firstSeenAt: s.int64(at: 7), runID: s.int64(at: 8), link: s.bytes(at: 9))
            } else if let lines {
                let logID = s.int64(at: 0)
                try lines.bind(logID, at: 1)
                var logLines: [ChainReplay.LogLine] = []
                while try lines.step() {
                    logLines.append(.init(lineNo: lines.int64(at: 0), timestampMicroseconds: lines.int64(at: 1),
                                          message: lines.string(at: 2), raw: lines.bytes(at: 3)))
                }
                lines.reset()
                fed = replay.feedTaskLog(id: logID, taskRowID: s.int64(at: 1), instanceID: s.int64(at: 2), apiID: s.string(at: 3),
                                         rotated: s.int64(at: 4), lineCount: s.int64(at: 5), contentHash: s.bytes(at: 6),
                                         firstSeenAt: s.int64(at: 7), runID: s.int64(at: 8), lines: logLines, link: s.bytes(at: 9))
            } else {
                fed = replay.feedVersion(table: table.name, id: s.int64(at: 0), parentID: s.int64(at: 1),
                                         instanceID: s.int64(at: 2), apiID: s.string(at: 3), version: s.int64(at: 4),
                                         raw: s.bytes(at: 5), contentHash: s.bytes(at: 6), creationEpoch: s.int64(at: 7),
                                         firstSeenAt: s.int64(at: 8), runID: s.int64(at: 9), link: s.bytes(at: 10))
            }
            try step()
            return fed
        }
    }

    /// Replays the chain from `start` (the genesis, or a verified head) over the records after it.
    private func checkChain(after start: ChainHead, claims: [HeadClaim], into report: inout VerificationReport) throws {
        // Heads recorded by sync runs, and the signed ones (from runs and a witness), from the start on.
        var anchors: [ChainReplay.Anchor] = []
        try database.forEachRow("SELECT id, chain_length, chain_head FROM sync_runs WHERE chain_length >= ?",
                                [.integer(start.length)]) { row in
            anchors.append(.init(run: row.int64(at: 0), length: row.int64(at: 1), head: row.bytes(at: 2)))
        }
        var replay = ChainReplay(anchors: anchors + claims.filter { $0.length >= start.length }, from: start.length, link: start.link)
        let cursors = try ChainTable.allCases.map { try ChainCursor(table: $0, after: start.length, database: database) }
        // The four tables share one sequence: always feed the cursor holding the lowest number.
        while replay.isIntact, let next = cursors.min(by: { ($0.sequence ?? .max) < ($1.sequence ?? .max) }),
              next.sequence != nil {
            _ = try next.feed(into: &replay)
        }
        replay.finish()
        report.chainLength = replay.length
        report.chainHead = replay.headHex
        report.problems.append(contentsOf: replay.problems)
    }

    // MARK: Current state

    /// Checks each current-state row against its latest version: that it points at the latest version,
    /// and that every current-state column equals what the kind's derivation computes from that
    /// version's raw JSON (`ArchivableObject.columns`, the list ingest stored them with). The first
    /// differing column of a row is named. With `after` (a chain sequence number), only the rows of
    /// objects that have a version after it.
    private func checkCurrentState(after: Int64, into report: inout VerificationReport) throws {
        for kind in ObjectKind.allCases {
            let columns = kind.currentStateColumns
            let statement = try database.prepare("""
                SELECT c.id, c.api_id, c.version, v.raw,
                       (SELECT max(m.version) FROM \(kind.versionTable) m WHERE m.\(kind.parentColumn) = c.id),
                       \(columns.map { "c.\($0)" }.joined(separator: ", "))
                FROM \(kind.currentTable) c
                LEFT JOIN \(kind.versionTable) v ON v.\(kind.parentColumn) = c.id AND v.version = c.version
                \(after > 0 ? "WHERE c.id IN (\(kind.objectsChangedSQL))" : "")
                ORDER BY c.id
                """)
            if after > 0 { try statement.bind(after, at: 1) }
            let firstColumn: Int32 = 5
            while try statement.step() {
                let rowid = statement.int64(at: 0)
                let apiID = statement.string(at: 1)
                func fail(_ detail: String) {
                    report.problems.append(.init(check: .currentState, table: kind.currentTable, rowid: rowid, apiID: apiID,
                                                 detail: detail))
                }
                if statement.isNull(at: 3) { fail("its current version \(statement.int64(at: 2)) does not exist"); continue }
                if statement.optionalInt64(at: 4) != statement.int64(at: 2) {
                    fail("points at version \(statement.int64(at: 2)), but the latest is \(statement.int64(at: 4))"); continue
                }
                let raw = statement.bytes(at: 3)
                let object: any ArchivableObject
                do { object = try kind.objectType.init(json: raw) } catch {
                    fail("its latest version's JSON cannot be read: \(error)"); continue
                }
                if object.apiID != apiID { fail("id differs from its latest version"); continue }
                for (offset, (column, expected)) in zip(columns, object.currentStateValues).enumerated()
                where statement.value(at: firstColumn + Int32(offset)) != expected {
                    fail("\(column) differs from its latest version")
                    break
                }
            }
        }
    }

    // MARK: Extracted fields

    /// Every event version has its `event_fields` row and every row its version; the row's key columns agree with the version and its
    /// event and whose extracted columns equal what `ExtractedColumns` reads from the version's raw JSON
    /// now (the list ingest and the migration stored them with). The first differing column is named;
    /// after `maximumExtractedFieldProblems` rows the rest are counted in one line.
    /// With `after` (a chain sequence number), only the versions after it and the rows that claim to be one.
    private func checkExtractedFields(after: Int64, into report: inout VerificationReport) throws {
        let columns = ExtractedColumns.events.map(\.name)
        let statement = try database.prepare("""
            SELECT v.id, e.api_id, f.version_id IS NOT NULL,
                   f.event_id IS v.event_id AND f.version IS v.version AND f.instance_id IS e.instance_id
                       AND f.action IS e.action AND f.creation_epoch IS v.creation_epoch,
                   v.raw, e.action, \(columns.map { "f.\($0)" }.joined(separator: ", "))
            FROM event_versions v LEFT JOIN events e ON e.id = v.event_id LEFT JOIN event_fields f ON f.version_id = v.id
            WHERE v.id > ? ORDER BY v.id
            """)
        try statement.bind(after, at: 1)
        let firstColumn: Int32 = 6
        var failures = 0
        while try statement.step() {
            let problem: String?
            if statement.int64(at: 2) == 0 {
                problem = "its extracted fields are missing"
            } else if statement.int64(at: 3) == 0 {
                problem = "its extracted fields name another event, version, instance, action or time"
            } else {
                let expected = ExtractedColumns.values(of: statement.bytes(at: 4), action: statement.string(at: 5))
                problem = zip(columns, expected).enumerated()
                    .first { offset, pair in statement.value(at: firstColumn + Int32(offset)) != pair.1 }
                    .map { "\($0.element.0) differs from what its raw JSON says" }
            }
            guard let problem else { continue }
            failures += 1
            if failures <= Self.maximumExtractedFieldProblems {
                report.problems.append(.init(check: .extractedFields, table: "event_fields", rowid: statement.int64(at: 0),
                                             apiID: statement.optionalString(at: 1), detail: problem))
            }
        }
        try database.forEachRow("""
            SELECT f.version_id FROM event_fields f LEFT JOIN event_versions v ON v.id = f.version_id
            WHERE f.version_id > ? AND v.id IS NULL ORDER BY f.version_id
            """, [.integer(after)]) { row in
            failures += 1
            if failures <= Self.maximumExtractedFieldProblems {
                report.problems.append(.init(check: .extractedFields, table: "event_fields", rowid: row.int64(at: 0),
                                             detail: "extracted fields of a version that does not exist"))
            }
        }
        if failures > Self.maximumExtractedFieldProblems {
            report.problems.append(.init(check: .extractedFields, table: "event_fields",
                                         detail: "\(failures - Self.maximumExtractedFieldProblems) more versions with wrong or missing extracted fields"))
        }
    }

    private static let maximumExtractedFieldProblems = 100
}

private extension ObjectKind {
    /// SQL for the ids of the objects of this kind that have a version after the chain record bound as `?1`.
    /// NOT INDEXED: through the row id, it reads only the versions after it; SQLite otherwise scans the whole
    /// (parent, version) index, which holds the row id too (40 ms at 1M events, each time).
    var objectsChangedSQL: String {
        "SELECT DISTINCT n.\(parentColumn) FROM \(versionTable) n NOT INDEXED WHERE n.id > ?1"
    }
}
