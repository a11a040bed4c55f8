import Client
import Foundation

/// How one server of a fleet sync ended.
public struct FleetOutcome: Sendable {
    public var server: String
    /// The run's report, or what stopped this server (the others went on).
    public var result: Result<SyncReport, any Error>

    public init(server: String, result: Result<SyncReport, any Error>) {
        self.server = server
        self.result = result
    }
}

/// `sync --config`: every server of a `FleetConfiguration` into one archive, `jobs` of them at a time.
///
/// The archive is opened and its sync lock taken once, before any server is asked anything, so a
/// damaged archive or a second sync fails the whole run at once. The servers then share that one
/// `Archive`: their fetches overlap (the client's transfers run on threads of their own), while every
/// write goes through the archive's connection lock, each page in its own transaction as a single
/// server's sync commits it; a process killed midway leaves each server's pages as a single sync would.
/// A server that fails is one failed outcome, recorded in its run; it never stops the others.
public enum FleetSync {
    /// What a fleet sync applies to every server besides its config.
    public struct Settings: Sendable {
        public var jobs: Int
        public var pageSize = 500
        public var signingKey: HeadSigningKey?
        public var witness: WitnessFile?
        /// Each server's progress, by name (the CLI draws one line on a TTY).
        public var progress: (@Sendable (String, SyncProgress) -> Void)?
        /// Told how an upgrade of an older archive advances (before any server is synced).
        public var upgradeProgress: (@Sendable (UpgradeProgress) -> Void)?

        public init(jobs: Int) { self.jobs = max(1, jobs) }
    }

    /// Syncs every server of `configuration`; `finished` hears each outcome as it comes, one at a time. Returns the
    /// outcomes in the config's order.
    /// - Throws: only what stops every server: the archive cannot be opened or upgraded, or is locked.
    public static func run(_ configuration: FleetConfiguration, archivePath: String, settings: Settings,
                           finished: (FleetOutcome) -> Void = { _ in }) async throws -> [FleetOutcome] {
        let upgradeProgress = settings.upgradeProgress
        let archive = try Archive(path: archivePath, mode: .readWrite, upgradeProgress: { upgradeProgress?($0) })
        let lock = try SyncLock(archivePath: archivePath)
        defer { withExtendedLifetime(lock) {} }

        var outcomes = [FleetOutcome?](repeating: nil, count: configuration.servers.count)
        await withTaskGroup(of: (Int, FleetOutcome).self) { group in
            var next = 0
            func startNext() {
                guard next < configuration.servers.count else { return }
                let index = next, server = configuration.servers[index]
                next += 1
                group.addTask {
                    (index, FleetOutcome(server: server.name, result: await sync(server, into: archive, settings: settings)))
                }
            }
            for _ in 0..<settings.jobs { startNext() }
            for await (index, outcome) in group {
                finished(outcome)
                outcomes[index] = outcome
                startNext()
            }
        }
        return outcomes.compactMap { $0 }
    }

    private static func sync(_ server: FleetServer, into archive: Archive, settings: Settings) async -> Result<SyncReport, any Error> {
        do {
            let client = try CloudronClient(configuration: server.client)
            var options = SyncOptions(instanceName: server.name, streams: server.streams, taskLogs: server.taskLogs,
                                      pageSize: settings.pageSize)
            options.acceptMovedServer = server.acceptMoved
            options.signingKey = settings.signingKey
            options.witness = settings.witness
            if let progress = settings.progress {
                let name = server.name
                options.progress = { progress(name, $0) }
            }
            return .success(try await SyncEngine(client: client, archive: archive, options: options).run(baseURL: server.client.baseURL))
        } catch {
            return .failure(error)
        }
    }
}
