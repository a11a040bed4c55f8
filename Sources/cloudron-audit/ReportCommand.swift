import Archiver
import ArgumentParser
import CentralStore
import Client
import Foundation
import Query

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Run an audit report (logins, user changes, app lifecycle, OOM kills, ...) or all of them into a folder.",
        discussion: """
        Reports are SQL files with a header (title, columns, filters, parameters); the built-in ones are \
        listed by --list, 'report NAME --help' describes one, and --reports-dir adds your own (they run on a \
        read-only connection). A filter a report does not apply is refused; every report takes --limit and \
        --order (newest first by default).

        Examples:
          cloudron-audit report --list
          cloudron-audit report logins --db audit.db --since 30d --summary
          cloudron-audit report login-sessions --db audit.db --gap 45m --user alice
          cloudron-audit report backups --db audit.db --since 90d --failed
          cloudron-audit report oom --db audit.db --since 30d --summary --by day
          cloudron-audit report --all --db audit.db --since 24h \\
              --output-dir reports/$(date +%F) --formats csv,json
          cloudron-audit report --all --db audit.db --since 30d --output-dir q4 \\
              --sign-key /etc/cloudron-audit/head.key
          cloudron-audit report --all --db audit.db --since 30d --output-dir q4 \\
              --html --pdf   # index.html, report.pdf
          cloudron-audit report logins --since 7d \\
              --from postgresql://audit@db.example.com/audit   # every archive
          cloudron-audit report backups --failed --archive 3f2a \\
              --from postgresql://audit@db.example.com/audit   # one archive
        """,
        // `--help` is this command's own flag, so that `report NAME --help` can describe that report.
        helpNames: [.short]
    )

    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var store: StoreOptions
    @Option(name: .customLong("archive"),
            help: ArgumentHelp("With --from: only this pushed archive (its id or first digits, as 'status --from' lists them); "
                               + "its rows come without the archive_id column, as from the archive itself.", valueName: "id"))
    var archiveID: String?
    @Argument(help: "The report to run (see --list).") var name: String?
    @OptionGroup var filters: ReportFilterOptions
    @OptionGroup var output: OutputOptions

    @Flag(name: .customLong("help"), help: "Show help information; after a report's name, that report's too.")
    var showHelp = false
    @Flag(help: "List the reports, their filters and parameters.") var list = false
    @Flag(help: "The report's summary form (logins: per user; oom: per app).") var summary = false
    @Option(help: ArgumentHelp("login-sessions: logins less than this apart are one session (default 30m).",
                               valueName: "duration"))
    var gap: String?
    @Option(help: ArgumentHelp("oom --summary: totals over the window, or per UTC day (default window).",
                               valueName: "window|day"))
    var by: String?
    @Option(help: ArgumentHelp("logins --summary: new IPs listed per user, the rest counted (default 10; 0: all).",
                               valueName: "n"))
    var ips: String?
    @Option(help: ArgumentHelp("Only rows with this result, in reports that have one (backups: success, failed, unfinished).",
                               valueName: "result"))
    var result: String?
    @Flag(help: "Only failed ones: the same as --result failed.") var failed = false
    @Option(name: .customLong("param"), help: ArgumentHelp("A report parameter as NAME=VALUE (repeatable).",
                                                            valueName: "name=value"))
    var parameters: [String] = []
    @Option(help: ArgumentHelp("Also load the reports (*.sql) of this folder.", valueName: "dir"))
    var reportsDir: String?

    @Flag(help: "Run every report into --output-dir, with a manifest.json.") var all = false
    @Option(help: ArgumentHelp("The folder for --all: new (created 0700), empty, or an earlier bundle, whose files its "
                               + "manifest lists are replaced; anything else in it is refused (exit 73).", valueName: "dir"))
    var outputDir: String?
    @Option(help: ArgumentHelp("Formats for --all, comma-separated.", valueName: "csv,json"))
    var formats = "csv,json"
    @OptionGroup var signing: SigningOptions
    @Flag(help: "With --all, also write index.html: the bundle as one self-contained page with charts.")
    var html = false
    @Flag(help: "With --all, also print index.html to report.pdf with headless Chromium (implies --html).")
    var pdf = false
    @Flag(help: ArgumentHelp("With --all, verify the whole archive for the manifest, not only what was archived since the "
                             + "last recorded full verify."))
    var fullVerify = false

    func validate() throws {
        if showHelp { return }
        let modes = [list, all, name != nil].filter { $0 }.count
        guard modes == 1 else {
            throw ValidationError("give a report name, --list or --all (exactly one)")
        }
        if all && outputDir == nil { throw ValidationError("--all needs --output-dir DIR") }
        if !all && outputDir != nil { throw ValidationError("--output-dir goes with --all") }
        if all && output.output != nil { throw ValidationError("--all writes into --output-dir, not --output") }
        if !all && signing.signKey != nil { throw ValidationError("--sign-key signs the manifest of --all") }
        if !all && (html || pdf) { throw ValidationError("--html and --pdf go with --all") }
        if !all && fullVerify { throw ValidationError("--full-verify goes with --all") }
        if failed && result != nil { throw ValidationError("--failed is --result failed: give one of them") }
        if all && (failed || result != nil) { throw ValidationError("--result and --failed go with a report's name, not --all") }
        if all && store.uri != nil {
            throw ValidationError("report --all writes a bundle from the archive (--db): with --from, run one report at a time")
        }
        if archiveID != nil && store.uri == nil { throw ValidationError("--archive chooses an archive of the central store: it goes with --from") }
    }

    func run() throws {
        if showHelp && name == nil {
            print(Self.helpMessage(columns: TerminalWidth.columns()))
            return
        }
        let reports = try ReportCatalog.all(userDirectory: reportsDir)
        if showHelp, let name {
            let report = try ReportCatalog.find(name, in: reports)
            print(Self.helpMessage(columns: TerminalWidth.columns()))
            print(ReportDescription.text(report, describing: true), terminator: "")
            return
        }
        if list {
            let sink = OutputSink(fileDescriptor: STDOUT_FILENO)
            for report in reports { try sink.write(ReportDescription.text(report, describing: false)) }
            try sink.flush()
            return
        }
        let zone = try output.zone()
        let filter = try filters.filter(zone: zone)
        if all, let outputDir {
            let signingKey = try signing.key()   // a bad key fails before any file is written
            let export = try ReportExport(reports: reports, filter: filter, formats: try ReportExport.parseFormats(formats),
                                          zone: zone, toolVersion: CloudronAuditVersion.current, archivePath: archive.path,
                                          fullVerify: fullVerify)
            let session = try archive.openForReading()
            let now = Int64(Date().timeIntervalSince1970)
            let manifest = try export.run(on: session, outputDirectory: outputDir, now: now)
            if let signingKey { try ManifestSignature.write(directory: outputDir, key: signingKey) }
            if html || pdf {
                try HTMLReport.write(export: export, manifest: manifest, session: session, directory: outputDir, now: now)
            }
            if !manifest.verification.intact {
                StandardError.line("cloudron-audit: warning: verify found the archive damaged or altered: "
                                   + (manifest.verification.firstProblem ?? "?") + " (recorded in manifest.json)")
            }
            let files = manifest.reports.reduce(0) { $0 + $1.files.count }
            let signature = signingKey == nil ? "" : " (signed: \(ManifestSignature.fileName))"
            let page = html || pdf ? ", \(HTMLReport.fileName)" : ""
            print("\(manifest.reports.count) reports, \(files) files, manifest.json\(signature)\(page) written to \(outputDir)")
            if pdf {
                try PDFPrinter.print(directory: outputDir)
                print("\(PDFPrinter.fileName) printed")
            }
            return
        }
        guard let name else { return }
        let report = try ReportCatalog.find(name, in: reports)
        let query = try ReportQuery(report: report, filter: filter, summary: summary, parameters: try parsedParameters(),
                                    result: failed ? "failed" : result)
        if let uri = store.uri {
            let storeQuery = try StoreReportQuery(query: query, archive: archiveID)
            let connection = try PostgresConnection(uri: uri)
            _ = try output.write { writer in try storeQuery.run(on: connection, into: &writer) }
            return
        }
        let session = try archive.openForReading()
        let rows = try output.write { writer in try query.run(on: session, into: &writer) }
        try UnmatchedFilters.note(filter, rows: rows, in: session)
    }

    private func parsedParameters() throws -> [String: String] {
        var values: [String: String] = [:]
        for item in parameters {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw QueryInputError("invalid --param \"\(item)\": use NAME=VALUE, e.g. --param gap=45m")
            }
            values[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        if let gap { values["gap"] = gap }
        if let by { values["by"] = by }
        if let ips { values["ips"] = ips }
        return values
    }
}

/// A report as `report --list` (a few lines each) and `report NAME --help` (with its description) show it.
enum ReportDescription {
    static func text(_ report: Report, describing: Bool) -> String {
        var out = describing ? "REPORT \(report.name): \(report.title)\n" : "\(report.name)\t\(report.title)"
            + (report.summary == nil ? "" : " (--summary)") + "\n"
        if describing && !report.description.isEmpty { out += "  \(report.description)\n" }
        if describing {
            out += "  columns: " + report.columns.map(\.name).joined(separator: ", ") + "\n"
            if let summary = report.summary {
                out += "  --summary columns: " + summary.columns.map(\.name).joined(separator: ", ") + "\n"
            }
        }
        let filters = report.filters.map { $0 == .result ? "\($0.option) \(report.results.joined(separator: "|"))" : $0.option }
        out += "  filters: " + (filters + ["--limit", "--order"]).joined(separator: ", ") + "\n"
        for parameter in report.parameters {
            out += "  --\(parameter.name) (default \(parameter.defaultValue)): \(parameter.description)\n"
        }
        return out
    }
}
