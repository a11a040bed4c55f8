import Archiver
import CentralStore
import Client
import CloudronSimulator
import Foundation
import Testing

/// An archive filled by real syncs from a simulated Cloudron (events, versions from login rewrites,
/// notifications, tasks and their logs), in a scratch folder.
final class SyncedArchive: Sendable {
    let simulator: SimulatedCloudron
    let url: String
    let path: String
    let instance: String

    private init(simulator: SimulatedCloudron, url: String, path: String, instance: String) {
        self.simulator = simulator
        self.url = url
        self.path = path
        self.instance = instance
    }

    /// Two syncs: a first one, then one against a server that moved (new events, rewritten logins).
    static func make(seed: UInt64, events: Int, instance: String = "prod") async throws -> SyncedArchive {
        let simulator = SimulatedCloudron(configuration: SimulatorConfiguration(seed: seed, eventCount: events))
        let url = try await simulator.start()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloudron-audit-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let archive = SyncedArchive(simulator: simulator, url: url, path: folder + "/audit.db", instance: instance)
        try await archive.sync()
        await simulator.setDynamics(SimulatorDynamics(newEventsPerListRequest: 5, loginUpsertsPerListRequest: 2))
        try await archive.sync()
        return archive
    }

    func sync() async throws {
        let client = try CloudronClient(configuration: ClientConfiguration(baseURL: url, token: APIToken(simulator.readonlyToken)))
        _ = try await ArchiveSync.run(client: client, archivePath: path,
                                      options: SyncOptions(instanceName: instance, taskLogs: true, pageSize: 200))
    }

    /// A read-only connection for counting rows with plain SQL.
    func open() throws -> Archive { try Archive(path: path, mode: .readOnly) }

    func session() throws -> ReadSession { try ReadSession(path: path) }

    func push(to uri: String, batchSize: Int64 = 20_000) throws -> PushReport {
        var push = ArchivePush(archive: try session(), connection: try PostgresConnection(uri: uri))
        push.batchSize = batchSize
        return try push.run()
    }

    func finish() async {
        await simulator.stop()
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }
}

/// Table contents rendered alike from both sides: integers in decimal, text as is, blobs as `\x` hex
/// (PostgreSQL's own rendering of bytea), NULL as nil.
enum TableContents {
    typealias Rows = [[String?]]

    static func archive(_ archive: Archive, table: ArchiveLayout.Table) throws -> Rows {
        var rows: Rows = []
        let order = table.primaryKey.joined(separator: ", ")
        try archive.database.forEachRow("SELECT \(table.columnList) FROM \(table.name) ORDER BY \(order)") { row in
            rows.append((0 ..< Int32(table.columns.count)).map { index in
                switch row.value(at: index) {
                case let .integer(value): String(value)
                case let .real(value): String(value)
                case let .text(value): value
                case let .blob(bytes): "\\x" + bytes.hexString
                case .textBytes(let bytes): String(decoding: bytes, as: UTF8.self)
                case .null: nil
                }
            })
        }
        return rows
    }

    static func store(_ connection: PostgresConnection, archiveID: String, table: ArchiveLayout.Table) throws -> Rows {
        try connection.query("SELECT \(table.columnList) FROM cloudron_audit.\(table.name) WHERE archive_id = $1 ORDER BY \(table.primaryKey.joined(separator: ", "))",
                             [archiveID]).rows
    }
}

/// Every mirrored table of the archive equals its rows in the store, value for value.
func expectStoreEqualsArchive(_ uri: String, _ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let connection = try PostgresConnection(uri: uri)
    let archive = try Archive(path: path, mode: .readOnly)
    let archiveID = try archive.archiveID()
    let layout = try ArchiveLayout(session: ReadSession(path: path))
    #expect(layout.tables.count >= 12, sourceLocation: sourceLocation)
    for table in layout.tables {
        let expected = try TableContents.archive(archive, table: table)
        let found = try TableContents.store(connection, archiveID: archiveID, table: table)
        #expect(found.count == expected.count, "\(table.name): \(found.count) rows in PostgreSQL, \(expected.count) in the archive",
                sourceLocation: sourceLocation)
        if found != expected, let index = found.indices.first(where: { $0 < expected.count && found[$0] != expected[$0] }) {
            Issue.record("\(table.name) row \(index) differs: \(found[index]) vs \(expected[index])", sourceLocation: sourceLocation)
        }
    }
}

/// Runs blocking work (libpq, SQLite, psql, initdb) on a thread of its own: Swift's cooperative pool
/// has one thread per core (two here), and the in-process simulators of every suite serve from it.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
