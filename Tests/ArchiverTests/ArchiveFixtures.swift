import Client
import Foundation
@testable import Archiver

/// A temporary folder for real archive files, removed at the end of the test.
struct TemporaryFolder: ~Copyable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("archiver-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Realistic Cloudron objects, written as the server sends them (see shared/cloudron-api.md).
enum Fixture {
    static let baseEpoch: Int64 = 1_795_000_000   // 2026-11-18

    static func isoTime(_ epoch: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(epoch)))
    }

    static func json(_ object: [String: Any]) -> [UInt8] {
        // Sorted keys: the same object always gives the same bytes, like a server re-sending a row.
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
    }

    static func event(id: String, action: String, epoch: Int64, source: [String: Any], data: [String: Any]) -> Event {
        let time = isoTime(epoch)
        let raw = json(["id": id, "action": action, "creationTime": time, "source": source, "data": data])
        return Event(id: id, action: action, creationTime: time, epochSeconds: epoch, raw: raw)
    }

    static func app(subdomain: String) -> [String: Any] {
        [
            "id": "app-\(subdomain)", "appStoreId": "org.wordpress.cloudronapp", "subdomain": subdomain,
            "domain": "example.org", "fqdn": "\(subdomain).example.org", "installationState": "installed",
            "runState": "running", "health": "healthy", "memoryLimit": 536_870_912,
            "manifest": [
                "id": "org.wordpress.cloudronapp", "title": "WordPress (Developer)", "version": "3.8.1",
                "description": "WordPress is web software you can use to create a beautiful website or blog.",
                "tags": ["blog", "cms"], "httpPort": 8000,
            ],
        ]
    }

    static func appInstall(id: String, epoch: Int64, subdomain: String = "blog") -> Event {
        event(id: id, action: "app.install", epoch: epoch,
              source: ["ip": "203.0.113.24", "username": "alice", "userId": "uid-alice"],
              data: ["appId": "app-\(subdomain)", "app": app(subdomain: subdomain)])
    }

    static func login(id: String, epoch: Int64, ip: String = "198.51.100.7", user: String = "bob") -> Event {
        event(id: id, action: "user.login", epoch: epoch,
              source: ["authType": "oidc", "ip": ip, "appId": "app-blog"],
              data: ["userId": "uid-\(user)", "user": ["id": "uid-\(user)", "username": user,
                                                      "email": "\(user)@example.org", "role": "user"]])
    }

    static func notification(id: String, epoch: Int64, title: String, message: String, acknowledged: Bool,
                             eventId: String? = nil) -> Client.Notification {
        let raw = json(["id": id, "eventId": eventId ?? NSNull(), "title": title, "message": message,
                        "creationTime": isoTime(epoch), "acknowledged": acknowledged])
        return Client.Notification(id: id, eventId: eventId, title: title, creationTime: isoTime(epoch),
                                   epochSeconds: epoch, acknowledged: acknowledged, raw: raw)
    }

    static func task(id: String, epoch: Int64, percent: Int, active: Bool, message: String,
                     error: String? = nil) -> CloudronTask {
        let success: Bool? = active ? nil : (error == nil)
        var object: [String: Any] = [
            "id": id, "type": "backup", "percent": percent, "message": message, "active": active, "pending": false,
            "creationTime": isoTime(epoch), "ts": isoTime(epoch + Int64(percent)),
            "error": error.map { ["message": $0, "code": "crashed"] as [String: Any] } ?? NSNull(),
        ]
        if let success { object["success"] = success }
        return CloudronTask(id: id, type: "backup", percent: percent, message: message, active: active, pending: false,
                            success: success, errorMessage: error, creationTime: isoTime(epoch), epochSeconds: epoch,
                            ts: isoTime(epoch + Int64(percent)), raw: json(object))
    }

    static func logLine(task: String, micros: Int64, message: String) -> TaskLogLine {
        TaskLogLine(realtimeTimestamp: micros, message: message,
                    raw: json(["realtimeTimestamp": micros, "message": message, "source": task]))
    }
}

/// An archive with one instance and one run, ready for ingest.
struct ArchiveUnderTest {
    let archive: Archive
    let instance: Int64
    let run: Int64

    init(path: String) throws {
        archive = try Archive(path: path)
        instance = try archive.instanceID(name: "my.example.org", baseURL: "https://my.example.org")
        run = try archive.beginRun(instance: instance, streams: ObjectKind.allCases.map(\.streamName), startedAt: Fixture.baseEpoch)
    }

    /// Two events (one of them changed later: two versions), a notification with two versions, a
    /// finished task with two versions and its log, and a rotated log: every chain table is used.
    func fillWithEveryKind() throws {
        _ = try archive.transaction {
            _ = try archive.ingest(events: [Fixture.appInstall(id: "ev-1", epoch: Fixture.baseEpoch),
                                            Fixture.login(id: "ev-2", epoch: Fixture.baseEpoch + 10)],
                                   instance: instance, run: run, seenAt: Fixture.baseEpoch + 100)
            _ = try archive.ingest(notifications: [Fixture.notification(id: "7", epoch: Fixture.baseEpoch, title: "Backup failed",
                                                                         message: "Disk full on /mnt/backup", acknowledged: false)],
                                   instance: instance, run: run, seenAt: Fixture.baseEpoch + 100)
            _ = try archive.ingest(tasks: [Fixture.task(id: "412", epoch: Fixture.baseEpoch, percent: 10, active: true, message: "Uploading"),
                                           Fixture.task(id: "413", epoch: Fixture.baseEpoch, percent: 100, active: false, message: "Done")],
                                   instance: instance, run: run, seenAt: Fixture.baseEpoch + 100)
            _ = try archive.ingest(events: [Fixture.login(id: "ev-2", epoch: Fixture.baseEpoch + 50, ip: "192.0.2.99")],
                                   instance: instance, run: run, seenAt: Fixture.baseEpoch + 200)
            _ = try archive.ingest(notifications: [Fixture.notification(id: "7", epoch: Fixture.baseEpoch, title: "Backup failed",
                                                                         message: "Disk full on /mnt/backup", acknowledged: true)],
                                   instance: instance, run: run, seenAt: Fixture.baseEpoch + 200)
            _ = try archive.ingest(tasks: [Fixture.task(id: "412", epoch: Fixture.baseEpoch, percent: 100, active: false, message: "Uploaded")],
                                   instance: instance, run: run, seenAt: Fixture.baseEpoch + 200)
            try archive.storeTaskLog(instance: instance, taskId: "412", log: TaskLog(lines: [
                Fixture.logLine(task: "412", micros: 1_795_000_000_123_456, message: "Backup started"),
                Fixture.logLine(task: "412", micros: 1_795_000_001_000_000, message: "Uploading 3 files to s3"),
            ]), run: run, seenAt: Fixture.baseEpoch + 200)
            try archive.storeTaskLog(instance: instance, taskId: "413", log: TaskLog(lines: []), run: run, seenAt: Fixture.baseEpoch + 200)
        }
    }
}
