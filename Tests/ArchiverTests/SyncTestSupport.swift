import Archiver
import Client
import CloudronSimulator
import Foundation
import Testing

/// A simulator on 127.0.0.1 and an archive in a fresh temporary folder, for one test.
struct SyncFixture {
    let simulator: SimulatedCloudron
    let url: String
    let folder: String
    var archivePath: String { folder + "/archive.db" }

    static func start(_ configuration: SimulatorConfiguration) async throws -> SyncFixture {
        let simulator = SimulatedCloudron(configuration: configuration)
        let url = try await simulator.start()
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("cloudron-audit-sync-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return SyncFixture(simulator: simulator, url: url, folder: folder)
    }

    func client(retry: RetryPolicy = .default) throws -> CloudronClient {
        var configuration = try ClientConfiguration(baseURL: url, token: APIToken(simulator.readonlyToken))
        configuration.retry = retry
        return try CloudronClient(configuration: configuration)
    }

    @discardableResult
    func sync(pageSize: Int = 100, taskLogs: Bool = false, recheck: Bool = false, client: CloudronClient? = nil) async throws -> SyncReport {
        var options = SyncOptions(instanceName: "sim", taskLogs: taskLogs, pageSize: pageSize)
        options.recheck = recheck
        return try await ArchiveSync.run(client: try client ?? self.client(), archivePath: archivePath, options: options)
    }

    func finish() async {
        await simulator.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// What an archive holds, read back with plain SQL (independent of the Query module).
struct ArchivedObjects {
    /// api id → raw JSON of the current version.
    var current: [String: String] = [:]
    /// api id → raw JSON of every archived version, in version order.
    var versions: [String: [String]] = [:]

    static func read(_ path: String, kind: String) throws -> ArchivedObjects {
        let (table, versions, key) = switch kind {
        case "events": ("events", "event_versions", "event_id")
        case "notifications": ("notifications", "notification_versions", "notification_id")
        default: ("tasks", "task_versions", "task_id")
        }
        let archive = try Archive(path: path, mode: .readOnly)
        var objects = ArchivedObjects()
        try archive.database.forEachRow("""
            SELECT o.api_id, v.raw, v.version = o.version FROM \(table) o JOIN \(versions) v ON v.\(key) = o.id
            ORDER BY o.id, v.version
            """) { row in
            let id = row.string(at: 0)
            let raw = row.string(at: 1)
            objects.versions[id, default: []].append(raw)
            if row.bool(at: 2) { objects.current[id] = raw }
        }
        return objects
    }
}

extension SimulatorTruth {
    func currentEvents() -> [String: String] { Dictionary(events.map { ($0.id, $0.json) }, uniquingKeysWith: { a, _ in a }) }
    func currentNotifications() -> [String: String] { Dictionary(notifications.map { ($0.id, $0.json) }, uniquingKeysWith: { a, _ in a }) }
    func currentTasks() -> [String: String] { Dictionary(tasks.map { ($0.id, $0.json) }, uniquingKeysWith: { a, _ in a }) }
}

/// Asserts that the archive holds exactly the server's current objects, byte for byte, and that
/// every archived version is one the server really held.
func expectArchiveMatchesTruth(_ path: String, _ truth: SimulatorTruth, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let events = try ArchivedObjects.read(path, kind: "events")
    let expected = truth.currentEvents()
    let missing = Set(expected.keys).subtracting(events.current.keys)
    #expect(missing.isEmpty, "events missing from the archive: \(missing.prefix(5))", sourceLocation: sourceLocation)
    // Pruned events stay archived; anything else extra would be invented.
    let extra = Set(events.current.keys).subtracting(expected.keys).subtracting(truth.prunedEventIds)
    #expect(extra.isEmpty, "events in the archive the server never had: \(extra.prefix(5))", sourceLocation: sourceLocation)
    let stale = expected.filter { id, json in events.current[id].map { $0 != json } ?? false }
    #expect(stale.isEmpty, "events whose current version differs: \(stale.keys.prefix(5))", sourceLocation: sourceLocation)
    for (id, archived) in events.versions {
        let known = Set((truth.eventVersions[id] ?? []).map(\.json))
        #expect(archived.allSatisfy(known.contains), "event \(id) has a version the server never held",
                sourceLocation: sourceLocation)
    }

    let notifications = try ArchivedObjects.read(path, kind: "notifications")
    let expectedNotifications = truth.currentNotifications()
    #expect(Set(expectedNotifications.keys).isSubset(of: notifications.current.keys), sourceLocation: sourceLocation)
    #expect(expectedNotifications.allSatisfy { notifications.current[$0.key] == $0.value },
            "notifications differ from the server's", sourceLocation: sourceLocation)

    let tasks = try ArchivedObjects.read(path, kind: "tasks")
    #expect(tasks.current == truth.currentTasks(), "tasks differ from the server's", sourceLocation: sourceLocation)
}
