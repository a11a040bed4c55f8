import Archiver
import ArgumentParser
import Foundation
import Query

/// Whom and what an event concerns: a user, an app, a client IP. Only events carry these, so only the
/// commands that read events offer them (`events`, `search`, `report`), not `notifications` or `tasks`.
struct SubjectFilterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only events of this user (username or user id, as actor or subject).", valueName: "user"))
    var user: String?

    @Option(help: ArgumentHelp("Only events of this app (app id, subdomain or fqdn).", valueName: "app"))
    var app: String?

    @Option(help: ArgumentHelp("Only events from this IP address.", valueName: "ip"))
    var ip: String?

    /// Adds these filters to `filter`.
    func apply(to filter: inout EventFilter) {
        filter.user = user
        filter.app = app
        filter.ip = ip
    }
}

/// `--action`: for `events` and `search`; a report chooses its own actions.
struct ActionFilterOptions: ParsableArguments {
    @Option(name: .customLong("action"), help: ArgumentHelp(
        "Only these actions: exact (user.login) or a glob (app.*). Repeatable.", valueName: "action"))
    var actions: [String] = []

    func apply(to filter: inout EventFilter) throws {
        filter.actions = try actions.map(ActionPattern.init)
    }
}

/// The filters every reading command shares: a time window, a server, how many rows and in which order.
/// `filter(zone:)` turns them into the Query library's `EventFilter`, where times and limits are parsed
/// by their one parser each; the query built from it validates the whole filter once.
struct ListingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("From this time on: 2026-11-20, 2026-11-20T08:00, 2026-11-20T08:00:00Z, or 30m, 24h, 7d ago.",
                               valueName: "time"))
    var since: String?

    @Option(help: ArgumentHelp("Before this time (exclusive); same forms as --since.", valueName: "time"))
    var until: String?

    @Option(help: ArgumentHelp("Only this server of the archive (its instance name).", valueName: "name"))
    var instance: String?

    @Option(help: ArgumentHelp("At most this many rows.", valueName: "n"))
    var limit: String?

    @Option(help: ArgumentHelp("Which rows come first: newest (the default) or oldest (the default of events --around).",
                               valueName: "order"))
    var order: ResultOrder?

    /// Prefixes a value's error with its flag: with both --since and --until given, say which one is wrong.
    private static func naming<T>(_ flag: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as QueryInputError {
            throw QueryInputError("\(flag): \(error.message)")
        }
    }

    /// Parses the filters; `zone` interprets dates without an offset (UTC unless --tz).
    func filter(zone: TimeZone?) throws -> EventFilter {
        let zone = zone ?? TimeZone(identifier: "UTC") ?? .current
        let now = Int64(Date().timeIntervalSince1970)
        var filter = EventFilter()
        filter.since = try since.map { text in try Self.naming("--since") { try TimeExpression.parse(text, now: now, zone: zone) } }
        filter.until = try until.map { text in try Self.naming("--until") { try TimeExpression.parse(text, now: now, zone: zone) } }
        filter.instance = instance
        filter.limit = try limit.map(EventFilter.parseLimit)
        filter.order = order ?? .newest
        return filter
    }

    /// The flags given among those that select rows (all but --instance), for commands that show one thing.
    var rowSelectionFlags: [String] {
        [("--since", since != nil), ("--until", until != nil), ("--limit", limit != nil), ("--order", order != nil)]
            .filter(\.1).map(\.0)
    }
}

/// Every filter: `events` and `search`.
struct FilterOptions: ParsableArguments {
    @OptionGroup var action: ActionFilterOptions
    @OptionGroup var subject: SubjectFilterOptions
    @OptionGroup var listing: ListingOptions

    func filter(zone: TimeZone?) throws -> EventFilter {
        var filter = try listing.filter(zone: zone)
        try action.apply(to: &filter)
        subject.apply(to: &filter)
        return filter
    }
}

/// The filters of `report`: every one but `--action`.
struct ReportFilterOptions: ParsableArguments {
    @OptionGroup var subject: SubjectFilterOptions
    @OptionGroup var listing: ListingOptions

    func filter(zone: TimeZone?) throws -> EventFilter {
        var filter = try listing.filter(zone: zone)
        subject.apply(to: &filter)
        return filter
    }
}

/// After an empty answer, says on stderr which filter value no archived event has (a typo, most
/// likely), with the nearest names; the exit status stays 0: the answer itself is right.
enum UnmatchedFilters {
    static func note(_ filter: EventFilter, rows: Int, in session: ReadSession) throws {
        guard rows == 0 else { return }
        for note in try ArchivedNames.unmatchedValueNotes(filter, in: session) {
            StandardError.line("cloudron-audit: note: " + note)
        }
    }
}

/// `--format`, `--output`, `--tz` and `--no-pager`: how and where rows are printed.
struct OutputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("How rows are written; from --output's extension (.csv, .json, .ndjson, .jsonl, .txt) when "
                               + "given, else table on a terminal and ndjson otherwise.", valueName: "format"))
    var format: OutputFormat?

    @Option(help: ArgumentHelp("Write to this file (atomically: a reader never sees half a file) instead of stdout.",
                               valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Show times in this zone (default UTC), and read --since/--until in it.", valueName: "zone"))
    var tz: String?

    @Flag(help: "Never page: on a terminal, output goes through $PAGER (default less -FRX) otherwise.")
    var noPager = false

    func zone() throws -> TimeZone? { try tz.map(TimeZoneOption.parse) }

    /// `--format`, else the format `--output`'s extension names, else table on a terminal and ndjson otherwise.
    /// - Throws: `QueryInputError` for an `--output` extension that names no format.
    func resolvedFormat() throws -> OutputFormat {
        if let format { return format }
        if let output, let format = try OutputFormat(extensionOf: output) { return format }
        return output == nil && TerminalWidth.isTerminal() ? .table : .ndjson
    }

    /// Runs `body` with a writer onto stdout (through the pager on a terminal) or the `--output` file;
    /// returns what `body` returns. `tableAsLines`: the table format writes plain lines (`LinesWriter`),
    /// as a log is read.
    func write(tableAsLines: Bool = false, _ body: (inout any RowWriter) throws -> Int) throws -> Int {
        let format = try resolvedFormat()
        let times = TimestampFormatter(zone: try zone())
        func makeWriter(_ sink: OutputSink, tableWidth: Int? = nil) -> any RowWriter {
            if tableAsLines, format == .table { return LinesWriter(sink: sink, times: times) }
            return format.makeWriter(sink: sink, times: times, tableWidth: tableWidth)
        }
        if let output {
            if let stream = try StreamOutput.descriptor(for: output) {
                defer { close(stream) }
                let sink = OutputSink(fileDescriptor: stream)
                var writer = makeWriter(sink)
                let count = try body(&writer)
                try sink.flush()
                return count
            }
            return try AtomicOutputFile.write(to: output) { sink in
                var writer = makeWriter(sink)
                return try body(&writer)
            }
        }
        let width = TerminalWidth.columns()
        let pager = noPager ? nil : Pager.startIfTerminal()
        defer { pager?.finish() }
        let sink = OutputSink(fileDescriptor: pager?.input ?? STDOUT_FILENO)
        var writer = makeWriter(sink, tableWidth: width)
        let count = try body(&writer)
        try sink.flush()
        return count
    }
}

/// `--output` that names a stream, not a file: `/dev/stdout`, `/dev/fd/N`, a FIFO, `/dev/null`, a terminal.
/// The atomic temporary-file-and-rename(2) of `AtomicOutputFile` would put a regular file in place of the
/// device node or of the `/dev/stdout` link itself (as root: for every process on the machine), so
/// streams are opened and written in place. A symlink elsewhere is still replaced, never followed.
enum StreamOutput {
    /// A descriptor to write to (the caller closes it), or nil when `path` is, or will be, a regular file.
    static func descriptor(for path: String) throws -> Int32? {
        let standard: [String: Int32] = ["/dev/stdout": STDOUT_FILENO, "/dev/stderr": STDERR_FILENO]
        var number: Int32? = standard[path]
        for prefix in ["/dev/fd/", "/proc/self/fd/"] where path.hasPrefix(prefix) {
            number = Int32(path.dropFirst(prefix.count))
        }
        if let number {
            let descriptor = dup(number)
            guard descriptor >= 0 else { throw OutputError(operation: "write to", errno: errno, path: path) }
            return descriptor
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFIFO, S_IFCHR, S_IFSOCK:
            let descriptor = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
            guard descriptor >= 0 else { throw OutputError(operation: "open", errno: errno, path: path) }
            return descriptor
        case S_IFBLK:
            throw OutputError(operation: "write to", errno: ENOTSUP, path: path)
        default:
            return nil
        }
    }
}

// The values of a fixed set are parsed by the Query library's own parsers (case and spaces forgiven, as
// before); ArgumentParser then names the flag and lists the values in its one-line error (exit 64).
extension ResultOrder: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

extension OutputFormat: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}
