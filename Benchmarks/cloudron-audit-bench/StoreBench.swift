// `make bench-store` (issue 13 part 3; `make bench` runs it too): the central PostgreSQL store on a
// throwaway cluster (ScratchPostgres, as the tests use). `push` of 100,000 synced events against
// `psql \copy` of the very rows it wrote, into empty copies of the same tables; then, when `make
// bench-scale` has built its 1,000,000-event archive, a push of it and a few reports run on PostgreSQL
// (`--from`) next to the same reports on SQLite (`--db`). Writes its own section of BENCHMARKS.md,
// with the load average next to each figure (the machine is shared); nothing here asserts.
//
//   cloudron-audit-bench store --bin .build-bench/release --work .build-bench/store --output BENCHMARKS.md \
//       --large .build-bench/scale/events-1000000.db

import CentralStore
import Foundation
import ScratchPostgres
#if canImport(Glibc)
import Glibc
#endif

struct StoreSettings {
    var bin = ".build-bench/release"
    var work = ".build-bench/store"
    var output = "BENCHMARKS.md"
    var events = 100_000
    /// `make bench-scale`'s cached archive; read only through a copy (sqlite3 .backup into `work`).
    var large = ".build-bench/scale/events-1000000.db"

    init(arguments: ArraySlice<String>) {
        var rest = arguments
        while let flag = rest.popFirst() {
            let value = rest.popFirst() ?? ""
            switch flag {
            case "--bin": bin = value
            case "--work": work = value
            case "--output": output = value
            case "--events": events = Int(value) ?? events
            case "--large": large = value
            default: FileHandle.standardError.write(Data("unknown argument \(flag)\n".utf8)); exit(64)
            }
        }
    }
}

enum StoreBench {
    /// The reports compared at 1M events (with their extra arguments).
    static let reports: [[String]] = [["logins"], ["logins", "--summary"], ["backups"], ["admin-changes"]]

    struct Row {
        var work: String
        var tool: String
        var measured: String
        var load: String
    }

    static func main(_ arguments: ArraySlice<String>) throws {
        let s = StoreSettings(arguments: arguments)
        try FileManager.default.createDirectory(atPath: s.work, withIntermediateDirectories: true)
        ChildProcess.stderrPath = s.work + "/children-stderr.log"
        let cli = s.bin + "/cloudron-audit"
        var rows: [Row] = []
        var log: [String] = []
        var header: [String] = []
        let started = Date()
        func publish() {
            MarkedSection.store.write(render(header: header, rows: rows, log: log, seconds: Date().timeIntervalSince(started)), into: s.output)
        }
        func note(_ line: String) {
            log.append(line)
            FileHandle.standardError.write(Data(("bench-store: " + line + "\n").utf8))
            publish()
        }
        func add(_ row: Row) {
            rows.append(row)
            publish()
        }

        let cluster = try PostgresCluster.shared()
        defer { cluster.stop() }
        let psql = cluster.binFolder + "/psql"
        let version = (try? ChildProcess.run([psql, "--version"]).output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? "?"
        header = ["date: \(ISO8601DateFormatter().string(from: Date()))",
                  "PostgreSQL: \(version), a scratch cluster on 127.0.0.1 (initdb defaults, fsync=off as in the tests)",
                  "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores (nproc), shared with other work: "
                      + "the load average (1, 5, 15 min) is shown when each measurement started"]
        publish()

        // MARK: 100k: push against psql \copy of the same rows
        let simulator = try SimulatorProcess.start(bin: s.bin, events: s.events, work: s.work)
        let small = s.work + "/small.db"
        for suffix in ["", "-wal", "-shm", ".lock"] { unlink(small + suffix) }
        try ChildProcess.run([cli, "sync", "--url", simulator.url, "--db", small, "--quiet"], stdout: "/dev/null",
                             environment: ["CLOUDRON_TOKEN": simulator.token])
        simulator.stop()
        let events = try Bench.countEvents(small)
        note("synced \(grouped(events)) events from the simulator into \(small)")

        var pushTimes: [Double] = []
        var pushRSS = 0.0
        var store = ""
        var pushLoad = loadAverage()
        for attempt in 1 ... 2 {
            store = try cluster.makeDatabase()
            let load = loadAverage()
            let run = try ChildProcess.run([cli, "push", "--db", small, "--to", store, "--quiet"], stdout: "/dev/null", measureRSS: true)
            if pushTimes.isEmpty || run.seconds < (pushTimes.min() ?? .infinity) { pushLoad = load; pushRSS = run.peakRSSMegabytes }
            pushTimes.append(run.seconds)
            note("push \(attempt): \(seconds(run.seconds)) (load \(load))")
        }
        let tables = try tableCounts(store)
        let totalRows = tables.reduce(0) { $0 + $1.rows }
        let pushBest = pushTimes.min() ?? .nan
        add(Row(work: "push \(grouped(events)) events into an empty store: \(grouped(totalRows)) rows in \(tables.count) tables",
                tool: "cloudron-audit push, best of 2",
                measured: "\(seconds(pushBest)) (\(rate(totalRows, pushBest)); \(rate(events, pushBest).replacingOccurrences(of: "rows", with: "events"))), "
                    + "peak RSS " + String(format: "%.1f MB", pushRSS),
                load: pushLoad))

        // The same rows, exported from the store as CSV (not timed), then \copy-ed into empty copies of its
        // tables (same columns, keys and indexes, the search documents' GIN index included) by one psql.
        let exports = s.work + "/csv"
        try? FileManager.default.removeItem(atPath: exports)
        try FileManager.default.createDirectory(atPath: exports, withIntermediateDirectories: true)
        var setup = ["DROP SCHEMA IF EXISTS copy_target CASCADE", "CREATE SCHEMA copy_target"]
        for table in tables {
            try ChildProcess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", store, "-c",
                                  "\\copy (SELECT * FROM cloudron_audit.\(table.name)) TO '\(exports)/\(table.name).csv' WITH (FORMAT csv)"],
                                 stdout: "/dev/null")
            setup.append("CREATE TABLE copy_target.\(table.name) (LIKE cloudron_audit.\(table.name) INCLUDING ALL)")
        }
        _ = try cluster.psql(store, setup.joined(separator: "; "))
        var copyTimes: [Double] = []
        var copyLoad = loadAverage()
        for attempt in 1 ... 2 {
            _ = try cluster.psql(store, "TRUNCATE " + tables.map { "copy_target.\($0.name)" }.joined(separator: ", "))
            let load = loadAverage()
            let commands = tables.flatMap { ["-c", "\\copy copy_target.\($0.name) FROM '\(exports)/\($0.name).csv' WITH (FORMAT csv)"] }
            let run = try ChildProcess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", store] + commands, stdout: "/dev/null")
            if copyTimes.isEmpty || run.seconds < (copyTimes.min() ?? .infinity) { copyLoad = load }
            copyTimes.append(run.seconds)
            note("\\copy \(attempt): \(seconds(run.seconds)) (load \(load))")
        }
        let copied = Int(try cluster.psql(store, "SELECT " + tables.map { "(SELECT count(*) FROM copy_target.\($0.name))" }.joined(separator: " + "))) ?? -1
        let copyBest = copyTimes.min() ?? .nan
        add(Row(work: "the same \(grouped(copied)) rows into empty copies of the tables",
                tool: "psql \\copy of the CSV exported from them (one psql, one \\copy per table), best of 2",
                measured: "\(seconds(copyBest)) (\(rate(copied, copyBest))); push takes " + String(format: "%.1f", pushBest / copyBest) + " × as long",
                load: copyLoad))
        try? FileManager.default.removeItem(atPath: exports)

        // MARK: 1M: push, then reports on PostgreSQL next to SQLite
        guard FileManager.default.fileExists(atPath: s.large) else {
            note("no 1,000,000-event archive at \(s.large) (`make bench-scale` builds it): the 1M push and reports are left out")
            note("done")
            return
        }
        let large = s.work + "/events-1000000.db"
        if !FileManager.default.fileExists(atPath: large + ".done") {
            for suffix in ["", "-wal", "-shm", ".done"] { unlink(large + suffix) }
            // A consistent copy, the cached archive only read (another bench may be using it).
            try ChildProcess.run(["sqlite3", s.large, ".backup '\(large)'"], stdout: "/dev/null")
            FileManager.default.createFile(atPath: large + ".done", contents: Data())
        }
        // A copy made by an earlier run of an older build is upgraded by its first reader: here, not timed
        // (the bench's own read-only count below would refuse the older schema).
        try ChildProcess.run([cli, "status", "--db", large], stdout: "/dev/null")
        let largeEvents = try Bench.countEvents(large)
        let largeStore = try cluster.makeDatabase()
        let load = loadAverage()
        let push = try ChildProcess.run([cli, "push", "--db", large, "--to", largeStore, "--quiet"], stdout: "/dev/null", measureRSS: true)
        let largeRows = try tableCounts(largeStore).reduce(0) { $0 + $1.rows }
        add(Row(work: "push \(grouped(largeEvents)) events into an empty store: \(grouped(largeRows)) rows",
                tool: "cloudron-audit push (once)",
                measured: "\(seconds(push.seconds)) (\(rate(largeRows, push.seconds)); \(rate(largeEvents, push.seconds).replacingOccurrences(of: "rows", with: "events"))), "
                    + "peak RSS " + String(format: "%.1f MB", push.peakRSSMegabytes),
                load: load))

        let help = try ChildProcess.run([cli, "report", "--help"], allowFailure: true)
        guard help.output.contains("--from") else {
            note("this build has no `report --from`: the reports at 1M on PostgreSQL are left out")
            note("done")
            return
        }
        for report in reports {
            var figures: [String] = []
            var reportLoad = ""
            for (label, source) in [("SQLite", ["--db", large]), ("PostgreSQL", ["--from", largeStore])] {
                let out = s.work + "/report.csv"
                let argv = [cli, "report"] + report + source + ["--since", "30d", "--format", "csv"]
                var times: [Double] = []
                var lines = 0
                if reportLoad.isEmpty { reportLoad = loadAverage() }
                for _ in 0 ..< 3 {
                    let run = try ChildProcess.run(argv, stdout: out, allowFailure: true)
                    guard run.status == 0 else { note("report \(report.joined(separator: " ")) \(label) failed with exit \(run.status)"); break }
                    times.append(run.seconds)
                    lines = try Bench.countLines(out) - 1
                    if run.seconds > 10 { break }
                }
                unlink(out)
                figures.append(times.isEmpty ? "\(label): failed" : "\(label) \(seconds(median(times))) (\(grouped(lines)) rows)")
            }
            add(Row(work: "`report \(report.joined(separator: " ")) --since 30d` over \(grouped(largeEvents)) events, CSV",
                    tool: "cloudron-audit, median of 3 (whole process)", measured: figures.joined(separator: "; "), load: reportLoad))
        }
        note("done")
    }

    /// Rows per mirrored table of the store (its bookkeeping tables left out), by name.
    static func tableCounts(_ uri: String) throws -> [(name: String, rows: Int)] {
        let connection = try PostgresConnection(uri: uri)
        let names = try connection.query("""
            SELECT table_name FROM information_schema.tables
            WHERE table_schema = 'cloudron_audit' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'store\\_%'
            ORDER BY table_name
            """).rows.compactMap { $0[0] }
        return try names.map { name in
            (name, Int(try connection.scalar("SELECT count(*) FROM cloudron_audit.\(name)") ?? "") ?? 0)
        }
    }

    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func render(header: [String], rows: [Row], log: [String], seconds elapsed: Double) -> String {
        var text = "## Central store (PostgreSQL)\n\n"
        text += "Generated by `make bench-store` (also run by `make bench`; Benchmarks/cloudron-audit-bench/StoreBench.swift), "
            + "release build. Why the figures are what they are: Benchmarks/NOTES.md, \"The central store\".\n\n"
        text += (header + ["run time: \(String(format: "%.0f", elapsed)) s"]).map { "- " + $0 }.joined(separator: "\n") + "\n\n"
        text += "| work | tool | measured | load average at start |\n|---|---|---|---|\n"
        for row in rows { text += "| \(row.work) | \(row.tool) | \(row.measured) | \(row.load) |\n" }
        if !log.isEmpty { text += "\n" + log.map { "- " + $0 }.joined(separator: "\n") + "\n" }
        return text
    }
}
