import Foundation
import Testing
@testable import Query

/// Python computes each line's layout with `unicodedata.east_asian_width` (an independent width table):
/// for every run of non-blank text, its start and end display column.
private let layoutScript = """
import json, sys, unicodedata
def width(ch):
    if unicodedata.category(ch) in ('Mn', 'Me', 'Cf'):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in 'WF' else 1
result = []
for line in open(sys.argv[1], encoding='utf-8').read().split('\\n')[:-1]:
    runs, column, start = [], 0, None
    for ch in line:
        if ch == ' ':
            if start is not None:
                runs.append([start, column]); start = None
        elif start is None:
            start = column
        column += width(ch)
    if start is not None:
        runs.append([start, column])
    result.append({'runs': runs, 'width': column})
print(json.dumps(result))
"""

private struct LineLayout {
    var runs: [[Int]]
    var width: Int
}

private func layout(of path: String) throws -> [LineLayout] {
    let output = try runPython(layoutScript, [path])
    let lines = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
    return lines.map { LineLayout(runs: ($0["runs"] as? [[Int]]) ?? [], width: ($0["width"] as? Int) ?? -1) }
}

@Suite struct TableOutputTests {
    /// Cells without blanks, so that each column is one run of text per line.
    private let rows: [[Cell]] = [
        [.integer(1), .text("alice"), .text("user.login"), .text("203.0.113.24")],
        [.integer(22), .text("日本語ユーザー"), .text("app.install"), .text("🎉🎉")],
        [.integer(333), .text("café"), .text("app.update.finish"), .text("한국어")],
        [.integer(-4), .text("ｆｕｌｌｗｉｄｔｈ"), .text("mail.box.add"), .null],
        [.integer(5), .text("e\u{301}e\u{301}"), .text("x"), .text("✅")],
    ]

    @Test func columnsAlignWithWideAndCombiningCharacters() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("t.txt")
        _ = try writeFile(.table, columns: ["n", "user", "action", "extra"], rows: rows, to: path)
        let lines = try layout(of: path)
        try #require(lines.count == rows.count + 2)   // header, rule, rows
        // Columns 2...4 start at the same display column on every line (the null cell leaves its run out).
        for column in 1..<4 {
            let starts = Set(lines.compactMap { $0.runs.count > column ? $0.runs[column][0] : nil })
            #expect(starts.count == 1, "column \(column) starts at \(starts)")
        }
        // Numbers are right-aligned: they end where the rule under their header ends.
        let numberEnds = Set(lines.dropFirst().map { $0.runs[0][1] })
        #expect(numberEnds.count == 1)
    }

    @Test func swiftWidthsMatchPython() throws {
        // Plain scalars where Python's table is authoritative (no emoji sequences).
        let samples = ["alice", "日本語", "🎉", "café", "e\u{301}", "한국어", "ｆｕｌｌ", "✅", "Ωμέγα", "\u{200B}x"]
        let directory = try TemporaryDirectory()
        let path = directory.file("samples.txt")
        try (samples.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        let widths = try layout(of: path).map(\.width)
        #expect(widths == samples.map { DisplayWidth.of($0) })
    }

    @Test func emojiSequencesAreOneWideGlyph() {
        #expect(DisplayWidth.of("👨‍👩‍👧") == 2)       // ZWJ family
        #expect(DisplayWidth.of("🇩🇪") == 2)           // flag
        #expect(DisplayWidth.of("❤️") == 2)           // text heart with U+FE0F
        #expect(DisplayWidth.of("👍🏽") == 2)           // skin tone
        #expect(DisplayWidth.of("1️⃣") == 2)           // keycap
        #expect(DisplayWidth.of("❤") == 1)            // text presentation
    }

    @Test func truncatesToTheTerminalWidthKeepingAlignment() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("narrow.txt")
        let longRows: [[Cell]] = rows + [[.integer(6), .text(String(repeating: "長", count: 40)),
                                          .text("app.configure"), .text(String(repeating: "z", count: 80))]]
        let bytes = try writeFile(.table, columns: ["n", "user", "action", "extra"], rows: longRows, to: path,
                                  tableWidth: 40)
        let lines = try layout(of: path)
        #expect(lines.allSatisfy { $0.width <= 40 }, "\(lines.map(\.width))")
        for column in 1..<4 {
            let starts = Set(lines.compactMap { $0.runs.count > column ? $0.runs[column][0] : nil })
            #expect(starts.count == 1, "column \(column) starts at \(starts)")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("…"))
        #expect(text.contains("alice"))   // short cells are kept whole
    }

    @Test func rowsAfterTheSizingWindowStreamWithItsWidths() throws {
        let sink = OutputSink()
        var writer = TableWriter(sink: sink, sizingRows: 2)
        try writer.begin(columns: [Column("a"), Column("b")])
        try writer.write(row: [.text("xx"), .text("1")])
        try writer.write(row: [.text("yyyy"), .text("2")])
        let afterWindow = sink.bytes.count
        #expect(afterWindow > 0)                                 // header and held rows went out
        try writer.write(row: [.text("zzzzzzzz"), .text("3")])   // wider than the window: cut
        try writer.finish()
        let lines = String(decoding: sink.bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines == ["a     b", "----  -", "xx    1", "yyyy  2", "zzz…  3"])
    }

    @Test func terminalControlsAreNeutralised() throws {
        let sink = OutputSink()
        var writer = TableWriter(sink: sink)
        try writer.begin(columns: [Column("t\u{1B}itle")])
        try writer.write(row: [.text("\u{1B}[2J\u{1B}]0;pwned\u{7}red\nline\ttab\u{9B}c1\u{202E}rtl")])
        try writer.finish()
        let bytes = sink.bytes
        #expect(!bytes.contains(0x1B))
        #expect(!bytes.contains(0x07))
        #expect(!bytes.contains(0x09))
        #expect(bytes.filter { $0 == 0x0A }.count == 3)         // only the line ends
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("␛[2J"))
        #expect(!text.unicodeScalars.contains { $0.value == 0x9B || $0.value == 0x202E })
    }

    @Test func fitShrinksTheWidestColumnsFirst() {
        #expect(TableWriter.fit([5, 50, 30], into: nil) == [5, 50, 30])
        #expect(TableWriter.fit([5, 50, 30], into: 100) == [5, 50, 30])
        // Worked by hand from the rule (two-space gaps; the largest common cap that fits; what is left
        // over goes to the capped columns from the left):
        // 44 - 4 = 40 wide; 5 + 2·17 = 39 fits, 5 + 2·18 = 41 does not; the spare 1 goes to column 2.
        #expect(TableWriter.fit([5, 50, 30], into: 44) == [5, 18, 17])
        // 30 - 4 = 26; 5 + 2·10 = 25; spare 1 to column 2.
        #expect(TableWriter.fit([5, 50, 30], into: 30) == [5, 11, 10])
        // 20 - 4 = 16; 3 + 6 + 6 = 15 (cap 6; 7 gives 17); spare 1 to the first capped column (40 → 7).
        #expect(TableWriter.fit([3, 40, 8], into: 20) == [3, 7, 6])
        // 10 - 4 = 6: every column is capped at 2, nothing left over.
        #expect(TableWriter.fit([10, 10, 10], into: 10) == [2, 2, 2])
        // Exactly fitting is not shrunk: 5 + 50 + 30 + 4 = 89.
        #expect(TableWriter.fit([5, 50, 30], into: 89) == [5, 50, 30])
    }
}

@Suite struct AtomicOutputFileTests {
    @Test func writesCompleteFileWithPrivateMode() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("report.csv")
        try AtomicOutputFile.write(to: path) { sink in try sink.write("a,b\r\n") }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a,b\r\n")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try directory.entries() == ["report.csv"])   // no temporary file left
    }

    @Test func failureLeavesTheOldFileAndNoTemporaryFile() throws {
        struct Interrupted: Error {}
        let directory = try TemporaryDirectory()
        let path = directory.file("report.csv")
        try "old complete content".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: Interrupted.self) {
            try AtomicOutputFile.write(to: path) { sink in
                try sink.write(String(repeating: "half ", count: 50_000))   // past one buffer: really on disk
                throw Interrupted()
            }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old complete content")
        #expect(try directory.entries() == ["report.csv"])
    }

    @Test func symlinkAtTheTargetIsReplacedNotFollowed() throws {
        let directory = try TemporaryDirectory()
        let victim = directory.file("victim")
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        let path = directory.file("out.json")
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: victim)
        try AtomicOutputFile.write(to: path) { sink in try sink.write("[]\n") }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "[]\n")
        let type = try FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType
        #expect(type == .typeRegular)
    }

    @Test func symlinkAtTheTemporaryNameIsNotFollowed() throws {
        let directory = try TemporaryDirectory()
        let victim = directory.file("victim")
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        let path = directory.file("out.csv")
        // An attacker who guessed the first temporary name planted a symlink there.
        let planted = directory.file(".out.csv.tmp-guessed")
        try FileManager.default.createSymbolicLink(atPath: planted, withDestinationPath: victim)
        var suffixes = ["guessed", "second"]
        let file = try AtomicOutputFile(path: path, temporarySuffix: { suffixes.removeFirst() })
        #expect(file.temporaryPath == directory.file(".out.csv.tmp-second"))
        let sink = OutputSink(fileDescriptor: file.fileDescriptor)
        try sink.write("x\r\n")
        try sink.flush()
        try file.commit()
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "x\r\n")
        #expect(try directory.entries() == [".out.csv.tmp-guessed", "out.csv", "victim"])
    }

    @Test func missingDirectoryIsAOneLineError() throws {
        let directory = try TemporaryDirectory()
        let error = #expect(throws: OutputError.self) {
            try AtomicOutputFile(path: directory.file("no/such/dir/out.csv"))
        }
        #expect(error?.description.contains("No such file or directory") == true)
        #expect(error?.description.contains("\n") == false)
    }

    @Test func discardedWhenNeverCommitted() throws {
        let directory = try TemporaryDirectory()
        do {
            let file = try AtomicOutputFile(path: directory.file("out.csv"))
            _ = file.fileDescriptor
        }
        #expect(try directory.entries() == [])
    }
}
