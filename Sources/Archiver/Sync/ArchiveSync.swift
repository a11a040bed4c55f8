import Client
import Foundation

/// `sync` as a library call: open (or create) the archive, take its sync lock, run the engine.
public enum ArchiveSync {
    public static func run(client: CloudronClient, archivePath: String, options: SyncOptions,
                           clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) })
        async throws -> SyncReport
    {
        // The archive is opened first so that a missing folder or a damaged file gets the archive's
        // own precise error; the lock then keeps a second sync out before anything is written.
        let archive = try Archive(path: archivePath, mode: .readWrite, upgradeProgress: { options.upgradeProgress?($0) })
        let lock = try SyncLock(archivePath: archivePath)
        defer { withExtendedLifetime(lock) {} }
        return try await SyncEngine(client: client, archive: archive, options: options, clock: clock)
            .run(baseURL: client.configuration.baseURL)
    }
}
