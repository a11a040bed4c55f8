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
    /// Every report and summary to write, with its file name stem, checked before any file is written.
    private let queries: [(query: ReportQuery, stem: String)]

    /// - Throws: `QueryInputError` for an invalid filter (or `--action`, or a filter one of the reports
    ///   does not apply) or no format.
    public init(reports: [Report], filter: EventFilter = EventFilter(), formats: [OutputFormat] = [.csv, .json],
                zone: TimeZone? = nil, toolVersion: String, archivePath: String) throws {
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
    }

    /// Parses `--formats csv,json`.
    public static func parseFormats(_ text: String) throws -> [OutputFormat] {
        var formats: [OutputFormat] = []
        for format in try CommaList.parse(text, OutputFormat.init(parsing:)) where !formats.contains(format) {
            formats.append(format)
        }
        return formats
    }

    /// Writes every report into `directory` (created with mode 0700 when missing) and returns the manifest,
    /// also written there as `manifest.json`. `now` (epoch seconds) is the generation time recorded.
    /// Every report and the manifest read the session's one snapshot: an hourly sync committing halfway
    /// cannot make the files and the coverage describe different moments.
    @discardableResult
    public func run(on session: ReadSession, outputDirectory directory: String, now: Int64) throws -> ReportManifest {
        try ArchivedNames.requireKnownInstance(filter, in: session)
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw OutputError(operation: "create the output directory", errno: EACCES, path: directory)
            }
        } else if !isDirectory.boolValue {
            throw QueryInputError("--output-dir \(TimeExpression.quoted(directory)) is not a directory")
        }
        var times = TimestampFormatter(zone: zone)
        var entries: [ReportManifest.ReportEntry] = []
        for (query, stem) in queries {
            var parameters: [String: String?] = [:]
            for (name, value) in query.boundValues { parameters[name] = .some(ReportExport.text(value)) }
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
            }
            entries.append(ReportManifest.ReportEntry(name: stem, title: query.report.title, origin: query.report.origin,
                                                      summary: query.summary, parameters: parameters, files: files))
        }
        let ranges = try session.recordedRanges(within: RecordedRanges.Window(since: filter.since, until: filter.until,
                                                                             instance: filter.instance))
        let manifest = ReportManifest(
            tool: "cloudron-audit", toolVersion: toolVersion, archive: archivePath,
            generatedAt: times.string(from: now), timeZone: zone?.identifier ?? "UTC",
            window: ReportManifest.Window(since: filter.since.map { times.string(from: $0) },
                                          until: filter.until.map { times.string(from: $0) },
                                          instance: filter.instance),
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
        /// Every bound parameter; null when not given.
        public var parameters: [String: String?]
        public var files: [FileEntry]
    }

    public var tool: String
    public var toolVersion: String
    public var archive: String
    public var generatedAt: String
    public var timeZone: String
    public var window: Window
    public var coverage: [Range]
    public var gaps: [Range]
    public var reports: [ReportEntry]
}
