import Client
import Foundation

/// `sync` as a library call: open (or create) the archive, take its sync lock, run the engine.
public enum ArchiveSync {
    public static func run(client: CloudronClient, archivePath: String, options: SyncOptions,
                           clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) })
        async throws -> SyncReport
    {
        // A first sync to a mistyped or unreachable URL leaves no archive file behind: the server must
        // answer as a Cloudron first (the engine then binds the instance name without asking again).
        // Otherwise the archive is opened first, so that a damaged file gets the archive's own precise
        // error; the lock then keeps a second sync out before anything is written.
        let isNewFile = !FileManager.default.fileExists(atPath: archivePath)
        if isNewFile { try await SyncEngine.confirmCloudron(client) }
        let archive = try Archive(path: archivePath, mode: .readWrite, upgradeProgress: { options.upgradeProgress?($0) })
        let lock = try SyncLock(archivePath: archivePath)
        defer { withExtendedLifetime(lock) {} }
        var engine = SyncEngine(client: client, archive: archive, options: options, clock: clock)
        engine.serverConfirmed = isNewFile
        return try await engine.run(baseURL: client.configuration.baseURL)
    }
}
