import Archiver
import Foundation
@testable import Query
import Testing

/// The read API: one snapshot per session, and a query that fails writes nothing.
@Suite struct ReadSessionTests {
    @Test("a session reads one snapshot: a sync committing meanwhile shows only in the next session")
    func oneSnapshotPerSession() throws {
        let directory = try TemporaryDirectory()
        let path = try makeFixtureArchive(in: directory)
        let session = try ReadSession(path: path)
        let before = try ndjsonObjects { try EventQuery().run(on: session, into: &$0) }.count
        do {
            let archive = try Archive(path: path)
            let main = try archive.instanceID(name: "main", baseURL: "https://my.example.com")
            let run = try archive.beginRun(instance: main, streams: ObjectKind.allCases.map(\.streamName), startedAt: fixtureDay + 99_000)
            let late = FixtureEvent(id: "e99-late", action: "user.logout", epoch: fixtureDay + 98_000,
                                    source: "{\"username\":\"alice\"}", data: "{}")
            _ = try archive.ingest(events: [late.event], instance: main, run: run, seenAt: fixtureDay + 99_000)
        }
        #expect(try ndjsonObjects { try EventQuery().run(on: session, into: &$0) }.count == before)
        let fresh = try ReadSession(path: path)
        #expect(try ndjsonObjects { try EventQuery().run(on: fresh, into: &$0) }.count == before + 1)
    }

    @Test("a report that fails on its first row writes no header, only the error")
    func failingReportWritesNothing() throws {
        let directory = try TemporaryDirectory()
        let session = try ReadSession(path: try makeFixtureArchive(in: directory))
        // `action` is not JSON: SQLite fails while stepping to the first row, after preparing fine.
        let report = try Report(name: "broken", text: """
            -- title: Broken
            -- columns: value
            SELECT json_extract(action, '$.x') FROM events
            """, origin: "test")
        let sink = OutputSink()
        var writer = CSVWriter(sink: sink)
        #expect(throws: SQLiteError.self) { try ReportQuery(report: report).run(on: session, into: &writer) }
        #expect(sink.bytes.isEmpty, "wrote: \(String(decoding: sink.bytes, as: UTF8.self))")
    }
}
