// cloudron-audit-bench: measures sync, search, reports and export (issue 5) and writes BENCHMARKS.md.
//
// Everything runs in this one process run: the simulator (`fake-cloudron`) makes the data, the
// release `cloudron-audit` binary does what a user would run, and the other tools (sqlite3,
// sqlite-utils, rg, jq) do the same work on the same events. Not a test: nothing here asserts.
//
//   cloudron-audit-bench --bin .build-bench/release --work .build-bench/bench-data \
//       --venv .build-bench/venv --output BENCHMARKS.md --notes Benchmarks/NOTES.md

import Archiver
import Client
import Foundation
import Query
#if canImport(Glibc)
import Glibc
#endif

struct Settings {
    var bin = ".build-bench/release"
    var work = ".build-bench/bench-data"
    var venv = ".build-bench/venv"
    var output = "BENCHMARKS.md"
    var notes: String? = "Benchmarks/NOTES.md"
    var smallEvents = 100_000
    var largeEvents = 1_000_000
    /// Seconds the whole bench may take; the 1M sync is skipped for a smaller one when the measured
    /// rate says it would not fit.
    var budgetSeconds = 540.0

    init(arguments: [String]) {
        var index = 1
        func value() -> String {
            index += 1
            return index < arguments.count ? arguments[index] : ""
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--bin": bin = value()
            case "--work": work = value()
            case "--venv": venv = value()
            case "--output": output = value()
            case "--notes": notes = value()
            case "--small": smallEvents = Int(value()) ?? smallEvents
            case "--large": largeEvents = Int(value()) ?? largeEvents
            case "--budget": budgetSeconds = Double(value()) ?? budgetSeconds
            default: FileHandle.standardError.write(Data("unknown argument \(arguments[index])\n".utf8)); exit(64)
            }
            index += 1
        }
    }
}

/// A running `fake-cloudron`, stopped when the bench is done with it.
struct SimulatorProcess {
    let pid: pid_t
    let url: String
    let token: String
    let startSeconds: Double

    static func start(bin: String, events: Int, work: String) throws -> SimulatorProcess {
        let banner = work + "/sim-\(events).txt"
        let started = monotonicSeconds()
        let pid = try ChildProcess.spawn([bin + "/fake-cloudron", "--events", String(events)], stdout: banner)
        for _ in 0 ..< 3000 {
            if let text = try? String(contentsOfFile: banner, encoding: .utf8), text.contains("readonly-token:") {
                var url = "", token = ""
                for line in text.split(separator: "\n") {
                    if line.hasPrefix("url: ") { url = String(line.dropFirst(5)) }
                    if line.hasPrefix("readonly-token: ") { token = String(line.dropFirst(16)) }
                }
                return SimulatorProcess(pid: pid, url: url, token: token, startSeconds: monotonicSeconds() - started)
            }
            usleep(50_000)
        }
        ChildProcess.stop(pid)
        throw ChildProcessError(description: "fake-cloudron --events \(events) did not start")
    }

    /// API requests served so far per endpoint (from the simulator's own counter).
    func apiRequests() throws -> [String: Int] {
        let run = try ChildProcess.run(["curl", "-sS", url + "/_sim/requests"])
        let counts = (try? JSONSerialization.jsonObject(with: Data(run.output.utf8))) as? [String: Any] ?? [:]
        return counts.filter { $0.key.hasPrefix("/api/") }.compactMapValues { $0 as? Int }
    }

    func stop() { ChildProcess.stop(pid) }
}

@main
struct Bench {
    static func main() async {
        let arguments = CommandLine.arguments
        if arguments.count > 1 && arguments[1] == "store" {
            do { try StoreBench.main(arguments.dropFirst(2)) } catch {
                FileHandle.standardError.write(Data("store: \(error)\n".utf8))
                exit(1)
            }
            return
        }
        if arguments.count > 1 && (arguments[1] == "scale" || arguments[1] == "scale-ingest") {
            do {
                if arguments[1] == "scale" { try ScaleBench.main(arguments.dropFirst(2)) } else { try ScaleBench.ingestChild(arguments.dropFirst(2)) }
            } catch {
                FileHandle.standardError.write(Data("\(arguments[1]): \(error)\n".utf8))
                exit(1)
            }
            return
        }
        if arguments.count == 4 && arguments[1] == "ingest" {
            do { try ingestChild(ndjson: arguments[2], db: arguments[3]) } catch {
                FileHandle.standardError.write(Data("ingest: \(error)\n".utf8))
                exit(1)
            }
            return
        }
        let settings = Settings(arguments: arguments)
        var report = BenchReport(path: settings.output, notesPath: settings.notes)
        do {
            try await run(settings, &report)
        } catch {
            report.note("stopped early: \(error)")
            exit(1)
        }
    }

    /// `cloudron-audit-bench ingest NDJSON DB`: decodes the lines (not timed), then times the archive's
    /// ingest of them, committed as sync commits, and prints the seconds.
    static func ingestChild(ndjson: String, db: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: ndjson))
        var events: [Event] = []
        for line in data.split(separator: 0x0A) where !line.isEmpty {
            let raw = [UInt8](line)
            guard let object = try JSONSerialization.jsonObject(with: Data(raw)) as? [String: Any],
                  let id = object["id"] as? String, let action = object["action"] as? String,
                  let time = object["creationTime"] as? String, let epoch = CreationTime.epochSeconds(time) else {
                throw ChildProcessError(description: "an NDJSON line is not an event")
            }
            events.append(Event(id: id, action: action, creationTime: time, epochSeconds: epoch, raw: raw))
        }
        print(try rawIngest(events, into: db))
    }

    static func selfPath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    static func countLines(_ path: String) throws -> Int {
        try Data(contentsOf: URL(fileURLWithPath: path)).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    static func run(_ s: Settings, _ report: inout BenchReport) async throws {
        let work = s.work
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        ChildProcess.stderrPath = work + "/children-stderr.log"
        let cli = s.bin + "/cloudron-audit"
        report.machine = machineLines(s)
        report.write()

        // MARK: 100k: B1, B2, sqlite-utils
        let small = try SimulatorProcess.start(bin: s.bin, events: s.smallEvents, work: work)
        report.note("simulator built \(grouped(s.smallEvents)) events and listened in \(seconds(small.startSeconds))")
        let env = ["CLOUDRON_TOKEN": small.token]
        let smallDB = work + "/small.db"
        let sync = try ChildProcess.run([cli, "sync", "--url", small.url, "--db", smallDB, "--quiet"], stdout: "/dev/null",
                                        environment: env, measureRSS: true)
        let syncedSmall = try countEvents(smallDB)
        // Best of three (each into a new archive): other work on this shared machine only ever adds time.
        var syncTimes = [sync.seconds]
        for attempt in 2 ... 3 {
            let path = work + "/small-\(attempt).db"
            syncTimes.append(try ChildProcess.run([cli, "sync", "--url", small.url, "--db", path, "--quiet"], stdout: "/dev/null",
                                                  environment: env).seconds)
            for suffix in ["", "-wal", "-shm", ".lock"] { unlink(path + suffix) }
        }
        let syncSeconds = syncTimes.min() ?? sync.seconds
        let syncRate = Double(syncedSmall) / syncSeconds
        report.note("B1 sync: \(grouped(syncedSmall)) events in " + syncTimes.map(seconds).joined(separator: ", ")
                    + ", peak RSS \(String(format: "%.1f", sync.peakRSSMegabytes)) MB")

        // The same rows fetched once more, then ingested with no HTTP, in a fresh process like the
        // sync's (same start, same heap): the tool's own ceiling.
        let smallNDJSON = work + "/small.ndjson"
        let searchTermSmall: String
        do {
            let events = try await fetchAll(url: small.url, token: small.token, count: syncedSmall)
            try writeNDJSON(events, to: smallNDJSON)
            searchTermSmall = try selectiveTerm(in: events)
        }
        let fetchedCount = try countLines(smallNDJSON)
        var ingestTimes: [Double] = []
        for _ in 1 ... 3 {
            let path = work + "/raw.db"
            for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
            let ingestRun = try ChildProcess.run([selfPath(), "ingest", smallNDJSON, path])
            guard let ingestSeconds = Double(ingestRun.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw ChildProcessError(description: "the ingest child printed \(ingestRun.output)")
            }
            ingestTimes.append(ingestSeconds)
        }
        let ingestSeconds = ingestTimes.min() ?? .nan
        let ingestRate = Double(fetchedCount) / ingestSeconds
        report.note("raw ingest: \(grouped(fetchedCount)) events in " + ingestTimes.map(seconds).joined(separator: ", "))

        // B2: a second sync with nothing new.
        let requestsBefore = try small.apiRequests()
        let noop = try ChildProcess.run([cli, "sync", "--url", small.url, "--db", smallDB, "--quiet"], stdout: "/dev/null",
                                        environment: env)
        let requestsAfter = try small.apiRequests()
        var noopTimes = [noop.seconds]
        for _ in 2 ... 5 {
            noopTimes.append(try ChildProcess.run([cli, "sync", "--url", small.url, "--db", smallDB, "--quiet"],
                                                  stdout: "/dev/null", environment: env).seconds)
        }
        let noopSeconds = median(noopTimes)
        let perStream = requestsAfter.keys.sorted().map { key in (key, requestsAfter[key, default: 0] - requestsBefore[key, default: 0]) }
        let requestText = perStream.map { "\($0.1) to \($0.0.replacingOccurrences(of: "/api/v1/", with: ""))" }.joined(separator: ", ")
        report.set(TargetRow(id: "B2", what: "no-op incremental sync on the \(grouped(syncedSmall))-event archive",
                             target: "≤ 2 list requests per stream, ≤ 0.2 s whole process",
                             measured: "requests: \(requestText); median of 5 runs \(seconds(noopSeconds)) "
                                + "(" + noopTimes.map(seconds).joined(separator: ", ") + ")",
                             met: perStream.allSatisfy { $0.1 <= 2 } && noopSeconds <= 0.2))
        small.stop()

        // sqlite-utils: the NDJSON of the same events from a local file, then full-text search.
        var sqliteUtilsSeconds: Double?
        let sqliteUtils = s.venv + "/bin/sqlite-utils"
        if FileManager.default.isExecutableFile(atPath: sqliteUtils) {
            let db = work + "/sqlite-utils.db"
            // Best of two, as the sync is timed best of three.
            var best: (insert: Double, fts: Double)?
            for _ in 1 ... 2 {
                for suffix in ["", "-wal", "-shm"] { unlink(db + suffix) }
                let insert = try ChildProcess.run([sqliteUtils, "insert", db, "events", smallNDJSON, "--nl", "--pk", "id"],
                                                  stdout: "/dev/null")
                let fts = try ChildProcess.run([sqliteUtils, "enable-fts", db, "events", "action", "source", "data"],
                                               stdout: "/dev/null")
                if best.map({ insert.seconds + fts.seconds < $0.insert + $0.fts }) ?? true { best = (insert.seconds, fts.seconds) }
            }
            let load = best ?? (.nan, .nan)
            sqliteUtilsSeconds = load.insert + load.fts
            report.compare("load \(grouped(fetchedCount)) events + full-text index", "sqlite-utils insert --nl + enable-fts (local file), best of 2",
                           "\(seconds(load.insert + load.fts)) (\(rate(fetchedCount, load.insert + load.fts)); insert \(seconds(load.insert)), FTS \(seconds(load.fts)))")
            var times: [Double] = []
            for _ in 0 ..< 3 {
                times.append(try ChildProcess.run([sqliteUtils, "search", db, "events", searchTermSmall, "--limit", "100", "--quote"],
                                                  stdout: "/dev/null").seconds)
            }
            report.compare("search \(grouped(fetchedCount)) events for one IP, top 100", "sqlite-utils search", "median \(seconds(median(times)))")
        } else {
            report.note("sqlite-utils not found at \(sqliteUtils): its comparison is left out")
        }
        report.compare("archive \(grouped(syncedSmall)) events", "cloudron-audit sync over HTTP (loopback), best of 3",
                       "\(seconds(syncSeconds)) (\(rate(syncedSmall, syncSeconds)))")
        report.compare("archive \(grouped(fetchedCount)) events", "the tool's ingest alone (no HTTP, own process), best of 3",
                       "\(seconds(ingestSeconds)) (\(rate(fetchedCount, ingestSeconds)))")
        var b1 = "best of 3: \(rate(syncedSmall, syncSeconds)) = \(String(format: "%.2f", syncRate / ingestRate)) × raw ingest (\(rate(fetchedCount, ingestSeconds)))"
        var b1Met = syncRate / ingestRate >= 0.7
        if let sqliteUtilsSeconds {
            b1 += "; \(String(format: "%.1f", sqliteUtilsSeconds / syncSeconds)) × faster than sqlite-utils"
            b1Met = b1Met && sqliteUtilsSeconds / syncSeconds >= 2.5
        }
        report.set(TargetRow(id: "B1", what: "full sync of \(grouped(syncedSmall)) events from the simulator over loopback",
                             target: "≥ 0.7 × the tool's raw ingest of the same rows; ≥ 2.5 × faster than sqlite-utils' local load",
                             measured: b1, met: b1Met))
        report.set(TargetRow(id: "B7", what: "archive size, \(grouped(syncedSmall)) events",
                             target: "≤ 1.7 × the NDJSON of the same events",
                             measured: sizeRatio(db: smallDB, ndjson: smallNDJSON).text,
                             met: sizeRatio(db: smallDB, ndjson: smallNDJSON).ratio <= 1.7))

        // MARK: 1M: B6 (a real sync), then B3–B5 and B7 on that archive
        let elapsed = Date().timeIntervalSince(report.started)
        // Budget: the 1M sync, then about 90 s of queries, exports and comparisons.
        let affordable = Int(syncRate * max(30, s.budgetSeconds - elapsed - 90 - 25))
        var largeCount = s.largeEvents
        if affordable < largeCount {
            largeCount = max(s.smallEvents, (affordable / 100_000) * 100_000)
            report.note("a \(grouped(s.largeEvents))-event sync would not fit the time budget at \(rate(syncedSmall, sync.seconds)): "
                        + "B3–B6 use \(grouped(largeCount)) events")
        }
        let large = try SimulatorProcess.start(bin: s.bin, events: largeCount, work: work)
        report.note("simulator built \(grouped(largeCount)) events and listened in \(seconds(large.startSeconds))")
        let largeDB = work + "/large.db"
        let bigSync = try ChildProcess.run([cli, "sync", "--url", large.url, "--db", largeDB, "--quiet"], stdout: "/dev/null",
                                           environment: ["CLOUDRON_TOKEN": large.token], measureRSS: true)
        large.stop()
        let largeEvents = try countEvents(largeDB)
        report.note("large sync: \(grouped(largeEvents)) events in \(seconds(bigSync.seconds)) (\(rate(largeEvents, bigSync.seconds)))")
        report.set(TargetRow(id: "B6", what: "peak RSS of a \(grouped(largeEvents))-event sync", target: "≤ 100 MB",
                             measured: String(format: "%.1f MB (sync took %@, %@)", bigSync.peakRSSMegabytes,
                                              seconds(bigSync.seconds), rate(largeEvents, bigSync.seconds)),
                             met: bigSync.peakRSSMegabytes <= 100))

        // The NDJSON of the same events: the raw JSON exactly as the server sent it, one per line.
        let largeNDJSON = work + "/large.ndjson"
        try ChildProcess.run(["sqlite3", largeDB, "SELECT raw FROM event_versions ORDER BY id"], stdout: largeNDJSON)
        let sizes = sizeRatio(db: largeDB, ndjson: largeNDJSON)
        report.set(TargetRow(id: "B7", what: "archive size, \(grouped(largeEvents)) events", target: "≤ 1.7 × the NDJSON of the same events",
                             measured: sizes.text, met: sizes.ratio <= 1.7))

        try searchBench(cli: cli, db: largeDB, ndjson: largeNDJSON, count: largeEvents, &report)
        try reportBench(cli: cli, db: largeDB, count: largeEvents, work: work, &report)
        try exportBench(cli: cli, db: largeDB, ndjson: largeNDJSON, count: largeEvents, work: work, &report)
        report.note("done")
    }

    // MARK: B3

    static func searchBench(cli: String, db: String, ndjson: String, count: Int, _ report: inout BenchReport) throws {
        let term = try selectiveTermFromArchive(db)
        let query = try FTSQuery(words: term)
        let session = try ReadSession(path: db)
        var inProcess: [Double] = []
        var hits = 0
        let devNull = open("/dev/null", O_WRONLY)
        defer { close(devNull) }
        for _ in 0 ..< 21 {
            var writer = CSVWriter(sink: OutputSink(fileDescriptor: devNull))
            let start = monotonicSeconds()
            hits = try SearchQuery(query: query, filter: EventFilter(limit: 100)).run(on: session, into: &writer)
            inProcess.append(monotonicSeconds() - start)
        }
        var process: [Double] = []
        for _ in 0 ..< 7 {
            process.append(try ChildProcess.run([cli, "search", "--db", db, term, "--limit", "100", "--format", "csv"],
                                                stdout: "/dev/null").seconds)
        }
        let sql = searchSQL(match: query.matchExpression)
        var sqlite: [Double] = []
        for _ in 0 ..< 7 {
            sqlite.append(try ChildProcess.run(["sqlite3", "-csv", db, sql], stdout: "/dev/null").seconds)
        }
        var ripgrep: [Double] = []
        var rgAvailable = ChildProcess.available("rg")
        if rgAvailable {
            for _ in 0 ..< 3 {
                ripgrep.append(try ChildProcess.run(["rg", "-F", "-c", term, ndjson], stdout: "/dev/null", allowFailure: true).seconds)
            }
        } else {
            rgAvailable = false
            report.note("rg not installed: its comparison is left out")
        }
        let inside = median(inProcess), whole = median(process), sq = median(sqlite)
        var measured = "\(hits) hits for \(term): median \(seconds(inside)) in process; whole process \(seconds(whole)) = "
            + String(format: "%.2f", whole / sq) + " × sqlite3 (\(seconds(sq)))"
        var met = inside <= 0.010 && whole <= 2 * sq
        if rgAvailable {
            let rg = median(ripgrep)
            measured += "; rg \(seconds(rg)) = " + String(format: "%.0f", rg / whole) + " × slower"
            met = met && rg >= 10 * whole
            report.compare("find one IP in \(grouped(count)) events", "rg -F -c over the NDJSON", "median \(seconds(rg))")
        }
        report.compare("find one IP in \(grouped(count)) events, top 100", "sqlite3 with the same SQL", "median \(seconds(sq))")
        report.compare("find one IP in \(grouped(count)) events, top 100", "cloudron-audit search (whole process)", "median \(seconds(whole))")
        report.set(TargetRow(id: "B3", what: "`search` for a selective term, \(grouped(count)) events, top 100",
                             target: "median ≤ 10 ms in process; process ≤ 2 × sqlite3; ≥ 10 × faster than rg",
                             measured: measured, met: met))
    }

    /// The SQL the tool runs for `search` (SearchQuery, events only, no filters), given to sqlite3 as text. Without
    /// the snippet: since schema 11 the index keeps no text for snippet(), and search makes its snippets from the
    /// raw JSON of the rows it prints, which sqlite3 cannot.
    static func searchSQL(match expression: String) -> String {
        let match = expression.replacingOccurrences(of: "'", with: "''")
        return """
            SELECT kind, api_id, epoch, instance, summary, snippet, raw FROM (
            SELECT 'event' AS kind, e.api_id AS api_id, e.creation_epoch AS epoch, i.name AS instance,
                   e.action AS summary, NULL AS snippet, v.raw AS raw,
                   bm25(events_fts) AS score, e.id AS row_id
            FROM events_fts JOIN events e ON e.id = events_fts.rowid
            JOIN event_versions v ON v.event_id = e.id AND v.version = e.version
            JOIN instances i ON i.id = e.instance_id
            WHERE events_fts MATCH '\(match)')
            ORDER BY epoch DESC, kind, row_id DESC LIMIT 100
            """
    }

    // MARK: B4

    static func reportBench(cli: String, db: String, count: Int, work: String, _ report: inout BenchReport) throws {
        var times: [Double] = []
        var failed: ChildRun?
        for _ in 0 ..< 7 {
            let run = try ChildProcess.run([cli, "report", "logins", "--db", db, "--since", "30d", "--format", "csv"],
                                           stdout: "/dev/null", allowFailure: true)
            if run.status != 0 { failed = run; break }
            times.append(run.seconds)
        }
        if let failed {
            report.set(TargetRow(id: "B4", what: "`report logins --since 30d`, \(grouped(count)) events", target: "≤ 100 ms",
                                 measured: "failed (exit \(failed.status))", met: nil))
            return
        }
        let whole = median(times)
        let rows = try ChildProcess.run([cli, "report", "logins", "--db", db, "--since", "30d", "--format", "csv"],
                                        stdout: work + "/logins.csv")
        let lines = try countLines(work + "/logins.csv") - 1
        unlink(work + "/logins.csv")
        _ = rows
        var measured = "median \(seconds(whole)) (whole process) for \(grouped(lines)) rows"
        // The same SQL (the report's file, parameters bound the same way) run by sqlite3.
        if let text = try? String(contentsOfFile: "Sources/Query/reports/logins.sql", encoding: .utf8) {
            var sql = (text.components(separatedBy: "\n-- summary\n").first ?? text)
                .split(separator: "\n").filter { !$0.hasPrefix("--") }.joined(separator: "\n")
            // sqlite3's `.parameter set` cannot bind NULL (it stores the text 'NULL'): the values go in as literals.
            let since = Int(Date().timeIntervalSince1970) - 30 * 86400
            for (name, value) in [("since", String(since)), ("until", "NULL"), ("instance", "NULL"), ("user", "NULL"),
                                  ("app", "NULL"), ("ip", "NULL"), ("limit", "-1")] {
                sql = sql.replacingOccurrences(of: ":" + name, with: value)
            }
            let argv = ["sqlite3", "-csv"]
            var sqliteTimes: [Double] = []
            for _ in 0 ..< 3 {
                sqliteTimes.append(try ChildProcess.run(argv + [db, sql], stdout: "/dev/null").seconds)
            }
            let sq = median(sqliteTimes)
            measured += "; sqlite3 running the same SQL: \(seconds(sq)) (" + String(format: "%.2f", whole / sq) + " ×)"
            report.compare("`report logins --since 30d` over \(grouped(count)) events", "sqlite3 with the same SQL",
                           "median \(seconds(sq))")
        }
        var summary: [Double] = []
        for _ in 0 ..< 3 {
            summary.append(try ChildProcess.run([cli, "report", "logins", "--summary", "--db", db, "--since", "30d", "--format", "csv"],
                                                stdout: "/dev/null").seconds)
        }
        report.compare("`report logins --since 30d --summary` over \(grouped(count)) events", "cloudron-audit (whole process)",
                       "median \(seconds(median(summary)))")
        var startup: [Double] = []
        for _ in 0 ..< 7 {
            startup.append(try ChildProcess.run([cli, "--version"], stdout: "/dev/null").seconds)
        }
        report.compare("start and exit, no work", "cloudron-audit --version", "median \(seconds(median(startup)))")
        report.set(TargetRow(id: "B4", what: "`report logins --since 30d`, \(grouped(count)) events", target: "≤ 100 ms",
                             measured: measured, met: whole <= 0.100))
    }

    // MARK: B5

    /// The same columns as `events --format csv`: id, action, creationTime, source, data, instance.
    static let exportSQL = """
        SELECT e.api_id AS id, e.action, strftime('%Y-%m-%dT%H:%M:%SZ', e.creation_epoch, 'unixepoch') AS creationTime,
               json_extract(v.raw, '$.source') AS source, json_extract(v.raw, '$.data') AS data, i.name AS instance
        FROM events e JOIN event_versions v ON v.event_id = e.id AND v.version = e.version
        JOIN instances i ON i.id = e.instance_id ORDER BY e.creation_epoch DESC, e.id DESC
        """

    static func exportBench(cli: String, db: String, ndjson: String, count: Int, work: String,
                            _ report: inout BenchReport) throws {
        let ours = try ChildProcess.run([cli, "events", "--db", db, "--format", "csv", "--output", work + "/events.csv"],
                                        stdout: "/dev/null", measureRSS: true)
        let sqlite = try ChildProcess.run(["sqlite3", "-csv", "-header", db, exportSQL], stdout: work + "/sqlite3.csv")
        report.compare("export \(grouped(count)) events to CSV", "sqlite3 -csv (same columns)",
                       "\(seconds(sqlite.seconds)) (\(rate(count, sqlite.seconds)))")
        report.compare("export \(grouped(count)) events to CSV", "cloudron-audit events --format csv",
                       "\(seconds(ours.seconds)) (\(rate(count, ours.seconds))), peak RSS \(String(format: "%.1f", ours.peakRSSMegabytes)) MB")
        let ratio = sqlite.seconds / ours.seconds
        report.set(TargetRow(id: "B5", what: "`events --format csv` of \(grouped(count)) rows to a file",
                             target: "≥ 0.8 × the speed of `sqlite3 -csv`; peak RSS ≤ 50 MB",
                             measured: "\(seconds(ours.seconds)) = " + String(format: "%.2f", ratio)
                                + " × sqlite3's speed (\(seconds(sqlite.seconds))); peak RSS "
                                + String(format: "%.1f MB", ours.peakRSSMegabytes),
                             met: ratio >= 0.8 && ours.peakRSSMegabytes <= 50))
        for path in [work + "/events.csv", work + "/sqlite3.csv"] { unlink(path) }
        if ChildProcess.available("jq") {
            let jq = try ChildProcess.run(["jq", "-r", "[.id, .action, .creationTime, (.source | tojson), (.data | tojson)] | @csv", ndjson],
                                          stdout: work + "/jq.csv")
            unlink(work + "/jq.csv")
            report.compare("export \(grouped(count)) events to CSV", "jq -r @csv over the NDJSON", "\(seconds(jq.seconds)) (\(rate(count, jq.seconds)))")
        }
    }

    // MARK: Data

    /// Every event in one request: one request is one consistent snapshot, while pages would split
    /// groups of tied seconds (shown twice or never), which is what sync's walk exists to handle.
    static func fetchAll(url: String, token: String, count: Int) async throws -> [Event] {
        var configuration = try ClientConfiguration(baseURL: url, token: APIToken(token))
        configuration.maxResponseBytes = 4 << 30
        configuration.requestTimeout = 600
        let client = try CloudronClient(configuration: configuration)
        return try await client.eventPage(page: 1, perPage: count + 1).events
    }

    static func writeNDJSON(_ events: [Event], to path: String) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(events.reduce(0) { $0 + $1.raw.count + 1 })
        for event in events {
            bytes += event.raw
            bytes.append(0x0A)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Rows per transaction, as the sync commits them (EventLogSync.rowsPerCommit).
    static let rowsPerCommit = 5000

    /// The archive's own ingest of already-decoded rows, committed as sync commits them: what sync
    /// would cost if HTTP and decoding were free.
    static func rawIngest(_ events: [Event], into path: String) throws -> Double {
        let start = monotonicSeconds()
        let archive = try Archive(path: path, mode: .readWrite)
        let instance = try archive.instanceID(name: "bench", baseURL: "http://127.0.0.1")
        let run = try archive.beginRun(instance: instance, streams: ["eventlog"], startedAt: 0)
        var index = 0
        while index < events.count {
            let page = Array(events[index ..< min(events.count, index + rowsPerCommit)])
            _ = try archive.transaction {
                try archive.ingest(events: page, instance: instance, run: run, seenAt: Int64(Date().timeIntervalSince1970))
            }
            index += rowsPerCommit
        }
        return monotonicSeconds() - start
    }

    static func countEvents(_ db: String) throws -> Int {
        let archive = try Archive(path: db, mode: .readOnly)
        return Int(try archive.database.scalarInt("SELECT count(*) FROM events") ?? 0)
    }

    /// The IP of a login that happened once: the kind of term an incident responder searches.
    static func selectiveTerm(in events: [Event]) throws -> String {
        for event in events.dropFirst(events.count / 3) where event.action == "user.login" {
            if let source = RawJSONText.member("source", of: event.raw), let ip = RawJSONText.string("ip", in: source),
               !ip.contains(":") {
                return ip
            }
        }
        throw ChildProcessError(description: "no login with an IPv4 address in the data")
    }

    static func selectiveTermFromArchive(_ db: String) throws -> String {
        let archive = try Archive(path: db, mode: .readOnly)
        let total = try archive.database.scalarInt("SELECT count(*) FROM events") ?? 0
        let ip = try archive.database.scalarString("""
            SELECT json_extract(v.raw, '$.source.ip') FROM events e JOIN event_versions v ON v.event_id = e.id
            WHERE e.action = 'user.login' AND e.id > ? AND json_extract(v.raw, '$.source.ip') NOT LIKE '%:%' LIMIT 1
            """, [.integer(total / 3)])
        guard let ip else { throw ChildProcessError(description: "no login with an IPv4 address in the archive") }
        return ip
    }

    static func sizeRatio(db: String, ndjson: String) -> (ratio: Double, text: String) {
        let archive = fileSize(db) + fileSize(db + "-wal")
        let plain = fileSize(ndjson)
        let ratio = Double(archive) / Double(max(1, plain))
        return (ratio, "\(megabytes(archive)) for \(megabytes(plain)) of NDJSON = " + String(format: "%.2f ×", ratio))
    }

    static func machineLines(_ s: Settings) -> [String] {
        let cpu = ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "")
            .split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let memory = ((try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? "")
            .split(separator: "\n").first { $0.hasPrefix("MemTotal") }.map { String($0.dropFirst(9)).trimmingCharacters(in: .whitespaces) } ?? "?"
        let formatter = ISO8601DateFormatter()
        func version(_ argv: [String]) -> String {
            ((try? ChildProcess.run(argv, allowFailure: true).output) ?? "").split(separator: "\n").first.map(String.init) ?? "missing"
        }
        return [
            "date: \(formatter.string(from: Date()))",
            "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores (nproc), CPU \(cpu), memory \(memory)",
            "events: \(grouped(s.smallEvents)) for B1, B2 and the sqlite-utils load; \(grouped(s.largeEvents)) asked for B3–B6",
            "tools: \(version(["sqlite3", "--version"]).split(separator: " ").prefix(1).joined()) (sqlite3), "
                + "\(version([s.venv + "/bin/sqlite-utils", "--version"])), \(version(["rg", "--version"])), \(version(["jq", "--version"]))",
        ]
    }
}

/// Reads a top-level member of raw JSON for picking search terms (bench-only; the archive has its own).
enum RawJSONText {
    static func member(_ key: String, of raw: [UInt8]) -> [String: Any]? {
        let object = (try? JSONSerialization.jsonObject(with: Data(raw))) as? [String: Any]
        return object?[key] as? [String: Any]
    }

    static func string(_ key: String, in object: [String: Any]) -> String? {
        object[key] as? String
    }
}
