import Archiver
import Crypto
import Foundation

/// `report --all [filters] --output-dir DIR [--formats csv,json]`: every report (and its summary) into
/// files in DIR plus `manifest.json`, for scheduled report generation.
///
/// Each file is written atomically (see `AtomicOutputFile`); the manifest is written last, so a
/// manifest always describes complete files. It records the tool version, the archive, the window and
/// the archive's coverage and gaps inside it (a report over a window the archive does not fully cover
/// says so), and per report its parameters and per file the row count and SHA-256 of the bytes on disk.
public struct ReportExport: Sendable {
    public let reports: [Report]
    public let filter: EventFilter
    public let formats: [OutputFormat]
    /// The `--tz` zone for times in the files (nil: UTC).
    public let zone: TimeZone?
    public let toolVersion: String
    public let archivePath: String
    /// Whether the manifest's verification checks the whole archive even where a recorded full verification
    /// could be continued (`--full-verify`): a bundle that must carry its own full check.
    public let fullVerify: Bool
    /// Every report and summary to write, with its file name stem, checked before any file is written.
    private let queries: [(query: ReportQuery, stem: String)]

    /// - Throws: `QueryInputError` for an invalid filter (or `--action`, or a filter one of the reports
    ///   does not apply) or no format.
    public init(reports: [Report], filter: EventFilter = EventFilter(), formats: [OutputFormat] = [.csv, .json],
                zone: TimeZone? = nil, toolVersion: String, archivePath: String, fullVerify: Bool = false) throws {
        try ReportQuery.validate(filter)
        guard !formats.isEmpty else { throw QueryInputError("--formats needs at least one of table, csv, json, ndjson") }
        var queries: [(ReportQuery, String)] = []
        for report in reports {
            queries.append((try ReportQuery(report: report, validatedFilter: filter, summary: false), report.name))
            if report.summary != nil {
                queries.append((try ReportQuery(report: report, validatedFilter: filter, summary: true), report.name + "-summary"))
            }
        }
        self.queries = queries
        self.reports = reports
        self.filter = filter
        self.formats = formats
        self.zone = zone
        self.toolVersion = toolVersion
        self.archivePath = archivePath
        self.fullVerify = fullVerify
    }

    /// Parses `--formats csv,json`.
    public static func parseFormats(_ text: String) throws -> [OutputFormat] {
        var formats: [OutputFormat] = []
        for format in try CommaList.parse(text, OutputFormat.init(parsing:)) where !formats.contains(format) {
            formats.append(format)
        }
        return formats
    }

    /// The files of a bundle besides its reports, which `manifest.json` cannot list (written with it or after
    /// it): a new run replaces or removes them.
    public static let companionFiles = ["manifest.json", ManifestSignature.fileName, HTMLReport.fileName, PDFPrinter.fileName]

    /// Writes every report into `directory` and returns the manifest, also written there as `manifest.json`.
    /// `now` (epoch seconds) is the generation time recorded.
    ///
    /// The folder is a handover bundle, so nothing in it may be left over from elsewhere: it must be new
    /// (created with mode 0700), empty, or hold only what the previous run's manifest lists (and its
    /// companions), which are then replaced, and removed when this run does not write them again.
    /// Every report and the manifest read the session's one snapshot: an hourly sync committing halfway
    /// cannot make the files and the coverage describe different moments.
    /// - Throws: `BundleFolderError` (before writing anything) for a folder holding other files.
    @discardableResult
    public func run(on session: ReadSession, outputDirectory directory: String, now: Int64) throws -> ReportManifest {
        try ArchivedNames.requireKnownInstance(filter, in: session)
        let previous = try BundleFolder.prepare(directory)
        for companion in ReportExport.companionFiles.dropFirst() where previous.contains(companion) {
            try BundleFolder.remove(companion, in: directory)
        }
        var times = TimestampFormatter(zone: zone)
        var entries: [ReportManifest.ReportEntry] = []
        var written: Set<String> = []
        for (query, stem) in queries {
            var files: [ReportManifest.FileEntry] = []
            for format in formats {
                let name = stem + "." + format.fileExtension
                let path = (directory as NSString).appendingPathComponent(name)
                let rows = try AtomicOutputFile.write(to: path) { sink in
                    var writer = format.makeWriter(sink: sink, times: TimestampFormatter(zone: zone))
                    return try query.run(on: session, into: &writer)
                }
                files.append(ReportManifest.FileEntry(format: format.rawValue, file: name, rows: rows,
                                                      sha256: try ReportExport.sha256(ofFile: path)))
                written.insert(name)
            }
            entries.append(ReportManifest.ReportEntry(name: stem, title: query.report.title, origin: query.report.origin,
                                                      summary: query.summary, filters: userFilters(of: query, times: &times),
                                                      parameters: query.parameterTexts, files: files))
        }
        for name in previous.subtracting(written).subtracting(ReportExport.companionFiles) {
            try BundleFolder.remove(name, in: directory)
        }
        let ranges = try session.recordedRanges(within: RecordedRanges.Window(since: filter.since, until: filter.until,
                                                                             instance: filter.instance))
        let head = try session.chainHead()
        let verification = try session.verify(incremental: !fullVerify, now: now)
        let manifest = ReportManifest(
            tool: "cloudron-audit", toolVersion: toolVersion, archive: ReportExport.absolute(archivePath),
            generatedAt: times.string(from: now), timeZone: zone?.identifier ?? "UTC",
            window: ReportManifest.Window(since: filter.since.map { times.string(from: $0) },
                                          until: filter.until.map { times.string(from: $0) },
                                          instance: filter.instance),
            chain: ReportManifest.Chain(head: Hex.string(head.link), length: head.length),
            verification: ReportManifest.Verification(verification, checkedAt: now, times: &times),
            coverage: ranges.flatMap { entry in
                entry.coverage.map { ReportManifest.Range(instance: entry.instance, stream: entry.stream,
                                                          from: times.string(from: $0.from), to: times.string(from: $0.to)) }
            },
            gaps: ranges.flatMap { entry in
                entry.gaps.map { ReportManifest.Range(instance: entry.instance, stream: entry.stream,
                                                      from: times.string(from: $0.from), to: times.string(from: $0.to),
                                                      reason: $0.reason) }
            },
            reports: entries)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let bytes = try encoder.encode(manifest)
        try AtomicOutputFile.write(to: (directory as NSString).appendingPathComponent("manifest.json")) { sink in
            try sink.write(Array(bytes))
            try sink.write(UInt8(ascii: "\n"))
        }
        return manifest
    }

    /// The filters a report applied, as the user gives them: ISO times, names; `limit` null for all rows.
    private func userFilters(of query: ReportQuery, times: inout TimestampFormatter) -> [String: String?] {
        var filters: [String: String?] = [:]
        for supported in query.report.filters { filters[supported.rawValue] = .some(supported.userValue(in: filter, times: &times)) }
        filters["limit"] = .some(filter.limit.map(String.init))
        filters["order"] = .some(filter.order.rawValue)
        return filters
    }

    /// `path` from the current directory when relative: a manifest handed over names the archive wherever it is read.
    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: full).standardizedFileURL.path
    }

    static func text(_ value: SQLValue) -> String? {
        switch value {
        case .integer(let v): return String(v)
        case .real(let v): return String(v)
        case .text(let v): return v
        case .textBytes(let v), .blob(let v): return String(decoding: v, as: UTF8.self)
        case .null: return nil
        }
    }

    /// Lower-case hex SHA-256 of a file, read in 64 KB chunks.
    static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw OutputError(operation: "read back", errno: errno, path: path)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 65_536), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return Hex.string(hasher.finalize())
    }

}

/// `manifest.json` of a `report --all` run.
public struct ReportManifest: Sendable, Codable, Equatable {
    public struct Window: Sendable, Codable, Equatable {
        public var since: String?
        public var until: String?
        public var instance: String?
    }

    /// A coverage range or a gap (with its reason), inclusive times.
    public struct Range: Sendable, Codable, Equatable {
        public var instance: String
        public var stream: String
        public var from: String
        public var to: String
        public var reason: String?
    }

    public struct FileEntry: Sendable, Codable, Equatable {
        public var format: String
        public var file: String
        public var rows: Int
        public var sha256: String
    }

    public struct ReportEntry: Sendable, Codable, Equatable {
        public var name: String
        public var title: String
        public var origin: String
        public var summary: Bool
        /// Each filter the report applies, as given (`since`/`until` in ISO 8601), null when not given;
        /// `limit` (null: every row) and `order`.
        public var filters: [String: String?]
        /// The report's own parameters (e.g. `gap`: `30m`), as given or their defaults.
        public var parameters: [String: String]
        public var files: [FileEntry]
    }

    /// The archive's hash chain when the bundle was made: its newest link and length.
    public struct Chain: Sendable, Codable, Equatable {
        public var head: String
        public var length: Int64
    }

    /// What `verify` found when the bundle was made, and what it checked: the whole archive (`mode` full), or
    /// (incremental) only the records archived since a recorded full verification, which it names.
    public struct Verification: Sendable, Codable, Equatable {
        /// `full` or `incremental`.
        public var mode: String
        public var intact: Bool
        public var problems: Int
        public var firstProblem: String?
        public var checkedAt: String
        /// The chain records checked now, by sequence number (inclusive); absent when there were none to check.
        public var records: RecordRange?
        /// The checks that ran (see README, `verify`).
        public var checks: [String]
        /// What was not checked now, and why: checks that could not run, and what an incremental check
        /// leaves to the next full one.
        public var notChecked: [String]
        /// The recorded full verification an incremental check continues; absent for a full one.
        public var recordedFullVerification: RecordedFullVerification?

        init(_ report: VerificationReport, checkedAt now: Int64, times: inout TimestampFormatter) {
            mode = report.isIncremental ? "incremental" : "full"
            intact = report.isIntact
            problems = report.problems.count
            firstProblem = report.firstProblem.map { "\($0)" }
            checkedAt = times.string(from: now)
            records = report.checkedRecords.map { RecordRange(from: $0.lowerBound, to: $0.upperBound) }
            checks = report.checks.map(\.rawValue)
            notChecked = report.unchecked
            recordedFullVerification = report.base.map {
                RecordedFullVerification(checkedAt: times.string(from: $0.checkedAt), chainLength: $0.chainLength,
                                         chainHead: $0.chainHead)
            }
        }
    }

    /// Chain records by sequence number, inclusive.
    public struct RecordRange: Sendable, Codable, Equatable {
        public var from: Int64
        public var to: Int64
    }

    /// A full verification recorded in the archive: when it finished, and the chain it covered.
    public struct RecordedFullVerification: Sendable, Codable, Equatable {
        public var checkedAt: String
        public var chainLength: Int64
        public var chainHead: String
    }

    public var tool: String
    public var toolVersion: String
    public var archive: String
    public var generatedAt: String
    public var timeZone: String
    public var window: Window
    public var chain: Chain
    public var verification: Verification
    public var coverage: [Range]
    public var gaps: [Range]
    public var reports: [ReportEntry]
}

/// The folder of a `report --all` bundle.
enum BundleFolder {
    /// Makes `directory` ready for a bundle and returns the files of the previous one found there (its
    /// manifest's files and companions), which the new run may replace.
    /// - Throws: `BundleFolderError` when it holds anything else, or is not a folder.
    static func prepare(_ directory: String) throws -> Set<String> {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw OutputError(operation: "create the output directory", errno: EACCES, path: directory)
            }
            return []
        }
        guard isDirectory.boolValue else {
            throw QueryInputError("--output-dir \(TimeExpression.quoted(directory)) is not a directory")
        }
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw OutputError(operation: "read the output directory", errno: EACCES, path: directory)
        }
        var allowed: Set<String> = []
        let manifestPath = (directory as NSString).appendingPathComponent("manifest.json")
        if let data = FileManager.default.contents(atPath: manifestPath),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           object["tool"] as? String == "cloudron-audit" {
            // Read loosely: a manifest of an older cloudron-audit lists its files the same way.
            for report in object["reports"] as? [[String: Any]] ?? [] {
                for file in report["files"] as? [[String: Any]] ?? [] {
                    if let name = file["file"] as? String, !name.contains("/"), name != "..", name != "." { allowed.insert(name) }
                }
            }
            allowed.formUnion(ReportExport.companionFiles)
        }
        let foreign = entries.filter { !allowed.contains($0) }.sorted()
        if let first = foreign.first {
            throw BundleFolderError(directory: directory, foreign: first, more: foreign.count - 1,
                                    hasManifest: !allowed.isEmpty)
        }
        return Set(entries)
    }

    static func remove(_ name: String, in directory: String) throws {
        let path = (directory as NSString).appendingPathComponent(name)
        guard unlink(path) == 0 || errno == ENOENT else { throw OutputError(operation: "remove", errno: errno, path: path) }
    }
}

/// `report --all` into a folder that holds files its previous manifest does not list: a bundle handed
/// over must hold only what its manifest accounts for, so nothing is written (exit 73).
public struct BundleFolderError: Error, Sendable, CustomStringConvertible {
    public let directory: String
    public let foreign: String
    public let more: Int
    public let hasManifest: Bool

    public var description: String {
        "--output-dir \(TimeExpression.quoted(directory)) holds \(TimeExpression.quoted(foreign))"
            + (more > 0 ? " and \(more) more file(s)" : "")
            + (hasManifest ? " that its manifest.json does not list" : " and no manifest.json of an earlier report --all")
            + ": give a new or empty folder"
    }
}
