import Archiver
import CentralStore
import Foundation
import ScratchPostgres
import TestSupport
import Testing

/// An archive filled by real syncs from a simulated Cloudron (events, versions from rewritten logins,
/// notifications, tasks and their logs), in a scratch folder: `cloudron-audit demo`, which serves a
/// simulator and syncs twice (the second time against a server that moved). It runs as a child
/// process, so that its simulator and SQLite work stay off this test process's cooperative pool,
/// which the other suites' in-process simulators need.
final class SyncedArchive: Sendable {
    let path: String
    let seed: UInt64
    let events: Int

    private init(path: String, seed: UInt64, events: Int) {
        self.path = path
        self.seed = seed
        self.events = events
    }

    static func make(seed: UInt64, events: Int) async throws -> SyncedArchive {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloudron-audit-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let archive = SyncedArchive(path: folder + "/audit.db", seed: seed, events: events)
        try await archive.sync()
        return archive
    }

    /// Two more syncs from a new simulator with the same data: new events, rewritten logins.
    func sync() async throws {
        let result = try await CLI.run(["demo", "--db", path, "--events", String(events), "--seed", String(seed)])
        guard result.status == 0 else { throw CLI.Failure(description: "demo failed: \(result.stderr)") }
    }

    /// A read-only connection for counting rows with plain SQL.
    func open() throws -> Archive { try Archive(path: path, mode: .readOnly) }

    func session() throws -> ReadSession { try ReadSession(path: path) }

    func push(to uri: String, batchSize: Int64 = 20_000) throws -> PushReport {
        var push = ArchivePush(archive: try session(), connection: try PostgresConnection(uri: uri))
        push.batchSize = batchSize
        return try push.run()
    }

    func finish() {
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }
}

/// The built binary, as a user or cron runs it.
enum CLI {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static var path: String {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("cloudron-audit").path),
              folder.pathComponents.count > 1, folder.lastPathComponent != ".build" {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("cloudron-audit").path
    }

    static func process(_ arguments: [String], stdout: Pipe, stderr: Pipe) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"]
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        return process
    }

    /// Runs to the end without blocking a cooperative thread: the output is drained on threads of its
    /// own, and the exit arrives through the termination handler.
    static func run(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let out = Pipe(), err = Pipe()
        let process = process(arguments, stdout: out, stderr: err)
        async let stdout = offThePool { drain(out) }
        async let stderr = offThePool { drain(err) }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do { try process.run() } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        return (process.terminationStatus, String(decoding: try await stdout, as: UTF8.self),
                String(decoding: try await stderr, as: UTF8.self))
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
                case let .blob(bytes): "\\x" + Hex.string(bytes)
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

/// The shared scratch cluster and a new, empty database in it (its URI), made off the cooperative pool.
func newStoreDatabase() async throws -> (cluster: PostgresCluster, uri: String) {
    try await offThePool { let cluster = try PostgresCluster.shared(); return (cluster, try cluster.makeDatabase()) }
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
