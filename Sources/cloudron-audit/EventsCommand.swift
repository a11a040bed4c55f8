import Archiver
import ArgumentParser
import CentralStore
import Foundation
import Query

struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "List archived events, filtered; with --history every archived version.",
        discussion: """
        Examples:
          cloudron-audit events --db audit.db --action 'user.login*' --since 7d
          cloudron-audit events --db audit.db --app nextcloud.example.com \\
              --format csv --output app.csv
          cloudron-audit events --db audit.db --around 7f32f714 --window 10m
          cloudron-audit events --db audit.db --id 7f32f714 --history
          cloudron-audit events --from postgresql://audit@db.example.com/audit \\
              --instance my.example.com --since 24h

        Tables and CSV show flat columns (time, instance, action, actor, subject, ip, app, a one-line \
        summary, id); a table shows the first 8 characters of each id, which --id and --around accept \
        (any unique prefix does). JSON and NDJSON give each event exactly as the server sent it.
        """
    )

    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var store: StoreOptions
    @OptionGroup var filters: FilterOptions
    @OptionGroup var output: OutputOptions

    @Flag(help: "Every archived version of each event (login upserts, rewrites), with its version number and first-seen time.")
    var history = false

    @Option(help: ArgumentHelp("Everything on the same server within ±--window of this event (its id or a unique prefix), "
                               + "oldest first, the event marked in the offset column; not with --since/--until.",
                               valueName: "id"))
    var around: String?

    @Option(help: ArgumentHelp("How far either side of the --around event (±), e.g. 5m, 1h.", valueName: "duration"))
    var window = "5m"

    @Option(help: ArgumentHelp("Only this event (its id or a unique prefix, such as a table's short id).", valueName: "id"))
    var id: String?

    func run() throws {
        let zone = try output.zone()
        let window = try TimeExpression.parseDuration(self.window)
        var filter = try filters.filter(zone: zone)
        if around != nil && filters.listing.order == nil { filter.order = .oldest }
        let query = try EventQuery(filter: filter, history: history, around: around.map { ($0, window) }, eventID: id,
                                   layout: EventLayout(format: try output.resolvedFormat()))
        if let connection = try store.connect() {
            _ = try output.write { writer in try StoreEventQuery(query).run(on: connection, into: &writer) }
            return
        }
        let session = try archive.openForReading()
        let rows = try output.write { writer in try query.run(on: session, into: &writer) }
        try UnmatchedFilters.note(query.filter, rows: rows, in: session)
    }
}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Full-text search over events (and with --in, notifications and tasks).",
        discussion: """
        Words are matched as words: user@example.com, 10.0.0.1, NOT, quotes and parentheses need no \
        escaping. --raw passes SQLite FTS5 syntax (AND, OR, NOT, "phrases", prefix*, column:term).

        Examples:
          cloudron-audit search --db audit.db 203.0.113.24
          cloudron-audit search --db audit.db --rank 'disk full' \\
              --in events,notifications
          cloudron-audit search --db audit.db --raw 'oom AND (redis OR mysql)' \\
              --since 30d
          cloudron-audit search --from postgresql://audit@db.example.com/audit \\
              --raw '"disk full" OR backup*'

        With --from, the central store is searched with PostgreSQL's full-text search over the tokens \
        the archive's index makes (same hits); NEAR() and ^ are not available there, and --rank orders \
        by PostgreSQL's ts_rank.
        """
    )

    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var store: StoreOptions
    @Argument(help: "What to search for.") var query: String
    @OptionGroup var filters: FilterOptions
    @OptionGroup var output: OutputOptions

    @Flag(help: "Order by relevance (bm25) instead of time.") var rank = false
    @Flag(help: "Take the query as FTS5 syntax.") var raw = false
    @Option(name: .customLong("in"), help: ArgumentHelp("What to search, comma-separated.",
                                                         valueName: "events,notifications,tasks"))
    var scopes = "events"

    func run() throws {
        let zone = try output.zone()
        let match = raw ? try FTSQuery(raw: query) : try FTSQuery(words: query)
        let search = try SearchQuery(query: match, filter: try filters.filter(zone: zone), rankByRelevance: rank,
                                     scopes: try SearchQuery.parseScopes(scopes))
        if let connection = try store.connect() {
            _ = try output.write { writer in try StoreSearchQuery(search).run(on: connection, into: &writer) }
            return
        }
        let session = try archive.openForReading()
        let rows = try output.write { writer in try search.run(on: session, into: &writer) }
        try UnmatchedFilters.note(search.filter, rows: rows, in: session)
    }
}

struct NotificationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifications",
        abstract: "List archived notifications (current state).",
        discussion: """
        Tables and CSV show curated columns; JSON and NDJSON give each notification exactly as the server \
        sent it (every member, values as sent) with the archive's "instance" added.

        Examples:
          cloudron-audit notifications --db audit.db --since 30d
          cloudron-audit notifications --db audit.db --format json \\
              --output notifications.json
        """
    )

    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var filters: ListingOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let query = try NotificationQuery(filter: try filters.filter(zone: try output.zone()))
        let session = try archive.openForReading()
        _ = try output.write { writer in try query.run(on: session, into: &writer) }
    }
}

struct TasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "List archived tasks (current state), or show one task's archived log.",
        discussion: """
        Tables and CSV show curated columns (errorMessage whatever shape the server's error had); JSON and \
        NDJSON give each task exactly as the server sent it (ts, error, every member as sent) with the \
        archive's "instance" added.

        --log TASK_ID prints that task's archived log (archived by 'sync --task-logs'): "time  message" \
        lines on a terminal (--format table), each line exactly as the server sent it with --format ndjson \
        (json: the same in an array; csv: time,message). A log that is not archived exits 66 saying why: \
        no such task, rotated away by the server before it was read, or unavailable (the server's error).

        Examples:
          cloudron-audit tasks --db audit.db --since 7d
          cloudron-audit tasks --db audit.db --format csv --output tasks.csv
          cloudron-audit tasks --db audit.db --log 412 --instance my.example.com \\
              --tz Europe/Berlin
        """
    )

    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var filters: ListingOptions
    @OptionGroup var output: OutputOptions

    @Option(help: ArgumentHelp("Show this task's archived log instead of the list.", valueName: "task-id"))
    var log: String?

    func run() throws {
        if let log {
            let ignored = filters.rowSelectionFlags
            guard ignored.isEmpty else {
                throw QueryInputError("--log shows one whole log: \(ignored.joined(separator: ", ")) do not apply "
                                      + "(only --instance, --format, --output and --tz)")
            }
            let query = TaskLogQuery(taskID: log, instance: filters.instance)
            let session = try archive.openForReading()
            _ = try output.write(tableAsLines: true) { writer in try query.run(on: session, into: &writer) }
            return
        }
        let query = try TaskQuery(filter: try filters.filter(zone: try output.zone()))
        let session = try archive.openForReading()
        _ = try output.write { writer in try query.run(on: session, into: &writer) }
    }
}
