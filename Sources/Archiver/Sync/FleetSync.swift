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
    ///
    /// A first sync (no archive file yet) asks every server for its status before the archive is created, as a
    /// single server's first sync does: when none answers as a Cloudron, no archive is left behind, and a
    /// server that did not answer is one failed outcome, not synced this run.
    /// - Throws: only what stops every server: the archive cannot be opened or upgraded, or is locked.
    public static func run(_ configuration: FleetConfiguration, archivePath: String, settings: Settings,
                           finished: (FleetOutcome) -> Void = { _ in }) async throws -> [FleetOutcome] {
        let servers = configuration.servers
        var outcomes = [FleetOutcome?](repeating: nil, count: servers.count)
        var toSync = Array(servers.indices)
        let isNewFile = !FileManager.default.fileExists(atPath: archivePath)
        if isNewFile {
            await eachServer(toSync, jobs: settings.jobs) { index in
                await confirmCloudron(servers[index])
            } finished: { index, answer in
                guard let error = answer else { return }
                let outcome = FleetOutcome(server: servers[index].name, result: .failure(error))
                outcomes[index] = outcome
                finished(outcome)
            }
            toSync.removeAll { outcomes[$0] != nil }
            if toSync.isEmpty { return outcomes.compactMap { $0 } }
        }
        let upgradeProgress = settings.upgradeProgress
        let archive = try Archive(path: archivePath, mode: .readWrite, upgradeProgress: { upgradeProgress?($0) })
        let lock = try SyncLock(archivePath: archivePath)
        defer { withExtendedLifetime(lock) {} }

        await eachServer(toSync, jobs: settings.jobs) { index in
            FleetOutcome(server: servers[index].name,
                         result: await sync(servers[index], into: archive, settings: settings, confirmed: isNewFile))
        } finished: { index, outcome in
            finished(outcome)
            outcomes[index] = outcome
        }
        return outcomes.compactMap { $0 }
    }

    /// Runs `body` for each of `indices`, `jobs` at a time; `finished` hears each result as it comes, one at a time.
    private static func eachServer<Answer: Sendable>(_ indices: [Int], jobs: Int,
                                                     _ body: @escaping @Sendable (Int) async -> Answer,
                                                     finished: (Int, Answer) -> Void) async {
        await withTaskGroup(of: (Int, Answer).self) { group in
            var next = indices.startIndex
            func startNext() {
                guard next < indices.endIndex else { return }
                let index = indices[next]
                next += 1
                group.addTask { (index, await body(index)) }
            }
            for _ in 0..<jobs { startNext() }
            for await (index, result) in group {
                finished(index, result)
                startNext()
            }
        }
    }

    /// Nil when `server` answers as a Cloudron, else what stopped it.
    private static func confirmCloudron(_ server: FleetServer) async -> (any Error)? {
        do {
            try await SyncEngine.confirmCloudron(try CloudronClient(configuration: server.client))
            return nil
        } catch {
            return error
        }
    }

    /// `confirmed`: the server answered as a Cloudron moments ago (`confirmCloudron`), so the engine need not ask again.
    private static func sync(_ server: FleetServer, into archive: Archive, settings: Settings,
                             confirmed: Bool) async -> Result<SyncReport, any Error> {
        do {
            let client = try CloudronClient(configuration: server.client)
            var options = SyncOptions(instanceName: server.name, streams: server.streams, taskLogs: server.taskLogs,
                                      pageSize: settings.pageSize)
            options.acceptMovedServer = server.acceptMoved
            options.settingsSource = .configFile
            options.signingKey = settings.signingKey
            options.witness = settings.witness
            if let progress = settings.progress {
                let name = server.name
                options.progress = { progress(name, $0) }
            }
            var engine = SyncEngine(client: client, archive: archive, options: options)
            engine.serverConfirmed = confirmed
            return .success(try await engine.run(baseURL: server.client.baseURL))
        } catch {
            return .failure(error)
        }
    }
}
