import Foundation
import Testing
@testable import CloudronSimulator

private let admin = ["Authorization": "Bearer sim-admin-token-0123456789abcdef"]

/// Rows of one event page: (id, creationTime).
private func eventRows(_ url: String, page: Int, perPage: Int) async throws -> [(id: String, time: String)] {
    let response = try await RawHTTP.get(url, "/api/v1/eventlog?page=\(page)&per_page=\(perPage)", headers: admin)
    try #require(response.status == 200)
    return try response.list("eventlogs").map { ($0["id"] as? String ?? "", $0["creationTime"] as? String ?? "") }
}

@Suite struct PagingTests {
    @Test func tiedRowsComeBackInAFreshOrderButTheSecondsNeverChange() async throws {
        try await withSimulator(SimulatorConfiguration(seed: 7, eventCount: 1500)) { sim, url in
            // Find a page of 50 holding a tie group of at least 3 rows.
            let truth = await sim.truth()
            var page = 0
            for candidate in 1...(truth.events.count / 50) {
                let times = truth.events[(candidate - 1) * 50..<candidate * 50].map(\.epochSeconds)
                if Dictionary(grouping: times, by: { $0 }).values.contains(where: { $0.count >= 3 }) { page = candidate; break }
            }
            try #require(page > 0)
            let first = try await eventRows(url, page: page, perPage: 50)
            var sawOtherOrder = false
            for _ in 0..<10 {
                let again = try await eventRows(url, page: page, perPage: 50)
                #expect(again.map(\.time) == first.map(\.time))
                if again.map(\.id) != first.map(\.id) { sawOtherOrder = true }
            }
            #expect(sawOtherOrder)
        }
    }

    @Test func aTieGroupAcrossAPageBoundaryCanLoseARow() async throws {
        try await withSimulator(SimulatorConfiguration(seed: 11, eventCount: 1500)) { sim, url in
            let events = await sim.truth().events
            // A group of >= 3 rows sharing one second; end page 1 right after its first row.
            guard let start = (0..<(events.count - 3)).first(where: {
                events[$0].epochSeconds == events[$0 + 2].epochSeconds && ($0 == 0 || events[$0 - 1].epochSeconds != events[$0].epochSeconds)
            }) else { Issue.record("no tie group of 3"); return }
            let group = Set(events.filter { $0.epochSeconds == events[start].epochSeconds }.map(\.id))
            let perPage = start + 1
            var sawLoss = false
            for _ in 0..<20 where !sawLoss {
                let seen = try await eventRows(url, page: 1, perPage: perPage).map(\.id)
                    + eventRows(url, page: 2, perPage: perPage).map(\.id)
                if !group.isSubset(of: Set(seen)) { sawLoss = true }
            }
            #expect(sawLoss, "offset paging over an unordered tie group must be able to miss a row")
        }
    }

    @Test func pagesFollowNewestFirstWithBoxDefaults() async throws {
        try await withSimulator(SimulatorConfiguration(seed: 3, eventCount: 200)) { sim, url in
            let truth = await sim.truth()
            let defaultPage = try await RawHTTP.get(url, "/api/v1/eventlog", headers: admin).list("eventlogs")
            #expect(defaultPage.count == 25)
            var all: [(id: String, time: String)] = []
            var page = 1
            while true {
                let rows = try await eventRows(url, page: page, perPage: 64)
                all += rows
                if rows.count < 64 { break }
                page += 1
            }
            #expect(all.count == 200)
            #expect(all.map(\.time) == truth.events.map(\.creationTime))
            #expect(all.map(\.time) == all.map(\.time).sorted(by: >))
            // No maximum page size: one page holds everything.
            #expect(try await eventRows(url, page: 1, perPage: 100_000).count == 200)
            #expect(try await eventRows(url, page: 99, perPage: 64).isEmpty)
        }
    }

    @Test func badPagingParametersGetBoxs400() async throws {
        try await withSimulator(SimulatorConfiguration(eventCount: 50)) { _, url in
            for query in ["page=0", "page=-1", "page=abc", "page="] {
                let response = try await RawHTTP.get(url, "/api/v1/eventlog?\(query)", headers: admin)
                #expect(response.status == 400, "\(query)")
                #expect(response.text == #"{"status":"Bad Request","message":"page query param has to be a postive number"}"#)
            }
            for query in ["per_page=0", "per_page=-5", "per_page=x"] {
                let response = try await RawHTTP.get(url, "/api/v1/eventlog?\(query)", headers: admin)
                #expect(response.status == 400, "\(query)")
                #expect(response.text == #"{"status":"Bad Request","message":"per_page query param has to be a postive number"}"#)
            }
            for path in ["/api/v1/notifications?per_page=0", "/api/v1/tasks?page=0"] {
                #expect(try await RawHTTP.get(url, path, headers: admin).status == 400)
            }
            // parseInt semantics: a numeric prefix is accepted, as on box.
            #expect(try await RawHTTP.get(url, "/api/v1/eventlog?per_page=2abc", headers: admin).list("eventlogs").count == 2)
        }
    }

    @Test func maxPerPageClampsSilently() async throws {
        try await withSimulator(SimulatorConfiguration(eventCount: 100, maxPerPage: 30)) { _, url in
            let rows = try await eventRows(url, page: 1, perPage: 50)
            #expect(rows.count == 30)
        }
    }

    @Test func actionsAndSearchFilterAsBoxDoes() async throws {
        try await withSimulator(SimulatorConfiguration(seed: 5, eventCount: 2000)) { sim, url in
            let rows = try await RawHTTP.get(url, "/api/v1/eventlog?per_page=5000&actions=app.up,backup.fin", headers: admin)
                .list("eventlogs")
            let actions = Set(rows.compactMap { $0["action"] as? String })
            #expect(actions.contains("app.update.finish"), "app.up is a substring of app.update.finish")
            #expect(actions.contains("backup.finish"))
            #expect(actions.allSatisfy { $0.contains("app.up") || $0.contains("backup.fin") })
            let truth = await sim.truth()
            let expected = truth.events.filter { record in
                let object = try? JSONSerialization.jsonObject(with: Data(record.bytes)) as? [String: Any]
                let action = object?["action"] as? String ?? ""
                return action.contains("app.up") || action.contains("backup.fin")
            }
            #expect(rows.count == expected.count)

            // search: case-sensitive (box's table has a binary collation) over source and data only.
            let found = try await RawHTTP.get(url, "/api/v1/eventlog?per_page=5000&search=%C3%98yvind", headers: admin)
                .list("eventlogs")
            #expect(!found.isEmpty)
            #expect(found.allSatisfy { (try? JSONSerialization.data(withJSONObject: $0)).map { String(decoding: $0, as: UTF8.self).contains("Øyvind") } ?? false })
            let otherCase = try await RawHTTP.get(url, "/api/v1/eventlog?per_page=5000&search=%C3%98YVIND", headers: admin)
                .list("eventlogs")
            #expect(otherCase.isEmpty, "search is case-sensitive")
            // `_` and `%` in the term are LIKE wildcards: "_yvind" matches "Øyvind" (one character, two bytes).
            let wildcard = try await RawHTTP.get(url, "/api/v1/eventlog?per_page=5000&search=_yvind%20%C3%98de", headers: admin)
                .list("eventlogs")
            #expect(wildcard.count == found.filter { (try? JSONSerialization.data(withJSONObject: $0)).map { String(decoding: $0, as: UTF8.self).contains("Øyvind Øde") } ?? false }.count && !wildcard.isEmpty)
            let byAction = try await RawHTTP.get(url, "/api/v1/eventlog?per_page=5000&search=user.login", headers: admin)
                .list("eventlogs")
            #expect(byAction.isEmpty, "the action column is not searched")
        }
    }

    @Test func tasksAreOrderedStablyAndNotificationsFilterByAcknowledged() async throws {
        try await withSimulator(SimulatorConfiguration(seed: 9, eventCount: 3000)) { sim, url in
            let truth = await sim.truth()
            let tasks = try await RawHTTP.get(url, "/api/v1/tasks?per_page=1000", headers: admin).list("tasks")
            #expect(tasks.compactMap { $0["id"] as? String } == truth.tasks.map(\.id))
            // creationTime DESC, then id DESC as a number: stable, and ties do occur.
            let keys = tasks.map { ($0["creationTime"] as? String ?? "", Int($0["id"] as? String ?? "") ?? -1) }
            #expect(zip(keys, keys.dropFirst()).allSatisfy { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 > $1.1) })
            #expect(zip(keys, keys.dropFirst()).contains { $0.0 == $1.0 })
            let again = try await RawHTTP.get(url, "/api/v1/tasks?per_page=1000", headers: admin).list("tasks")
            #expect(again.compactMap { $0["id"] as? String } == tasks.compactMap { $0["id"] as? String })
            let backups = try await RawHTTP.get(url, "/api/v1/tasks?per_page=1000&type=backup", headers: admin).list("tasks")
            #expect(!backups.isEmpty && backups.allSatisfy { $0["type"] as? String == "backup" })

            let unacked = try await RawHTTP.get(url, "/api/v1/notifications?per_page=1000&acknowledged=false", headers: admin)
                .list("notifications")
            #expect(!unacked.isEmpty && unacked.allSatisfy { $0["acknowledged"] as? Bool == false })
            let all = try await RawHTTP.get(url, "/api/v1/notifications?per_page=1000", headers: admin).list("notifications")
            #expect(all.count == truth.notifications.count)
            #expect(try await RawHTTP.get(url, "/api/v1/notifications?acknowledged=yes", headers: admin).status == 400)
        }
    }
}
