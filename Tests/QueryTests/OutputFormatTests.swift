import Foundation
import Testing
@testable import Query

/// Writes `rows` in `format` to a real file through `AtomicOutputFile` and returns the file's bytes.
func writeFile(_ format: OutputFormat, columns: [String], rows: [[Cell]], to path: String,
               zone: TimeZone? = nil, tableWidth: Int? = nil) throws -> [UInt8] {
    try AtomicOutputFile.write(to: path) { sink in
        var writer = format.makeWriter(sink: sink, times: TimestampFormatter(zone: zone), tableWidth: tableWidth)
        try writer.begin(columns: columns.map(Column.init))
        for row in rows { try writer.write(row: row) }
        try writer.finish()
    }
    return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Attacker-controlled strings as they appear in event data, plus every cell kind.
private let hostileColumns = ["id", "text", "when", "data", "flag", "ratio", "missing"]
private let hostileTexts = [
    "=HYPERLINK(\"http://evil\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\tTAB", "\rCR",
    "a,b", "quote \"inner\" end", "line\nbreak", "crlf\r\nbreak", "日本語 🎉 café", "", "plain", "'already",
    " =space first", "\u{1B}[31mred\u{1B}[0m", "nul\u{0}byte",
]
private func hostileRows() -> [[Cell]] {
    hostileTexts.enumerated().map { index, text in
        [.integer(Int64(index) - 5), .text(text), .time(1_795_174_649 + Int64(index)),
         .json(rawJSON(["a": text, "n": [1, 2.5, NSNull()] as [Any]])),
         .boolean(index % 2 == 0), .real(Double(index) / 4), .null]
    }
}

/// JSON bytes as a server might send them: compact, but with a raw line break between tokens.
private func rawJSON(_ object: [String: Any]) -> [UInt8] {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    return [UInt8(ascii: "{"), 0x0A] + Array(data.dropFirst())
}

@Suite struct CSVOutputTests {
    /// Python's csv module (an independent RFC 4180 reader) reads back the same cells, formula cells guarded.
    @Test func pythonReadsBackTheSameCells() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("out.csv")
        let bytes = try writeFile(.csv, columns: hostileColumns, rows: hostileRows(), to: path)
        #expect(bytes.starts(with: Array("id,text,when,data,flag,ratio,missing\r\n".utf8)))
        #expect(Array(bytes.suffix(2)) == [0x0D, 0x0A])
        let json = try runPython("""
            import csv, json, sys
            with open(sys.argv[1], newline='', encoding='utf-8') as f:
                print(json.dumps(list(csv.reader(f, strict=True))))
            """, [path])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String]])
        try #require(parsed.count == hostileTexts.count + 1)
        #expect(parsed[0] == hostileColumns)
        var times = TimestampFormatter()
        for (index, text) in hostileTexts.enumerated() {
            let row = parsed[index + 1]
            let guarded = ["=", "+", "-", "@", "\t", "\r"].contains { text.hasPrefix($0) } ? "'" + text : text
            #expect(row[0] == String(index - 5))            // numbers are numbers, never guarded
            #expect(row[1] == guarded, "\(String(reflecting: text))")
            #expect(row[2] == times.string(from: 1_795_174_649 + Int64(index)))
            // Raw JSON is its exact text in CSV (its leading `{` needs no guard).
            #expect(row[3] == String(decoding: rawJSON(["a": text, "n": [1, 2.5, NSNull()] as [Any]]), as: UTF8.self))
            #expect(row[4] == (index % 2 == 0 ? "true" : "false"))
            #expect(Double(row[5]) == Double(index) / 4)
            #expect(row[6] == "")
        }
    }

    @Test func timesFollowTheZone() throws {
        let directory = try TemporaryDirectory()
        let bytes = try writeFile(.csv, columns: ["when"], rows: [[.time(1_795_174_649)]],
                                  to: directory.file("t.csv"), zone: TimeZone(identifier: "Europe/Berlin"))
        #expect(String(decoding: bytes, as: UTF8.self) == "when\r\n2026-11-20T12:37:29+01:00\r\n")
    }

    @Test func headerOnlyWhenNoRows() throws {
        let directory = try TemporaryDirectory()
        let bytes = try writeFile(.csv, columns: ["a", "b"], rows: [], to: directory.file("e.csv"))
        #expect(String(decoding: bytes, as: UTF8.self) == "a,b\r\n")
    }
}

@Suite struct JSONOutputTests {
    private func checkObject(_ object: [String: Any], index: Int, text: String) {
        #expect(object["id"] as? Int == index - 5)
        #expect(object["text"] as? String == text, "\(String(reflecting: text))")   // never altered
        #expect(object["when"] as? String == TimestampFormatterTests.utc(1_795_174_649 + Int64(index)))
        let data = object["data"] as? [String: Any]
        #expect(data?["a"] as? String == text)                                    // raw JSON stays JSON
        #expect((data?["n"] as? [Any])?.count == 3)
        #expect(object["flag"] as? Bool == (index % 2 == 0))
        #expect(object["ratio"] as? Double == Double(index) / 4)
        #expect(object["missing"] is NSNull)
        #expect(object.count == hostileColumns.count)
    }

    @Test func jsonIsOneValidArray() throws {
        let directory = try TemporaryDirectory()
        let bytes = try writeFile(.json, columns: hostileColumns, rows: hostileRows(), to: directory.file("o.json"))
        let array = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [[String: Any]])
        try #require(array.count == hostileTexts.count)
        for (index, text) in hostileTexts.enumerated() { checkObject(array[index], index: index, text: text) }
    }

    @Test func emptyJSONIsAnEmptyArray() throws {
        let directory = try TemporaryDirectory()
        let bytes = try writeFile(.json, columns: ["a"], rows: [], to: directory.file("e.json"))
        #expect((try JSONSerialization.jsonObject(with: Data(bytes)) as? [Any])?.isEmpty == true)
    }

    @Test func ndjsonIsOneObjectPerLine() throws {
        let directory = try TemporaryDirectory()
        let bytes = try writeFile(.ndjson, columns: hostileColumns, rows: hostileRows(), to: directory.file("o.ndjson"))
        #expect(bytes.last == 0x0A)
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
        try #require(lines.count == hostileTexts.count)
        for (index, line) in lines.enumerated() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            checkObject(object, index: index, text: hostileTexts[index])
        }
    }

    @Test func nonFiniteRealsAndEmptyJSONBecomeNull() throws {
        let directory = try TemporaryDirectory()
        let bytes = try writeFile(.ndjson, columns: ["x", "y", "z"], rows: [[.real(.nan), .real(.infinity), .json([])]],
                                  to: directory.file("n.ndjson"))
        #expect(String(decoding: bytes, as: UTF8.self) == "{\"x\":null,\"y\":null,\"z\":null}\n")
    }

    @Test func rowShapeMismatchIsAnError() throws {
        let sink = OutputSink()
        var writer = NDJSONWriter(sink: sink)
        try writer.begin(columns: [Column("a")])
        #expect(throws: RowShapeError.self) { try writer.write(row: [.null, .null]) }
    }
}

@Suite struct OutputFormatParsingTests {
    @Test func formats() throws {
        #expect(try OutputFormat(parsing: "csv") == .csv)
        #expect(try OutputFormat(parsing: "NDJSON") == .ndjson)
        let error = #expect(throws: QueryInputError.self) { try OutputFormat(parsing: "xml") }
        #expect(error?.message == "unknown format \"xml\": use table, csv, json or ndjson")
    }
}

extension TimestampFormatterTests {
    static func utc(_ epoch: Int64) -> String {
        var formatter = TimestampFormatter()
        return formatter.string(from: epoch)
    }
}

@Suite struct OutputSinkTests {
    /// More than one buffer's worth reaches the file intact and in order.
    @Test func largeOutputIsWrittenCompletely() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("big.ndjson")
        let rows = 20_000
        try AtomicOutputFile.write(to: path) { sink in
            var writer = NDJSONWriter(sink: sink)
            try writer.begin(columns: [Column("n"), Column("pad")])
            for n in 0..<rows { try writer.write(row: [.integer(Int64(n)), .text(String(repeating: "x", count: n % 50))]) }
            try writer.finish()
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == rows)
        #expect(lines.last?.hasPrefix("{\"n\":\(rows - 1),") == true)
    }

    @Test func writeErrorIsReportedInOneLine() throws {
        // A descriptor opened read-only cannot be written: the flush reports it instead of losing rows silently.
        let directory = try TemporaryDirectory()
        let path = directory.file("ro")
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        let sink = OutputSink(fileDescriptor: descriptor)
        try sink.write("hello")
        let error = #expect(throws: OutputError.self) { try sink.flush() }
        #expect(error?.description.hasPrefix("cannot write output: ") == true)
    }
}
