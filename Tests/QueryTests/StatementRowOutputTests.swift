import Archiver
import Foundation
import Testing
@testable import Query

/// A report's rows are written from SQLite's buffers (`StatementRow`): the bytes must be those the cell path
/// writes for the same values, and an independent reader (Python's sqlite3, json and csv modules) must read
/// back what SQLite holds, for text that needs escaping, quoting, a formula guard or UTF-8 repair.
@Suite struct StatementRowOutputTests {
    /// One row per hostile text; every kind of column beside it. `CAST(x'…' AS TEXT)` is text that is no
    /// valid UTF-8, as a damaged archive could hold.
    static let texts = [
        "'=HYPERLINK(\"http://evil\",\"x\")'", "'@SUM(A1:A2)'", "char(9) || 'tab first'", "'a,b'", "'quote \"inner\" end'",
        "'line' || char(10) || 'break'", "'crlf' || char(13) || char(10) || 'break'", "'日本語 🎉 café'", "''", "'plain'",
        "'back\\slash'", "char(27) || '[31mred'", "'nul' || char(0) || 'byte'", "'bell' || char(7)", "CAST(x'41ff42c3' AS TEXT)",
        "'uuid-0123456789abcdef0123456789abcdef'",
    ]

    static var sql: String {
        let rows = texts.enumerated().map { index, text in
            "(\(text), \(index - 5), \(Double(index) / 4), '{\"a\":' || char(10) || '[1,2.5,null]}', \(index % 2), "
                + "\(1_795_174_649 + index), x'00ff\(String(format: "%02x", index))', NULL)"
        }
        return "SELECT column1 AS text, column2 AS n, column3 AS ratio, column4 AS data, column5 AS flag, column6 AS at, "
            + "column7 AS raw, column8 AS missing FROM (VALUES " + rows.joined(separator: ", ") + ") ORDER BY n"
    }

    static let report = """
        -- title: Hostile cells
        -- columns: text, n:integer, ratio, data:json, flag:bool, at:time, raw, missing
        \(sql)
        """

    /// The report in `format`, through the writer's statement-row path or (`cellsOnly`) its `[Cell]` path.
    private func output(_ format: OutputFormat, cellsOnly: Bool, session: ReadSession) throws -> [UInt8] {
        let query = try ReportQuery(report: try Report(name: "hostile", text: Self.report, origin: "test"))
        let sink = OutputSink()
        var writer = format.makeWriter(sink: sink)
        if cellsOnly {
            var cells = CellsOnly(writer: writer)
            _ = try query.run(on: session, into: &cells)
        } else {
            _ = try query.run(on: session, into: &writer)
        }
        return sink.bytes
    }

    @Test func everyFormatWritesTheBytesOfTheCellPath() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("empty.db")
        _ = try Archive(path: path)
        let session = try openReadOnly(path)
        for format in OutputFormat.allCases {
            let fast = try output(format, cellsOnly: false, session: session)
            #expect(fast == (try output(format, cellsOnly: true, session: session)), "\(format)")
            #expect(fast.count > 500, "\(format)")
        }
    }

    @Test func pythonReadsBackWhatSQLiteHolds() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("empty.db")
        _ = try Archive(path: path)
        let session = try openReadOnly(path)
        let ndjson = directory.file("out.ndjson"), json = directory.file("out.json"), csv = directory.file("out.csv")
        try Data(try output(.ndjson, cellsOnly: false, session: session)).write(to: URL(fileURLWithPath: ndjson))
        try Data(try output(.json, cellsOnly: false, session: session)).write(to: URL(fileURLWithPath: json))
        try Data(try output(.csv, cellsOnly: false, session: session)).write(to: URL(fileURLWithPath: csv))
        let verdict = try runPython("""
            import csv, datetime, json, sqlite3, sys
            db = sqlite3.connect(':memory:')
            db.text_factory = lambda b: b.decode('utf-8', 'replace')
            rows = db.execute(sys.argv[1]).fetchall()
            def iso(t): return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
            expected = [{'text': r[0], 'n': r[1], 'ratio': r[2], 'data': json.loads(r[3]), 'flag': bool(r[4]),
                         'at': iso(r[5]), 'raw': r[6].hex(), 'missing': None} for r in rows]
            lines = open(sys.argv[2], 'rb').read().split(b'\\n')
            assert lines[-1] == b'' and len(lines) == len(rows) + 1, 'one line per row'
            assert [json.loads(l) for l in lines[:-1]] == expected, 'ndjson'
            assert json.load(open(sys.argv[3], encoding='utf-8')) == expected, 'json'
            with open(sys.argv[4], newline='', encoding='utf-8') as f:
                table = list(csv.reader(f, strict=True))
            assert table[0] == list(expected[0].keys()), 'csv header'
            def guarded(s): return "'" + s if s[:1] in ('=', '+', '-', '@', '\\t', '\\r') else s
            for got, r, e in zip(table[1:], rows, expected):
                assert got == [guarded(r[0]), str(r[1]), str(r[2]), guarded(r[3]), 'true' if r[4] else 'false',
                               e['at'], e['raw'], ''], (got, r)
            assert len(table) == len(rows) + 1
            print('ok', len(rows))
            """, [Self.sql, ndjson, json, csv])
        #expect(verdict.trimmingCharacters(in: .whitespacesAndNewlines) == "ok \(Self.texts.count)")
    }
}

/// A writer seen only through its `[Cell]` path: the statement-row path's default.
private struct CellsOnly: RowWriter {
    var writer: any RowWriter
    mutating func begin(columns: [Column]) throws { try writer.begin(columns: columns) }
    mutating func write(row: [Cell]) throws { try writer.write(row: row) }
    mutating func finish() throws { try writer.finish() }
}
