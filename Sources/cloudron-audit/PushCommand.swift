import Archiver
import ArgumentParser
import CentralStore
import Foundation

/// `--to` / `--from`: a libpq connection URI of the central store.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("from"),
            help: ArgumentHelp("Read from the central PostgreSQL store at this libpq URI instead of the archive (password: PGPASSWORD or ~/.pgpass).",
                               valueName: "postgresql://user@host:port/db"))
    var uri: String?

    func connect() throws -> PostgresConnection? {
        try uri.map { try PostgresConnection(uri: $0) }
    }
}

struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Copy the archive into a central PostgreSQL store, sending only what it does not hold yet.",
        discussion: """
        Every version of every object, task logs, coverage, gaps, sync runs and the hash chain go into \
        schema cloudron_audit, keyed by this archive's id, so several machines push into one database. \
        The password comes from PGPASSWORD or ~/.pgpass, never from the command line. A push commits in \
        batches: one killed midway resumes where it stopped; re-running it sends nothing.

        Examples:
          cloudron-audit push --db audit.db \\
              --to postgresql://audit@db.example.com:5432/audit
          PGPASSWORD=… cloudron-audit push \\
              --to 'postgresql://audit@10.0.0.5/audit?sslmode=require' --quiet
          cloudron-audit verify --from postgresql://audit@db.example.com/audit
        """
    )

    @OptionGroup var archive: ArchiveOptions
    @Option(help: ArgumentHelp("The central store: a libpq connection URI.", valueName: "postgresql://user@host:port/db"))
    var to: String
    @Option(help: ArgumentHelp("Chain records per transaction.", valueName: "n")) var batchSize: Int64 = 20_000
    @Flag(name: .shortAndLong, help: "Print nothing unless it fails.") var quiet = false

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, not \(batchSize)") }
    }

    func run() throws {
        let archive = try self.archive.openForReading()
        let connection = try PostgresConnection(uri: to)
        var push = ArchivePush(archive: archive, connection: connection)
        push.batchSize = batchSize
        if !quiet && StandardError.isTerminal {
            push.progress = { (done: Int64, total: Int64) in
                FileHandle.standardError.write(Data("\r\u{1B}[Kpush: \(done)/\(total) chain records".utf8))
            }
        }
        let report = try push.run()
        if push.progress != nil { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        guard !quiet else { return }
        if report.totalRows == 0 {
            print("nothing to push: \(connection.target) holds all \(report.chainAfter) chain records of archive \(report.archiveID)")
        } else {
            let tables = report.rowsSent.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print("pushed archive \(report.archiveID) to \(connection.target): chain records \(report.chainBefore) → \(report.chainAfter), "
                  + "\(report.totalRows) rows in \(report.batches) transaction(s) (\(tables))")
        }
    }
}
