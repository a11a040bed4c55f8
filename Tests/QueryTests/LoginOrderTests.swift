@testable import Archiver
import Foundation
@testable import Query
import Testing
import TestSupport

/// The logins report walks the logins index of schema 0013 in its output order, forward or backward, instead
/// of sorting the window's rows (`-- direction: keyword`).
@Suite struct LoginOrderTests {
    static let t0 = fixtureDay

    static func login(_ id: String, _ action: String, _ offset: Int64, user: String) -> FixtureEvent {
        FixtureEvent(id: id, action: action, epoch: t0 + offset,
                     source: "{\"ip\":\"10.0.0.\(offset % 200)\",\"username\":\"\(user)\",\"userId\":\"uid-\(user)\"}",
                     data: "{\"userId\":\"uid-\(user)\"}")
    }

    /// Logins in no time order, four of them at one second (their order is the versions' order), and events of
    /// other actions between them.
    static let events = [
        login("late", "user.login", 900, user: "alice"),
        login("tie-1", "app.login", 500, user: "bob"),
        login("tie-2", "user.logout", 500, user: "alice"),
        FixtureEvent(id: "other", action: "app.restart", epoch: t0 + 500, source: "{\"username\":\"admin\"}", data: "{\"appId\":\"a\"}"),
        login("tie-3", "user.login.ghost", 500, user: "carol"),
        login("tie-4", "user.login", 500, user: "dave"),
        login("early", "user.login", 100, user: "bob"),
    ]

    /// An archive of the schema before 0013, with `events`: ingested at the current schema (ingest stores the
    /// extracted columns of the current one), then brought back past 0015 and 0013.
    static func makeArchiveOfPreviousSchema(_ directory: TemporaryDirectory) throws -> String {
        let path = directory.file("logins.db")
        let loginOrder = try #require(ArchiveSchema.migrations.first { $0.fileName.hasSuffix("_login_order.sql") })
        func sql(_ suffix: String) throws -> String {
            String(decoding: try #require(ArchiveSchema.migrations.first { $0.fileName.hasSuffix(suffix) }).sql, as: UTF8.self)
        }
        do {
            let archive = try Archive(path: path, mode: .readWrite)
            let instance = try archive.instanceID(name: "main", baseURL: "https://my.example.com")
            let run = try archive.beginRun(instance: instance, streams: ObjectKind.allCases.map(\.streamName), startedAt: t0 + 5000)
            _ = try archive.ingest(events: events.map(\.event), instance: instance, run: run, seenAt: t0 + 5000)
        }
        let database = try Database(path: path, mode: .readWrite)
        try database.execute(SchemaDowngrade.beforeReportCoveringIndexes(userRoleLookupsSQL: try sql("_user_role_lookups.sql"),
                                                                          reportLookupsSQL: try sql("_report_lookups.sql")))
        try database.execute("""
            DROP INDEX event_fields_logins;
            DELETE FROM schema_migrations WHERE version >= \(loginOrder.version); PRAGMA user_version = \(loginOrder.version - 1);
            """)
        #expect(try database.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'event_fields_logins'") == 0)
        return path
    }

    @Test("an archive of schema 12 gains the logins index; the report walks it both ways, with no temporary B-tree, ties in version order")
    func loginsWalkTheirIndexInEitherOrder() throws {
        let directory = try TemporaryDirectory()
        let path = try Self.makeArchiveOfPreviousSchema(directory)
        let session = try openReadOnly(path)
        let database = try Database(path: path, mode: .readOnly)
        #expect(try database.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'event_fields_logins'") == 1)
        // The version ids of the tied logins, in the order they were ingested: the order ties are listed in.
        var versions: [String: Int64] = [:]
        try database.forEachRow("SELECT e.api_id, f.version_id FROM event_fields f JOIN events e ON e.id = f.event_id") { row in
            versions[row.string(at: 0)] = row.int64(at: 1)
        }
        let ties = ["tie-1", "tie-2", "tie-3", "tie-4"].sorted { (versions[$0] ?? 0) < (versions[$1] ?? 0) }
        let oldestFirst = ["early"] + ties + ["late"]
        let report = try ReportCatalog.find("logins", in: try ReportCatalog.builtIn())
        for order in [ResultOrder.oldest, .newest] {
            let rows = try ndjsonObjects { try ReportQuery(report: report, filter: EventFilter(order: order)).run(on: session, into: &$0) }
            #expect(rows.map { $0["eventId"] as? String ?? "" } == (order == .oldest ? oldestFirst : oldestFirst.reversed()), "\(order)")
            let window = try ndjsonObjects {
                try ReportQuery(report: report, filter: EventFilter(since: Self.t0 + 500, until: Self.t0 + 900, order: order)).run(on: session, into: &$0)
            }
            #expect(window.map { $0["eventId"] as? String ?? "" } == (order == .oldest ? ties : ties.reversed()), "\(order)")
            let statement = try #require(report.statement(summary: false, order: order))
            #expect(!statement.contains(":direction"))
            var plan: [String] = []
            try database.forEachRow("EXPLAIN QUERY PLAN " + statement) { plan.append($0.string(at: 3)) }
            #expect(plan.contains { $0.contains("USING INDEX event_fields_logins") }, "\(plan)")
            #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(order): \(plan)")
        }
    }

    @Test("the summary reads the window from the logins index alone, and looks up earlier logins by IP")
    func summaryReadsTheWindowFromTheLoginsIndex() throws {
        let directory = try TemporaryDirectory()
        let path = try Self.makeArchiveOfPreviousSchema(directory)
        _ = try openReadOnly(path)
        let report = try ReportCatalog.find("logins", in: try ReportCatalog.builtIn())
        let statement = try #require(report.statement(summary: true, order: .newest))
        var plan: [String] = []
        try Database(path: path, mode: .readOnly).forEachRow("EXPLAIN QUERY PLAN " + statement) { plan.append($0.string(at: 3)) }
        #expect(plan.contains { $0.contains("COVERING INDEX event_fields_logins") }, "\(plan)")
        #expect(plan.contains { $0.contains("INDEX event_fields_login_ips (ip=? AND instance_id=? AND creation_epoch<?)") }, "\(plan)")
        #expect(!plan.contains { $0.contains("event_fields_by_action") }, "\(plan)")
    }

    @Test func anUnknownDirectionSpellingIsRefused() {
        #expect(throws: QueryInputError.self) {
            try Report(name: "x", text: "-- title: X\n-- columns: a\n-- direction: sideways\nSELECT 1 AS a", origin: "test")
        }
    }
}
