import Foundation
import Testing
@testable import Archiver

@Suite struct DatabaseTests {
    @Test func bindsByIndexAndNameAndReadsTypedColumns() throws {
        let folder = try TemporaryFolder()
        let db = try Database(path: folder.path("t.db"), mode: .readWrite)
        try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
        let insert = try db.prepare("INSERT INTO t VALUES (:i, :r, :s, :b, :n)")
        try insert.bind(Int64.max, named: ":i")
        try insert.bind(.real(2.5), named: ":r")
        try insert.bind("zürich", named: ":s")
        try insert.bindBlob([0, 1, 255], named: ":b")
        try insert.bind(.null, named: ":n")
        try insert.run()
        // Reused after reset, by index this time; empty text and blob stay non-NULL.
        try insert.bind([.integer(-1), .real(0), .textBytes([]), .blob([]), .text("x")])
        try insert.run()
        #expect(throws: SQLiteError.self) { try insert.bind(.null, named: ":missing") }

        var rows: [String] = []
        try db.forEachRow("SELECT i, r, s, b, n, typeof(s), typeof(b) FROM t ORDER BY rowid") { row in
            rows.append("\(row.int64(at: 0))|\(row.double(at: 1))|\(row.string(at: 2))|\(row.bytes(at: 3))|\(row.optionalString(at: 4) ?? "nil")|\(row.string(at: 5))|\(row.string(at: 6))")
        }
        #expect(rows == ["\(Int64.max)|2.5|zürich|[0, 1, 255]|nil|text|blob", "-1|0.0||[]|x|text|blob"])
    }

    @Test func transactionsRollBackOnThrowAndNestAsSavepoints() throws {
        struct Failure: Error {}
        let folder = try TemporaryFolder()
        let db = try Database(path: folder.path("t.db"), mode: .readWrite)
        try db.execute("CREATE TABLE t (v INTEGER)")
        #expect(throws: Failure.self) {
            try db.transaction { try db.run("INSERT INTO t VALUES (1)"); throw Failure() }
        }
        #expect(try db.scalarInt("SELECT count(*) FROM t") == 0)
        try db.transaction {
            try db.run("INSERT INTO t VALUES (2)")
            #expect(throws: Failure.self) {
                try db.transaction { try db.run("INSERT INTO t VALUES (3)"); throw Failure() }
            }
            try db.transaction { try db.run("INSERT INTO t VALUES (4)") }
        }
        #expect(db.isInTransaction == false)
        var values: [Int64] = []
        try db.forEachRow("SELECT v FROM t ORDER BY v") { values.append($0.int64(at: 0)) }
        #expect(values == [2, 4])
    }

    @Test func lockHeldByAnotherConnectionIsBusy() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("t.db")
        let writer = try Database(path: path, mode: .readWrite)
        let other = try Database(path: path, mode: .readWrite)
        other.setBusyTimeout(milliseconds: 20)
        try writer.execute("CREATE TABLE t (v INTEGER)")
        try writer.transaction {
            try writer.run("INSERT INTO t VALUES (1)")
            let error = #expect(throws: SQLiteError.self) { try other.transaction { try other.run("INSERT INTO t VALUES (2)") } }
            #expect(error?.kind == .busy)
            #expect(error?.code == 5)
            #expect(error?.description.contains("database is locked") == true)
        }
    }

    @Test func constraintViolationsAreClassified() throws {
        let folder = try TemporaryFolder()
        let db = try Database(path: folder.path("t.db"), mode: .readWrite)
        try db.execute("CREATE TABLE t (v INTEGER UNIQUE)")
        try db.run("INSERT INTO t VALUES (1)")
        let error = #expect(throws: SQLiteError.self) { try db.run("INSERT INTO t VALUES (1)") }
        #expect(error?.kind == .constraint)
        #expect(error?.context == "INSERT INTO t VALUES (1)")
    }

    /// Datasette finds a table's FTS index by this query (datasette/utils detect_fts_sql).
    @Test func datasetteSeesEachFullTextIndexAsItsTables() throws {
        let folder = try TemporaryFolder()
        let archive = try Archive(path: folder.path("a.db"))
        for table in ["events", "notifications", "tasks"] {
            let found = try archive.database.scalarString("""
                SELECT name FROM sqlite_master WHERE rootpage = 0
                AND (sql LIKE '%VIRTUAL TABLE%USING FTS%content="\(table)"%' OR sql LIKE '%VIRTUAL TABLE%USING FTS%content=[\(table)]%')
                """)
            #expect(found == "\(table)_fts")
        }
    }
}
