import Foundation
import Testing
@testable import CloudronSimulator

private let adminToken = "sim-admin-token-0123456789abcdef"
private let readonlyToken = "sim-readonly-token-fedcba9876543210"
private let admin = ["Authorization": "Bearer \(adminToken)"]

@Suite struct AuthTests {
    @Test func bothTokenStylesWorkAndBadTokensGet401() async throws {
        try await withSimulator(SimulatorConfiguration(eventCount: 30)) { _, url in
            #expect(try await RawHTTP.get(url, "/api/v1/eventlog", headers: admin).status == 200)
            #expect(try await RawHTTP.get(url, "/api/v1/eventlog?access_token=\(adminToken)").status == 200)
            #expect(try await RawHTTP.get(url, "/api/v1/eventlog?access_token=\(readonlyToken)").status == 200)
            for headers in [[:], ["Authorization": "Bearer wrong"], ["Authorization": adminToken]] {
                let response = try await RawHTTP.get(url, "/api/v1/eventlog", headers: headers)
                #expect(response.status == 401)
                #expect(response.text == "Unauthorized")
            }
            #expect(try await RawHTTP.get(url, "/api/v1/eventlog?access_token=nope").status == 401)
            // Status needs no token and does not check one.
            let status = try await RawHTTP.get(url, "/api/v1/cloudron/status", headers: ["Authorization": "Bearer wrong"])
            #expect(status.status == 200 && status.text == #"{"version":"9.0.15"}"#)
        }
    }

    @Test func v9AnswersA401WithJSON() async throws {
        try await withSimulator(SimulatorConfiguration(eventCount: 10, jsonUnauthorizedBody: true)) { _, url in
            let response = try await RawHTTP.get(url, "/api/v1/tasks")
            #expect(response.status == 401)
            #expect(response.text == #"{"status":"Unauthorized","message":"No such token"}"#)
        }
    }

    @Test func readonlyTokenCannotPostButAdminCanAcknowledge() async throws {
        try await withSimulator(SimulatorConfiguration(eventCount: 500)) { sim, url in
            let id = try #require(await sim.truth().notifications.first?.id)
            let body = Array(#"{"acknowledged":true}"#.utf8)
            let refused = try await RawHTTP.request(url, method: "POST", target: "/api/v1/notifications/\(id)",
                                                    headers: ["Authorization": "Bearer \(readonlyToken)"], body: body)
            #expect(refused.status == 403)
            let error = try refused.json()
            #expect(error["status"] as? String == "Forbidden")
            #expect(error["message"] is String)

            let before = await sim.truth().notificationVersions[id]?.count ?? 0
            let unack = Array(#"{"acknowledged":false}"#.utf8)
            let accepted = try await RawHTTP.request(url, method: "POST", target: "/api/v1/notifications/\(id)",
                                                     headers: admin, body: unack)
            #expect(accepted.status == 204)
            let again = try await RawHTTP.request(url, method: "POST", target: "/api/v1/notifications/\(id)",
                                                  headers: admin, body: body)
            #expect(again.status == 204)
            let after = await sim.truth()
            #expect((after.notificationVersions[id]?.count ?? 0) >= before + 1)
            #expect(after.notifications.first { $0.id == id }?.json.contains(#""acknowledged":true"#) == true)
        }
    }
}

@Suite struct EndpointTests {
    @Test func singleObjectsUnknownIdsAndProfile() async throws {
        try await withSimulator(SimulatorConfiguration(eventCount: 300)) { sim, url in
            let truth = await sim.truth()
            let event = try #require(truth.events.last)
            let single = try await RawHTTP.get(url, "/api/v1/eventlog/\(event.id)", headers: admin)
            #expect(single.status == 200 && single.body == event.bytes)
            let note = try #require(truth.notifications.first)
            #expect(try await RawHTTP.get(url, "/api/v1/notifications/\(note.id)", headers: admin).body == note.bytes)
            let task = try #require(truth.tasks.last)
            #expect(try await RawHTTP.get(url, "/api/v1/tasks/\(task.id)", headers: admin).body == task.bytes)

            for path in ["/api/v1/eventlog/no-such-id", "/api/v1/tasks/999999", "/api/v1/notifications/0", "/api/v1/nothing",
                         "/api/v1/cloudron/eventlog"] {
                let missing = try await RawHTTP.get(url, path, headers: admin)
                #expect(missing.status == 404, "\(path)")
                #expect(try missing.json()["status"] as? String == "Not Found")
            }
            let profile = try await RawHTTP.get(url, "/api/v1/profile", headers: admin).json()
            #expect(profile["username"] as? String == "admin")
            #expect(await sim.requestCounts()["/api/v1/eventlog/{id}"] == 2)
        }
    }

    @Test func taskLogsAreNDJSONOrShortAndRotateAfterSevenDays() async throws {
        try await withSimulator(SimulatorConfiguration(seed: 2, eventCount: 3000)) { sim, url in
            let truth = await sim.truth()
            let recent = try #require(truth.tasks.first { truth.now - $0.epochSeconds < 6 * 86_400 })
            let logs = try await RawHTTP.get(url, "/api/v1/tasks/\(recent.id)/logs?lines=3&format=json", headers: admin)
            #expect(logs.status == 200)
            #expect(logs.headers["content-type"] == "application/x-logs")
            let lines = logs.text.split(separator: "\n")
            #expect(lines.count == 3)
            for line in lines {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                #expect(object["source"] as? String == recent.id)
                // A continuation line (the message before it held a newline) has timestamp 0, as on box.
                #expect((object["realtimeTimestamp"] as? NSNumber).map { $0.int64Value == 0 || $0.int64Value / 1_000_000 >= recent.epochSeconds } == true)
                #expect(object["message"] is String)
            }
            let short = try await RawHTTP.get(url, "/api/v1/tasks/\(recent.id)/logs?lines=2&format=short", headers: admin)
            #expect(short.text.hasPrefix("20"))
            let old = try #require(truth.tasks.first { truth.now - $0.epochSeconds > 8 * 86_400 })
            let rotated = try await RawHTTP.get(url, "/api/v1/tasks/\(old.id)/logs?format=json", headers: admin)
            #expect(rotated.status == 200 && rotated.body.isEmpty)
        }
    }

    @Test func legacy2019ModeUsesOldPathsWrappingAndTaskErrors() async throws {
        let configuration = SimulatorConfiguration(seed: 4, eventCount: 2000, legacy2019: true)
        try await withSimulator(configuration) { sim, url in
            #expect(try await RawHTTP.get(url, "/api/v1/eventlog", headers: admin).status == 404)
            let page = try await RawHTTP.get(url, "/api/v1/cloudron/eventlog?per_page=5", headers: admin)
            #expect(try page.list("eventlogs").count == 5)
            let truth = await sim.truth()
            let event = try #require(truth.events.first)
            let wrapped = try await RawHTTP.get(url, "/api/v1/cloudron/eventlog/\(event.id)", headers: admin)
            #expect(wrapped.text == "{\"event\":\(event.json)}")
            let note = try #require(truth.notifications.first)
            let wrappedNote = try await RawHTTP.get(url, "/api/v1/notifications/\(note.id)", headers: admin)
            #expect(wrappedNote.text == "{\"notification\":\(note.json)}")
            let tasks = try await RawHTTP.get(url, "/api/v1/tasks?per_page=500", headers: admin).list("tasks")
            #expect(tasks.allSatisfy { $0.keys.contains("errorMessage") && $0["error"] == nil && $0["success"] == nil && $0["pending"] == nil })
            #expect(tasks.contains { $0["errorMessage"] is String })
        }
    }

    @Test func dataIsDeterministicRichAndEscapingHostile() async throws {
        let first = SimulatedCloudron(configuration: SimulatorConfiguration(seed: 42, eventCount: 5000))
        let second = SimulatedCloudron(configuration: SimulatorConfiguration(seed: 42, eventCount: 5000))
        let truth = await first.truth()
        let other = await second.truth()
        #expect(truth.events.map(\.id) == other.events.map(\.id))
        #expect(truth.events.count == 5000)

        var actions: [String: Int] = [:]
        var maxSize = 0
        for event in truth.events {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(event.bytes)) as? [String: Any])
            actions[object["action"] as? String ?? "", default: 0] += 1
            maxSize = max(maxSize, event.bytes.count)
            #expect(object["source"] is [String: Any] && object["data"] is [String: Any])
        }
        #expect(Set(actions.keys).isSuperset(of: allActions))
        let loginShare = Double(actions["user.login"] ?? 0) / 5000
        #expect(loginShare > 0.5 && loginShare < 0.7)
        #expect(maxSize > 4000, "app rows embed the whole app object")
        let all = truth.events.map(\.json).joined()
        for needle in ["Zoë", "李雷", "🚀", #"\""#, #"\n"#, "\"=HYPERLINK", "Smith, John"] {
            #expect(all.contains(needle), "\(needle)")
        }
        // Bursts: many seconds hold several events.
        let perSecond = Dictionary(grouping: truth.events, by: \.epochSeconds)
        #expect(perSecond.values.filter { $0.count >= 3 }.count > 50)
        // Inside retention, newest first.
        #expect(truth.events.allSatisfy { truth.now - $0.epochSeconds < 9 * 86_400 + 60 })

        #expect(truth.notifications.count > 40 && truth.notifications.count < 250)
        #expect(truth.notifications.contains { $0.json.contains(#""eventId":null"#) })
        #expect(truth.notifications.contains { $0.json.contains("Reboot Required") })
        #expect(truth.tasks.count == 50)
        for code in ["crashed", "stopped", "timeout"] where !truth.tasks.contains(where: { $0.json.contains(#""code":"\#(code)""#) }) {
            Issue.record("no task failed with \(code)")
        }
        #expect(truth.tasks.contains { $0.json.contains(#""active":true"#) })
        #expect(truth.tasks.contains { $0.json.contains(#""active":false"#) && $0.json.contains(#""success":false"#) && $0.json.contains(#""error":null"#) })
    }
}
