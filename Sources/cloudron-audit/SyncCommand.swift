import Archiver
import ArgumentParser
import Client
import Foundation

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Archive new and changed events, notifications and tasks from a Cloudron.",
        discussion: """
        The first sync backfills everything the server still has (about ten days); later runs read only \
        what is new or changed. Run it hourly from cron or a systemd timer. Exits 3 when the server had \
        already pruned events that were never archived (the gap is recorded; see 'status'). With --sign-key, \
        the chain head each run ends with is signed and stored with the run; --witness also appends it to a \
        file outside the archive, so that 'verify --public-key' detects any later rewrite or truncation. An \
        archived event that vanishes from the server before its retention edge, or changes other than a login \
        rewrite, raises an alarm (kept in the archive, shown by 'status') and exits 4; --recheck compares \
        everything the server still holds, as a run does by itself once a day. SIGINT (Ctrl-C) or SIGTERM \
        stops a sync cleanly: what it read is kept, the run is recorded as interrupted, exit 130 or 143.

        Examples:
          export CLOUDRON_TOKEN=…   # a read-only API token from the dashboard
          cloudron-audit sync --domain my.example.com \\
              --db /var/lib/cloudron-audit/audit.db --quiet
          cloudron-audit sync --url https://my.example.com \\
              --token-file ~/.config/cloudron-audit/token --task-logs
          cloudron-audit sync --domain second.example.com --instance second \\
              --streams eventlog
          cloudron-audit sync --domain my.example.com \\
              --sign-key /etc/cloudron-audit/head.key --witness /mnt/worm/heads.log
          cloudron-audit sync --config /etc/cloudron-audit/fleet.toml --quiet

        With --config FILE, every [[server]] of that TOML file is synced into the one archive, several at once \
        (jobs, default 4; --jobs overrides). Each server gets one line (under --quiet only when it failed); one \
        server failing never stops the others, and the exit code is the highest of the servers' outcomes. A bad \
        config (unknown key, a token written inline, a missing token file, a duplicate name) syncs nothing and \
        exits 78, naming the file, line and key. See README.md for the file's keys.
        """
    )

    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var server: ServerOptions

    @Option(help: ArgumentHelp("Sync every server listed in this TOML file (instead of --url/--domain and a token).",
                               valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("With --config: servers fetched at once (default: the file's jobs, else 4).", valueName: "n"))
    var jobs: Int?

    @Option(help: ArgumentHelp("The archive's name for this server (default: its host name).", valueName: "name"))
    var instance: String?

    @Option(help: ArgumentHelp("Which streams to sync, comma-separated (default: all three).", valueName: "eventlog,notifications,tasks"))
    var streams: String?

    @Flag(help: "Also archive each finished task's log once (they rotate away after about 7 days).")
    var taskLogs = false

    @Option(help: ArgumentHelp("Events per request while backfilling (1-10000).", valueName: "n"))
    var pageSize = 500

    @Flag(help: "This --instance's server now answers at another URL (a domain change): accept it.")
    var moved = false

    @Flag(help: "Re-read everything the server still holds and compare it with the archive (done by itself once a day).")
    var recheck = false

    @OptionGroup var signing: SigningOptions

    @Option(help: ArgumentHelp("Also append each signed chain head to this append-only file outside the archive (needs --sign-key).",
                               valueName: "path"))
    var witness: String?

    @Flag(name: .shortAndLong, help: "Print nothing but errors (for cron).")
    var quiet = false

    func validate() throws {
        guard (1...10_000).contains(pageSize) else {
            throw ValidationError("--page-size must be between 1 and 10000, not \(pageSize)")
        }
        _ = try parsedStreams()
        if witness != nil && signing.signKey == nil {
            throw ValidationError("--witness records signed heads: it needs --sign-key FILE")
        }
        if let instance, instance.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--instance must not be empty")
        }
        if let jobs, !(1...FleetConfiguration.maxJobs).contains(jobs) {
            throw ValidationError("--jobs must be between 1 and \(FleetConfiguration.maxJobs), not \(jobs)")
        }
        if config != nil {
            // The file says where and how each server is reached; a flag beside it would apply to which one?
            let perServer = [("--url", server.url != nil), ("--domain", server.domain != nil), ("--token", server.token != nil),
                             ("--token-file", server.tokenFile != nil), ("--cacert", server.cacert != nil),
                             ("--pinned-public-key", server.pinnedPublicKey != nil), ("--instance", instance != nil),
                             ("--streams", streams != nil),
                             ("--moved", moved), ("--token-in-query", server.tokenInQuery),
                             ("--allow-insecure-http", server.allowInsecureHttp)]
            if let (flag, _) = perServer.first(where: { $0.1 }) {
                throw ValidationError("\(flag) is set per server in the --config file: remove it from the command line")
            }
        } else if jobs != nil {
            throw ValidationError("--jobs goes with --config FILE (one server is synced at a time otherwise)")
        }
    }

    private func parsedStreams() throws -> Set<ObjectKind> {
        guard let streams else { return Set(ObjectKind.allCases) }
        do { return try SyncOptions.parseStreams(streams) } catch let error as SyncError {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        if let config { return try await runFleet(config) }
        let configuration = try server.clientConfiguration(warn: { StandardError.line("cloudron-audit: " + $0) })
        // Key and witness first: a run that could not sign its head should not start.
        let signingKey = try signing.key()
        let witnessFile = try witness.map { try WitnessFile(appendingTo: $0) }
        let client = try CloudronClient(configuration: configuration)
        let progress = (!quiet && StandardError.isTerminal) ? ProgressLine() : nil
        var options = SyncOptions(instanceName: instance ?? SyncCommand.defaultInstanceName(configuration.baseURL),
                                  streams: try parsedStreams(), taskLogs: taskLogs, pageSize: pageSize)
        options.acceptMovedServer = moved
        options.recheck = recheck
        options.signingKey = signingKey
        options.witness = witnessFile
        if let progress {
            options.progress = { progress.update($0) }
            options.upgradeProgress = { progress.update($0) }
        }
        let archivePath = archive.path
        let sync = Task { try await ArchiveSync.run(client: client, archivePath: archivePath, options: options) }
        let signals = InterruptSignals { _ in sync.cancel() }
        let report: SyncReport
        do {
            report = try await sync.value
        } catch let error where Self.wasInterrupted(error) {
            progress?.finish()
            let signal = signals?.received ?? SIGINT
            throw CommandFailure(status: signal == SIGTERM ? .terminated : .interrupted,
                                 description: InterruptSignals.name(signal) + ": "
                                    + (error is CancellationError ? "stopped before the sync began" : "\(error)"))
        }
        progress?.finish()
        let outcome = FleetOutcome(server: options.instanceName, result: .success(report))
        if !report.failedStreams.isEmpty {
            // A line per failed stream, and for an alarm or a gap of the same run; the most serious code.
            SyncSummary.write(outcome, quiet: quiet)
            throw ExitCode(ExitStatus.of(outcome).rawValue)
        }
        SyncSummary.write(outcome, quiet: quiet, gapLine: false)
        if report.events.alarms > 0 {
            // The alarm decides the exit code; a gap found by the same run still gets its line.
            if let gap = report.events.gap {
                StandardError.line("cloudron-audit: warning: " + SyncSummary.gapLine(gap, instance: options.instanceName))
            }
            throw CommandFailure(status: .sourceTampered, description: SyncSummary.alarmLine(report.events.alarms, instance: options.instanceName))
        }
        if let gap = report.events.gap {
            throw CommandFailure(status: .gapDetected, description: SyncSummary.gapLine(gap, instance: options.instanceName))
        }
    }

    /// `sync --config`: one outcome line per server, the exit code of the most serious outcome.
    private func runFleet(_ path: String) async throws {
        var fleet = try FleetConfigurationFile.load(path)
        var settings = FleetSync.Settings(jobs: jobs ?? fleet.jobs)
        settings.pageSize = pageSize
        settings.signingKey = try signing.key()
        settings.witness = try witness.map { try WitnessFile(appendingTo: $0) }
        let progress = (!quiet && StandardError.isTerminal) ? ProgressLine() : nil
        if let progress {
            settings.progress = { progress.update($1, server: $0) }
            settings.upgradeProgress = { progress.update($0) }
        }
        if taskLogs {
            for index in fleet.servers.indices { fleet.servers[index].taskLogs = true }
        }
        let archivePath = archive.path(configured: fleet.archivePath), quiet = self.quiet
        // SIGINT or SIGTERM interrupts every server's run as it does a single sync's.
        let sync = Task { [fleet, settings] in
            try await FleetSync.run(fleet, archivePath: archivePath, settings: settings) { outcome in
                progress?.finish()
                SyncSummary.write(outcome, quiet: quiet, settings: .configFile)
            }
        }
        let signals = InterruptSignals { _ in sync.cancel() }
        let outcomes = try await sync.value
        progress?.finish()
        var status = ExitStatus.mostSerious(outcomes.map(ExitStatus.of))
        if status == .interrupted, signals?.received == SIGTERM { status = .terminated }
        if status != .success { throw ExitCode(status.rawValue) }
    }

    /// A sync that stopped because its task was cancelled: after its run began (recorded as interrupted),
    /// or before.
    private static func wasInterrupted(_ error: Error) -> Bool {
        if error is CancellationError { return true }
        if case SyncError.interrupted = error { return true }
        return false
    }

    /// `https://my.example.com` → `my.example.com`; several servers in one archive are told apart by it.
    static func defaultInstanceName(_ baseURL: String) -> String {
        guard let range = baseURL.range(of: "://") else { return baseURL }
        return String(baseURL[range.upperBound...])
    }
}

/// `--config FILE` as `sync` and `status` read it: a bad file is exit 78 (66 when there is none).
enum FleetConfigurationFile {
    static func load(_ path: String) throws -> FleetConfiguration {
        do { return try FleetConfiguration.load(path: path) } catch let error as FleetConfigurationError {
            throw CommandFailure(status: error.fileMissing ? .noInput : .configuration, description: error.description)
        }
    }
}
