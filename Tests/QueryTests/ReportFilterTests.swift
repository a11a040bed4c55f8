import Archiver
import Foundation
@testable import Query
import Testing

/// Each report declares the filters it applies; its SQL must bind exactly those, plus `:limit` and
/// `:direction` in every variant, so no filter is accepted and then dropped.
@Suite struct ReportFilterTests {
    static let filterNames = ReportFilter.allCases.map(\.rawValue)

    @Test("every built-in report binds exactly its declared filters, :limit and :direction",
          arguments: ReportCatalog.builtInFiles.map(\.name))
    func declaredFiltersAreBound(name: String) throws {
        let report = try ReportCatalog.find(name, in: try ReportCatalog.builtIn())
        let directory = try TemporaryDirectory()
        let session = try ReadSession(path: try makeFixtureArchive(in: directory))
        var variants = [report.sql]
        if let summary = report.summary { variants.append(summary.sql) }
        for sql in variants {
            let statement = try session.prepare(sql)
            let bound = Set(Self.filterNames.filter { (try? statement.parameterIndex(":" + $0)) != nil })
            #expect(bound == Set(report.filters.map(\.rawValue)), "\(report.name): SQL binds \(bound.sorted())")
            for required in [":limit", ":direction"] {
                #expect((try? statement.parameterIndex(required)) != nil, "\(report.name) does not bind \(required)")
            }
        }
    }

    @Test("a filter a report does not declare is refused in one line naming it; --all refuses it before writing")
    func undeclaredFilterIsRefused() throws {
        let oom = try ReportCatalog.find("oom", in: try ReportCatalog.builtIn())
        let error = #expect(throws: QueryInputError.self) { try ReportQuery(report: oom, filter: EventFilter(user: "alice")) }
        #expect(error?.message.contains("oom does not filter by --user") == true)
        #expect(throws: QueryInputError.self) {
            try ReportExport(reports: try ReportCatalog.builtIn(), filter: EventFilter(ip: "10.0.0.1"), toolVersion: "t",
                             archivePath: "a.db")
        }
    }

    @Test("an older user report without a filters line applies the filters its SQL binds")
    func undeclaredFiltersComeFromTheSQL() throws {
        let report = try Report(name: "mine", text: """
            -- title: Mine
            -- columns: n:integer
            SELECT count(*) FROM events WHERE (:since IS NULL OR creation_epoch >= :since) AND (:app IS NULL OR 1) LIMIT :limit
            """, origin: "test")
        #expect(report.filters == [.since, .app])
    }
}
