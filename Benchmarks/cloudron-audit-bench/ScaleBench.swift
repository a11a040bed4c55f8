// `make bench-scale` (issue 12): reports, search, export and size on archives of 1M and 10M events,
// built by direct ingest of the simulator's events (no HTTP: a 10M-event server would not fit in memory),
// cached under .build-bench/ so that a rerun measures without rebuilding. Writes its own section of
// BENCHMARKS.md; nothing here asserts.
//
//   cloudron-audit-bench scale --bin .build-bench/release --work .build-bench/scale --output BENCHMARKS.md \
//       --sizes 1000000,10000000 [--build-only]
//
// --build-only builds (or brings up to date) the archives and stops: a 10M build takes most of an hour on the
// shared machine, and can run ahead of the measurements.

import Archiver
import Client
import CloudronSimulator
import Foundation
import Query
#if canImport(Glibc)
import Glibc
#endif

struct ScaleSettings {
    var bin = ".build-bench/release"
    var work = ".build-bench/scale"
    var output = "BENCHMARKS.md"
    var sizes = [1_000_000, 10_000_000]
    var buildOnly = false
    /// The simulator's density (its initial data puts a million events in 9 days): a bigger archive
    /// covers a longer time, as years of evidence do, so a day holds the same events at every size.
    var eventsPerDay = 111_112

    init(arguments: ArraySlice<String>) {
        var rest = arguments
        while let flag = rest.popFirst() {
            if flag == "--build-only" { buildOnly = true; continue }
            let value = rest.popFirst() ?? ""
            switch flag {
            case "--bin": bin = value
            case "--work": work = value
            case "--output": output = value
            case "--sizes": sizes = value.split(separator: ",").compactMap { Int($0) }
            default: FileHandle.standardError.write(Data("unknown argument \(flag)\n".utf8)); exit(64)
            }
        }
    }
}

/// A section of BENCHMARKS.md that one bench owns, between two markers (`make bench-scale`'s, `make
/// bench-store`'s); `make bench` keeps the others when it rewrites the rest of the file.
struct MarkedSection {
    let name: String

    static let scale = MarkedSection(name: "bench-scale")
    static let store = MarkedSection(name: "bench-store")
    static let all = [scale, store]

    var begin: String { "<!-- \(name): begin -->" }
    var end: String { "<!-- \(name): end -->" }

    /// The marked section of `text`, markers included, or nil.
    func extract(from text: String) -> String? {
        guard let start = text.range(of: begin), let stop = text.range(of: end, range: start.upperBound ..< text.endIndex)
        else { return nil }
        return String(text[start.lowerBound ..< stop.upperBound])
    }

    /// Replaces the marked section of the file at `path` (appends it when missing).
    func write(_ body: String, into path: String) {
        let section = begin + "\n" + body + "\n" + end
        var text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "# Benchmarks\n"
        if let old = extract(from: text), let range = text.range(of: old) {
            text.replaceSubrange(range, with: section)
        } else {
            text += (text.hasSuffix("\n\n") ? "" : "\n") + section + "\n"
        }
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

/// One size's figures, kept as JSON in the work folder (figures-N.json) so that sizes measured in separate
/// runs (`--sizes 1000000`, then `--sizes 10000000` once that archive is built) share one table.
struct ScaleFigures: Codable {
    struct ReportFigure: Codable {
        var name: String
        var rows: Int
        /// Median seconds.
        var seconds: Double
    }

    struct SearchFigure: Codable {
        var term: String
        var hits: Int
        var whole: Double
        var sqlite: Double
        var rg: Double?
    }

    struct ExportFigure: Codable {
        var ours: Double
        var sqlite: Double
        var rss: Double
    }

    var events = 0
    var days = 0
    var buildSeconds: Double?
    var buildRSSMegabytes: Double?
    var archiveBytes: Int64 = 0
    var ndjsonBytes: Int64 = 0
    /// Report name (with " --summary"), rows and median seconds.
    var reports: [ReportFigure] = []
    var reportAll: Double?
    /// `verify`'s full check, run once before `report --all` (which then continues it).
    var fullVerify: Double?
    var search: SearchFigure?
    var export: ExportFigure?
    var upgradeSeconds: Double?
    /// When this size was measured, and the lowest and highest 1-minute load average meanwhile.
    var measuredAt = ""
    var loadLow: Double?
    var loadHigh: Double?
    /// What happened to this size's archive (built, cached, upgraded, a report that failed).
    var log: [String] = []

    var sizeRatio: Double { Double(archiveBytes) / Double(max(1, ndjsonBytes)) }

    func save(in work: String) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try? encoder.encode(self).write(to: URL(fileURLWithPath: work + "/figures-\(events).json"))
    }

    /// Every size's figures saved in `work`.
    static func saved(in work: String) -> [ScaleFigures] {
        ((try? FileManager.default.contentsOfDirectory(atPath: work)) ?? [])
            .filter { $0.hasPrefix("figures-") && $0.hasSuffix(".json") }
            .compactMap { name in
                (try? Data(contentsOf: URL(fileURLWithPath: work + "/" + name))).flatMap { try? JSONDecoder().decode(ScaleFigures.self, from: $0) }
            }
    }

    func report(_ name: String) -> (rows: Int, seconds: Double)? {
        reports.first { $0.name == name }.map { ($0.rows, $0.seconds) }
    }
}

enum ScaleBench {
    static func main(_ arguments: ArraySlice<String>) throws {
        let s = ScaleSettings(arguments: arguments)
        try FileManager.default.createDirectory(atPath: s.work, withIntermediateDirectories: true)
        ChildProcess.stderrPath = s.work + "/children-stderr.log"
        var log: [String] = []
        // This run's sizes, measured below; the other sizes' latest figures are read back from earlier runs.
        var figures: [ScaleFigures] = []
        let earlier = s.buildOnly ? [] : ScaleFigures.saved(in: s.work).filter { !s.sizes.contains($0.events) }
        let load = LoadLog(path: s.work + "/load.log")
        var sizeLog: [String] = []
        var loadMark = 0
        var current: Int?   // the slot of the size being measured
        func publish() {
            guard !s.buildOnly else { return }
            if let current {
                figures[current].log = sizeLog
                (figures[current].loadLow, figures[current].loadHigh) = load.range(from: loadMark).map { ($0.min, $0.max) } ?? (nil, nil)
                figures[current].measuredAt = ISO8601DateFormatter().string(from: Date())
                figures[current].save(in: s.work)
            }
            MarkedSection.scale.write(render((earlier + figures).sorted { $0.events < $1.events }, log: log, settings: s), into: s.output)
        }
        func note(_ line: String) {
            sizeLog.append(line)
            FileHandle.standardError.write(Data(("bench-scale: " + line + "\n").utf8))
            publish()
        }
        for size in s.sizes {
            sizeLog = []
            loadMark = load.count
            current = nil
            var f = ScaleFigures()
            f.events = size
            f.days = max(1, (size + s.eventsPerDay - 1) / s.eventsPerDay)
            let db = s.work + "/events-\(size).db", ndjson = s.work + "/events-\(size).ndjson", done = s.work + "/events-\(size).done"
            if !FileManager.default.fileExists(atPath: done) {
                for path in [db, db + "-wal", db + "-shm", ndjson, done] { unlink(path) }
                let build = try ChildProcess.run([Bench.selfPath(), "scale-ingest", String(size), String(f.days), db, ndjson],
                                                 measureRSS: true)
                f.buildSeconds = build.seconds
                f.buildRSSMegabytes = build.peakRSSMegabytes
                FileManager.default.createFile(atPath: done, contents: Data("\(build.seconds) \(build.peakRSSMegabytes)\n".utf8))
                note("built \(grouped(size)) events over \(f.days) days by direct ingest in \(seconds(build.seconds)), peak RSS "
                     + String(format: "%.1f MB", build.peakRSSMegabytes))
            } else {
                let cached = ((try? String(contentsOfFile: done, encoding: .utf8)) ?? "").split(separator: " ")
                f.buildSeconds = cached.first.flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                f.buildRSSMegabytes = cached.dropFirst().first.flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                note("\(grouped(size)) events: cached archive \(db) (built earlier)")
            }
            let cli = s.bin + "/cloudron-audit"
            // An archive cached by an older build is upgraded by its first reader, here and untimed. Its size is
            // counted without the pages the migrations freed (a rebuilt table leaves its old pages on the
            // freelist, which the archive's growth reuses): what the same events take at the current schema,
            // without a VACUUM of a 17 GB file.
            let schemaBefore = try schemaVersion(db)
            try ChildProcess.run([cli, "status", "--db", db], stdout: "/dev/null")
            let schemaAfter = try schemaVersion(db)
            if schemaAfter != schemaBefore {
                note("\(grouped(size)) events: upgraded from schema \(schemaBefore) to \(schemaAfter) by its first reader (untimed)")
            }
            if s.buildOnly { continue }
            f.log = sizeLog
            f.archiveBytes = fileSize(db) + fileSize(db + "-wal") - (try freePageBytes(db))
            f.ndjsonBytes = fileSize(ndjson)
            figures.append(f)
            let slot = figures.count - 1
            current = slot
            publish()

            for report in try ReportCatalog.builtIn() {
                for summary in report.summary == nil ? [false] : [false, true] {
                    let name = report.name + (summary ? " --summary" : "")
                    let out = s.work + "/report.ndjson"
                    let argv = [cli, "report", report.name, "--db", db, "--since", "30d", "--format", "ndjson"] + (summary ? ["--summary"] : [])
                    var times: [Double] = []
                    var rows = 0
                    for _ in 0 ..< 3 {
                        let run = try ChildProcess.run(argv, stdout: out, allowFailure: true)
                        guard run.status == 0 else { note("\(name) failed with exit \(run.status) at \(grouped(size))"); break }
                        times.append(run.seconds)
                        rows = try Bench.countLines(out)
                        if run.seconds > 2 { break }
                    }
                    unlink(out)
                    guard !times.isEmpty else { continue }
                    figures[slot].reports.append(.init(name: name, rows: rows, seconds: median(times)))
                    publish()
                }
            }
            figures[slot].search = try search(cli: cli, db: db, ndjson: ndjson)
            publish()
            figures[slot].export = try export(cli: cli, db: db, work: s.work)
            publish()
            // As a daily cron sees the bundle: `verify` (its full check is recorded in the archive) has run once
            // since the archive grew, so the manifest's verification checks only what was archived after it.
            figures[slot].fullVerify = try ChildProcess.run([cli, "verify", "--db", db, "--quiet"], stdout: "/dev/null").seconds
            publish()
            var allTimes: [Double] = []
            for _ in 0 ..< 3 {
                let folder = s.work + "/all"
                try? FileManager.default.removeItem(atPath: folder)
                allTimes.append(try ChildProcess.run([cli, "report", "--all", "--db", db, "--since", "24h", "--output-dir", folder,
                                                      "--formats", "csv"], stdout: "/dev/null").seconds)
                try? FileManager.default.removeItem(atPath: folder)
                if allTimes.last ?? 0 > 2 { break }
            }
            figures[slot].reportAll = median(allTimes)
            publish()

            if size == s.sizes.min() { figures[slot].upgradeSeconds = try upgrade(cli: cli, db: db, work: s.work, note: note) }
            publish()
        }
        log.append("done")
        publish()
    }

    /// The archive's `PRAGMA user_version` (its schema), read by sqlite3 so that no migration runs.
    static func schemaVersion(_ db: String) throws -> Int {
        Int(try ChildProcess.run(["sqlite3", db, "PRAGMA user_version"]).output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// The bytes of the archive's free pages (PRAGMA freelist_count × page_size).
    static func freePageBytes(_ db: String) throws -> Int64 {
        let numbers = try ChildProcess.run(["sqlite3", db, "PRAGMA freelist_count; PRAGMA page_size;"]).output
            .split(separator: "\n").compactMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
        return numbers.count == 2 ? numbers[0] * numbers[1] : 0
    }

    /// `scale-ingest N DAYS DB NDJSON`: the simulator's events made and archived as sync commits them
    /// (5,000 per transaction), their raw JSON written to the NDJSON as they go; nothing is held.
    static func ingestChild(_ arguments: ArraySlice<String>) throws {
        let values = Array(arguments)
        guard values.count == 4, let count = Int(values[0]), let days = Int(values[1]) else {
            throw ChildProcessError(description: "usage: scale-ingest N DAYS DB NDJSON")
        }
        let archive = try Archive(path: values[2], mode: .readWrite)
        let instance = try archive.instanceID(name: "bench", baseURL: "http://127.0.0.1")
        let run = try archive.beginRun(instance: instance, streams: ["eventlog"], startedAt: Archive.now())
        guard let output = FileHandle(forWritingAtPath: values[3]) ?? {
            FileManager.default.createFile(atPath: values[3], contents: nil)
            return FileHandle(forWritingAtPath: values[3])
        }() else { throw ChildProcessError(description: "cannot write \(values[3])") }
        defer { try? output.close() }
        var stream = SampleEventStream(count: count, days: days, now: Archive.now())
        var page: [Event] = []
        var lines: [UInt8] = []
        page.reserveCapacity(Bench.rowsPerCommit)
        func flush() throws {
            guard !page.isEmpty else { return }
            _ = try archive.transaction {
                try archive.ingest(events: page, instance: instance, run: run, seenAt: Archive.now())
            }
            output.write(Data(lines))
            page.removeAll(keepingCapacity: true)
            lines.removeAll(keepingCapacity: true)
        }
        while let event = stream.next() {
            page.append(Event(id: event.id, action: event.action, creationTime: event.creationTime,
                              epochSeconds: event.epochSeconds, raw: event.json))
            lines += event.json
            lines.append(0x0A)
            if page.count == Bench.rowsPerCommit { try flush() }
        }
        try flush()
        try archive.finishRun(run, result: .success, finishedAt: Archive.now(), counts: RunCounts(), requests: 0, errors: [])
    }

    static func search(cli: String, db: String, ndjson: String) throws -> ScaleFigures.SearchFigure {
        let term = try Bench.selectiveTermFromArchive(db)
        let query = try FTSQuery(words: term)
        var whole: [Double] = []
        var hits = 0
        for _ in 0 ..< 7 {
            let run = try ChildProcess.run([cli, "search", "--db", db, term, "--limit", "100", "--format", "ndjson"])
            whole.append(run.seconds)
            hits = run.output.split(separator: "\n").count
        }
        var sqlite: [Double] = []
        for _ in 0 ..< 7 {
            sqlite.append(try ChildProcess.run(["sqlite3", "-csv", db, Bench.searchSQL(match: query.matchExpression)], stdout: "/dev/null").seconds)
        }
        var rg: Double?
        if ChildProcess.available("rg") {
            var times: [Double] = []
            for _ in 0 ..< 3 {
                times.append(try ChildProcess.run(["rg", "-F", "-c", term, ndjson], stdout: "/dev/null", allowFailure: true).seconds)
            }
            rg = median(times)
        }
        return .init(term: term, hits: hits, whole: median(whole), sqlite: median(sqlite), rg: rg)
    }

    static func export(cli: String, db: String, work: String) throws -> ScaleFigures.ExportFigure {
        let ours = try ChildProcess.run([cli, "events", "--db", db, "--format", "csv", "--output", work + "/events.csv"],
                                        stdout: "/dev/null", measureRSS: true)
        unlink(work + "/events.csv")
        let sqlite = try ChildProcess.run(["sqlite3", "-csv", "-header", db, Bench.exportSQL], stdout: work + "/sqlite3.csv")
        unlink(work + "/sqlite3.csv")
        return .init(ours: ours.seconds, sqlite: sqlite.seconds, rss: ours.peakRSSMegabytes)
    }

    /// The time the first reader takes to bring a copy of the archive from the schema before the
    /// extracted fields up to date (the migrations fill `event_fields` for every version: its creation and
    /// the user fields of 0009).
    static func upgrade(cli: String, db: String, work: String, note: (String) -> Void) throws -> Double? {
        let migrations = ArchiveSchema.migrations
        // What each migration from event_fields on adds, undone here newest first; a later migration must be added.
        let undone = ["_event_fields.sql": "DROP TABLE event_fields;", "_alarms.sql": "DROP TABLE alarms;",
                      "_user_roles.sql": "DROP VIEW user_role_changes;", "_user_role_lookups.sql": "",
                      // 0011 rebuilds the events table from whatever columns it has: run again, it copies the same rows.
                      "_search_text_recomputed.sql": "", "_report_lookups.sql": "", "_login_order.sql": "DROP INDEX IF EXISTS event_fields_logins;",
                      "_verifications.sql": "DROP TABLE verifications;",

                      // 0015's columns and indexes go with 0007's table and 0011's rebuild of the events table.
                      "_report_covering_indexes.sql": "", "_rewrites_by_run.sql": "DROP INDEX IF EXISTS event_versions_rewrites_by_run;",
                      // 0017 remakes 0012's and 0013's indexes, which go with 0007's table.
                      "_login_index_conditions.sql": ""]
        func undo(_ migration: Migration) -> String? { undone.first { migration.fileName.hasSuffix($0.key) }?.value }
        guard let fields = migrations.first(where: { $0.fileName.hasSuffix("_event_fields.sql") }),
              migrations.allSatisfy({ $0.version < fields.version || undo($0) != nil })
        else {
            note("upgrade not measured: a migration after event_fields that this bench does not undo")
            return nil
        }
        let copy = work + "/upgrade.db"
        for suffix in ["", "-wal", "-shm"] { unlink(copy + suffix) }
        try ChildProcess.run(["cp", db, copy])
        try ChildProcess.run(["sqlite3", copy, """
            \(migrations.reversed().filter { $0.version >= fields.version }.compactMap(undo).joined(separator: " "))
            DELETE FROM schema_migrations WHERE version >= \(fields.version);
            PRAGMA user_version = \(fields.version - 1); VACUUM;
            """])
        let run = try ChildProcess.run([cli, "status", "--db", copy], stdout: "/dev/null")
        for suffix in ["", "-wal", "-shm"] { unlink(copy + suffix) }
        return run.seconds
    }

    // MARK: BENCHMARKS.md

    static func render(_ figures: [ScaleFigures], log: [String], settings: ScaleSettings) -> String {
        var text = "## At scale: 1M and 10M events (`make bench-scale`)\n\n"
        text += "Generated by `make bench-scale` (Benchmarks/cloudron-audit-bench/ScaleBench.swift, release build). Archives are "
            + "built by direct ingest of the simulator's events (`SampleEventStream`, \(grouped(settings.eventsPerDay)) events a "
            + "day, so a bigger archive spans more days), cached in \(settings.work). Whole-process wall times; reports run with "
            + "`--since 30d --format ndjson`, median of 3 runs (one run when it takes over 2 s). Causes of misses: "
            + "Benchmarks/NOTES.md, \"At scale\".\n\n"
        for f in figures {
            text += "- \(grouped(f.events)) events: measured until \(f.measuredAt)" + (f.loadLow.flatMap { low in f.loadHigh.map { high in
                String(format: ", load average %.1f–%.1f", low, high) } } ?? "") + "\n"
        }
        text += "- load average: the 1-minute figure of the 2 cores shared with other engineers, read each minute into "
            + "\(settings.work)/load.log\n\n"
        text += "| | " + figures.map { "\(grouped($0.events)) events (\($0.days) days)" }.joined(separator: " | ") + " |\n"
        text += "|---|" + figures.map { _ in "---|" }.joined() + "\n"
        func row(_ label: String, _ cell: (ScaleFigures) -> String) {
            text += "| \(label) | " + figures.map(cell).joined(separator: " | ") + " |\n"
        }
        row("archive / NDJSON") { "\(megabytes($0.archiveBytes)) / \(megabytes($0.ndjsonBytes)) = " + String(format: "%.2f ×", $0.sizeRatio) }
        row("build by direct ingest") { f in
            f.buildSeconds.map { "\(seconds($0)) (\(rate(f.events, $0)))" + (f.buildRSSMegabytes.map { String(format: ", peak RSS %.1f MB", $0) } ?? "") } ?? "-"
        }
        let names = figures.flatMap { $0.reports.map(\.name) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for name in names {
            row("`report \(name)`") { f in f.report(name).map { "\(seconds($0.seconds)), \(grouped($0.rows)) rows" } ?? "-" }
        }
        row("full `verify` (recorded; run once before the next row)") { $0.fullVerify.map(seconds) ?? "-" }
        row("`report --all --since 24h` (after that verify: incremental)") { $0.reportAll.map(seconds) ?? "-" }
        row("`search` top 100 / sqlite3 / rg -c") { f in
            f.search.map { "\(seconds($0.whole)) / \(seconds($0.sqlite)) / " + ($0.rg.map(seconds) ?? "-") + " (\($0.hits) hits for \($0.term))" } ?? "-"
        }
        row("`events --format csv` / sqlite3 -csv") { f in
            f.export.map { "\(seconds($0.ours)) (\(rate(f.events, $0.ours)), RSS \(String(format: "%.1f", $0.rss)) MB) / \(seconds($0.sqlite))" } ?? "-"
        }
        row("upgrade to the extracted fields (first reader)") { $0.upgradeSeconds.map(seconds) ?? "-" }

        text += "\n### Targets\n\n| target | measured | met |\n|---|---|---|\n"
        func target(_ what: String, _ measured: String, _ met: Bool?) {
            text += "| \(what) | \(measured) | \(met.map { $0 ? "yes" : "**no**" } ?? "not measured") |\n"
        }
        let small = figures.first, large = figures.count > 1 ? figures.last : nil
        if let big = large ?? small {
            let label = "\(grouped(big.events)) events"
            let summaries = big.reports.filter { $0.name.hasSuffix("--summary") }
            target("\(label): every `--summary` ≤ 1 s", summaries.map { "\($0.name) \(seconds($0.seconds))" }.joined(separator: "; "),
                   summaries.isEmpty ? nil : summaries.allSatisfy { $0.seconds <= 1 })
            let small100k = big.reports.filter { !$0.name.hasSuffix("--summary") && $0.rows < 100_000 }
            target("\(label): every report with < 100k rows over 30 days ≤ 1 s",
                   small100k.map { "\($0.name) \(seconds($0.seconds))" }.joined(separator: "; "),
                   small100k.isEmpty ? nil : small100k.allSatisfy { $0.seconds <= 1 })
            target("\(label): `report --all --since 24h` ≤ 2 s", big.reportAll.map(seconds) ?? "-", big.reportAll.map { $0 <= 2 })
            let logins = big.report("logins")
            target("\(label): `logins --since 30d` ≥ 200k rows/s", logins.map { rate($0.rows, $0.seconds) } ?? "-",
                   logins.map { Double($0.rows) / $0.seconds >= 200_000 })
            if let search = big.search {
                let rgRatio = search.rg.map { $0 / search.whole }
                target("\(label): `search` ≤ sqlite3 + 15 ms; ≥ 50 × faster than `rg -c`",
                       "\(seconds(search.whole)) vs sqlite3 \(seconds(search.sqlite))" + (rgRatio.map { String(format: "; rg %.0f × slower", $0) } ?? ""),
                       search.whole <= search.sqlite + 0.015 && (rgRatio ?? 0) >= 50)
            }
        }
        if let small, let large {
            let growth = large.reports.compactMap { report -> (String, Double)? in
                guard let before = small.report(report.name) else { return nil }
                return (report.name, report.seconds / before.seconds)
            }
            target("no report grows faster than its input: time at \(grouped(large.events)) ≤ 12 × time at \(grouped(small.events))",
                   growth.map { "\($0.0) " + String(format: "%.1f ×", $0.1) }.joined(separator: "; "),
                   growth.isEmpty ? nil : growth.allSatisfy { $0.1 <= 12 })
        }
        for f in figures {
            target("archive ≤ 1.5 × NDJSON, \(grouped(f.events)) events", String(format: "%.2f ×", f.sizeRatio), f.sizeRatio <= 1.5)
        }
        if let big = large ?? small, let rss = big.buildRSSMegabytes {
            target("peak RSS of a \(grouped(big.events))-event ingest ≤ 100 MB", String(format: "%.1f MB", rss), rss <= 100)
        }
        if let upgrade = small?.upgradeSeconds {
            target("a \(grouped(small?.events ?? 0))-event archive upgrades in under a minute", seconds(upgrade), upgrade < 60)
        }
        let lines = figures.flatMap(\.log) + log
        if !lines.isEmpty { text += "\n### Run log\n\n" + lines.map { "- " + $0 }.joined(separator: "\n") + "\n" }
        return text
    }
}

/// The machine's load average, read from /proc/loadavg when started and then each minute into a log beside
/// the archives: the 2 cores are shared with other engineers, and a wall time means little without the load
/// it was taken under. The thread ends with the process.
final class LoadLog: @unchecked Sendable {
    private let lock = NSLock()
    private var samples: [Double] = []
    private let path: String

    init(path: String) {
        self.path = path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let thread = Thread { [self] in
            while true {
                sample()
                Thread.sleep(forTimeInterval: 60)
            }
        }
        thread.start()
    }

    /// How many readings so far.
    var count: Int { lock.withLock { samples.count } }

    /// The lowest and highest 1-minute load average read since reading number `start` (0 for all).
    func range(from start: Int) -> (min: Double, max: Double)? {
        lock.withLock {
            let recent = samples.dropFirst(start)
            guard let low = recent.min(), let high = recent.max() else { return nil }
            return (low, high)
        }
    }

    private func sample() {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first, let value = Double(first) else { return }
        lock.withLock { samples.append(value) }
        let line = ISO8601DateFormatter().string(from: Date()) + " " + text.trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            try? handle.close()
        }
    }
}
