import Archiver
import Client
import Foundation
@testable import Query

/// A hand-built event as the server would send it; the test's own record of the truth.
struct FixtureEvent {
    var id: String
    var action: String
    var epoch: Int64
    var source: String   // JSON object text
    var data: String     // JSON object text

    var creationTime: String {
        var formatter = TimestampFormatter()
        return formatter.string(from: epoch).replacingOccurrences(of: "Z", with: ".000Z")
    }

    /// The raw bytes, with the API's field order and spacing.
    var raw: [UInt8] {
        Array("{\"id\":\"\(id)\",\"action\":\"\(action)\",\"creationTime\":\"\(creationTime)\",\"source\":\(source),\"data\":\(data)}".utf8)
    }

    var event: Event { Event(id: id, action: action, creationTime: creationTime, epochSeconds: epoch, raw: raw) }

    /// A top-level JSON value parsed with Foundation, for the tests' independent filtering.
    func value(_ path: [String], in object: String) -> String? {
        var current: Any? = try? JSONSerialization.jsonObject(with: Data(object.utf8))
        for key in path { current = (current as? [String: Any])?[key] }
        return current as? String
    }
}

/// 2026-11-20T00:00:00Z
let fixtureDay: Int64 = 1_795_132_800

func appJSON(id: String, subdomain: String, domain: String = "example.com") -> String {
    "{\"id\":\"\(id)\",\"subdomain\":\"\(subdomain)\",\"domain\":\"\(domain)\",\"fqdn\":\"\(subdomain).\(domain)\",\"manifest\":{\"id\":\"org.example.\(subdomain)\",\"title\":\"\(subdomain.capitalized)\",\"version\":\"1.2.0\"}}"
}

/// Realistic events of two instances; ids say what they are.
let fixtureEvents: [FixtureEvent] = [
    FixtureEvent(id: "e01-login-alice", action: "user.login", epoch: fixtureDay + 100,
                 source: "{\"authType\":\"oidc\",\"ip\":\"203.0.113.24\",\"username\":\"alice\",\"userId\":\"uid-alice\"}",
                 data: "{\"userId\":\"uid-alice\",\"user\":{\"id\":\"uid-alice\",\"username\":\"alice\",\"email\":\"alice@example.com\",\"role\":\"owner\"}}"),
    FixtureEvent(id: "e02-install-wiki", action: "app.install", epoch: fixtureDay + 200,
                 source: "{\"ip\":\"203.0.113.24\",\"username\":\"alice\",\"userId\":\"uid-alice\"}",
                 data: "{\"appId\":\"app-wiki\",\"app\":\(appJSON(id: "app-wiki", subdomain: "wiki"))}"),
    FixtureEvent(id: "e03-up-wiki", action: "app.up", epoch: fixtureDay + 300,
                 source: "{\"userId\":null,\"username\":\"healthmonitor\"}",
                 data: "{\"app\":\(appJSON(id: "app-wiki", subdomain: "wiki"))}"),
    FixtureEvent(id: "e04-update-wiki", action: "app.update", epoch: fixtureDay + 300,   // same second as e03
                 source: "{\"ip\":\"10.0.0.1\",\"username\":\"bob\",\"userId\":\"uid-bob\"}",
                 data: "{\"appId\":\"app-wiki\",\"fromManifest\":{\"version\":\"1.2.0\"},\"toManifest\":{\"version\":\"1.3.0\"},\"app\":\(appJSON(id: "app-wiki", subdomain: "wiki"))}"),
    FixtureEvent(id: "e05-login-bob", action: "user.login", epoch: fixtureDay + 400,
                 source: "{\"authType\":\"ldap\",\"ip\":\"10.0.0.1\",\"username\":\"bob\",\"userId\":\"uid-bob\"}",
                 data: "{\"userId\":\"uid-bob\",\"user\":{\"id\":\"uid-bob\",\"username\":\"bob\",\"email\":\"bob@example.org\",\"role\":\"user\"}}"),
    FixtureEvent(id: "e06-ghost", action: "user.login.ghost", epoch: fixtureDay + 500,
                 source: "{\"ip\":\"203.0.113.24\",\"username\":\"alice\",\"userId\":\"uid-alice\"}",
                 data: "{\"userId\":\"uid-bob\",\"user\":{\"id\":\"uid-bob\",\"username\":\"bob\"}}"),
    FixtureEvent(id: "e07-finish", action: "app.update.finish", epoch: fixtureDay + 600,
                 source: "{\"userId\":null,\"username\":\"apptask\"}",
                 data: "{\"app\":\(appJSON(id: "app-wiki", subdomain: "wiki")),\"success\":true}"),
    FixtureEvent(id: "e08-applogin", action: "app.login", epoch: fixtureDay + 700,
                 source: "{\"authType\":\"ldap\",\"mailboxId\":\"carol@example.com\",\"appId\":\"app-mail\"}",
                 data: "{\"appId\":\"app-mail\",\"addonId\":\"ldap\"}"),
    FixtureEvent(id: "e09-hostile", action: "mail.box.add", epoch: fixtureDay + 800,
                 source: "{\"ip\":\"10.0.0.12\",\"username\":\"=cmd|' /C calc'!A0\",\"userId\":\"uid-evil\"}",
                 data: "{\"name\":\"O'Brien \\\"NOT\\\" (x) 🎉\",\"domain\":\"example.com\",\"userId\":\"uid-evil\"}"),
    FixtureEvent(id: "e10-down-chat", action: "app.down", epoch: fixtureDay + 86_400,
                 source: "{\"userId\":null,\"username\":\"healthmonitor\"}",
                 data: "{\"app\":\(appJSON(id: "app-chat", subdomain: "chat", domain: "example.org"))}"),
]

/// Events of a second instance; one shares an API id with the first instance.
let otherInstanceEvents: [FixtureEvent] = [
    FixtureEvent(id: "o01-login-alice", action: "user.login", epoch: fixtureDay + 150,
                 source: "{\"authType\":\"oidc\",\"ip\":\"198.51.100.7\",\"username\":\"alice\",\"userId\":\"uid-alice2\"}",
                 data: "{\"userId\":\"uid-alice2\",\"user\":{\"id\":\"uid-alice2\",\"username\":\"alice\"}}"),
    FixtureEvent(id: "e03-up-wiki", action: "app.up", epoch: fixtureDay + 350,
                 source: "{\"userId\":null,\"username\":\"healthmonitor\"}",
                 data: "{\"app\":\(appJSON(id: "app-blog", subdomain: "blog"))}"),
]

/// A second login of alice upserted into e01 (same id, new creationTime and data), as box does.
let upsertedLogin = FixtureEvent(id: "e01-login-alice", action: "user.login", epoch: fixtureDay + 650,
    source: "{\"authType\":\"oidc\",\"ip\":\"203.0.113.24\",\"username\":\"alice\",\"userId\":\"uid-alice\"}",
    data: "{\"userId\":\"uid-alice\",\"user\":{\"id\":\"uid-alice\",\"username\":\"alice\",\"email\":\"alice@example.com\",\"role\":\"owner\"},\"n\":2}")

func notificationJSON(id: String, eventId: String?, title: String, message: String, epoch: Int64, acknowledged: Bool) -> Client.Notification {
    var formatter = TimestampFormatter()
    let time = formatter.string(from: epoch).replacingOccurrences(of: "Z", with: ".000Z")
    let eventJSON = eventId.map { "\"\($0)\"" } ?? "null"
    let raw = "{\"id\":\"\(id)\",\"eventId\":\(eventJSON),\"title\":\"\(title)\",\"message\":\"\(message)\",\"creationTime\":\"\(time)\",\"acknowledged\":\(acknowledged)}"
    return Client.Notification(id: id, eventId: eventId, title: title, creationTime: time, epochSeconds: epoch,
                               acknowledged: acknowledged, raw: Array(raw.utf8))
}

func taskJSON(id: String, type: String, percent: Int, active: Bool, success: Bool?, error: String?, epoch: Int64) -> CloudronTask {
    var formatter = TimestampFormatter()
    let time = formatter.string(from: epoch).replacingOccurrences(of: "Z", with: ".000Z")
    let errorJSON = error.map { "{\"message\":\"\($0)\",\"code\":\"crashed\"}" } ?? "null"
    let successJSON = success.map { $0 ? "true" : "false" } ?? "null"
    let raw = "{\"id\":\"\(id)\",\"type\":\"\(type)\",\"percent\":\(percent),\"message\":\"step \(percent)\",\"active\":\(active),\"pending\":false,\"success\":\(successJSON),\"error\":\(errorJSON),\"result\":{\"backupId\":\"bk-\(id)\"},\"creationTime\":\"\(time)\",\"ts\":\"\(time)\"}"
    return CloudronTask(id: id, type: type, percent: percent, message: "step \(percent)", active: active, pending: false,
                        success: success, errorMessage: error, creationTime: time, epochSeconds: epoch, ts: time,
                        raw: Array(raw.utf8))
}

let fixtureNotifications = [
    notificationJSON(id: "1", eventId: "e10-down-chat", title: "App chat is down", message: "The app at chat.example.org is not responding",
                     epoch: fixtureDay + 86_400, acknowledged: false),
    notificationJSON(id: "2", eventId: nil, title: "Backup failed", message: "Backup of wiki timed out", epoch: fixtureDay + 900,
                     acknowledged: true),
]

let fixtureTasks = [
    taskJSON(id: "412", type: "backup", percent: 100, active: false, success: true, error: nil, epoch: fixtureDay + 1000),
    taskJSON(id: "413", type: "backup", percent: 40, active: false, success: false, error: "timeout reaching wiki storage",
             epoch: fixtureDay + 2000),
    taskJSON(id: "414", type: "app", percent: 30, active: false, success: nil, error: nil, epoch: fixtureDay + 3000),
]

/// A real archive file in `directory`: the fixture ingested through the Archiver, like a sync would.
func makeFixtureArchive(in directory: TemporaryDirectory, upsert: Bool = true) throws -> String {
    let path = directory.file("archive.db")
    let archive = try Archive(path: path)
    let main = try archive.instanceID(name: "main", baseURL: "https://my.example.com")
    let other = try archive.instanceID(name: "other", baseURL: "https://my.example.org")
    let run = try archive.beginRun(instance: main, streams: ObjectKind.allCases.map(\.streamName), startedAt: fixtureDay + 90_000)
    _ = try archive.ingest(events: fixtureEvents.map(\.event), instance: main, run: run, seenAt: fixtureDay + 90_000)
    _ = try archive.ingest(events: otherInstanceEvents.map(\.event), instance: other, run: run, seenAt: fixtureDay + 90_000)
    _ = try archive.ingest(notifications: fixtureNotifications, instance: main, run: run, seenAt: fixtureDay + 90_000)
    _ = try archive.ingest(tasks: fixtureTasks, instance: main, run: run, seenAt: fixtureDay + 90_000)
    if upsert {
        _ = try archive.ingest(events: [upsertedLogin.event], instance: main, run: run, seenAt: fixtureDay + 90_100)
    }
    try archive.finishRun(run, result: .success, finishedAt: fixtureDay + 90_200, counts: RunCounts(), requests: 1, errors: [])
    return path
}

/// Opens the fixture for reading, as the query commands do.
func openReadOnly(_ path: String) throws -> ReadSession {
    try ReadSession(path: path)
}

/// Runs a query into NDJSON in memory and parses each line with JSONSerialization.
func ndjsonObjects(_ body: (inout NDJSONWriter) throws -> Int) throws -> [[String: Any]] {
    let sink = OutputSink()
    var writer = NDJSONWriter(sink: sink)
    let count = try body(&writer)
    let lines = sink.bytes.split(separator: 0x0A)
    precondition(lines.count == count, "row count \(count) but \(lines.count) lines")
    return try lines.map { line in
        (try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]) ?? [:]
    }
}
