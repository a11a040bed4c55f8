import CSQLite
import Foundation
import TestSupport
import Testing

/// A temporary directory removed when the test ends.
final class TemporaryDirectory {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        path = base + "/query-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func entries() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }
}

/// Runs `python3 -c script args…` and returns its standard output; the test fails on a non-zero exit.
/// Python is the independent implementation the output formats are checked against (csv, unicodedata).
func runPython(_ script: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let outputData = drain(output)
    let errorData = drain(errors)
    process.waitUntilExit()
    let errorText = String(decoding: errorData, as: UTF8.self)
    try #require(process.terminationStatus == 0, "python failed: \(errorText)")
    return String(decoding: outputData, as: UTF8.self)
}

/// A minimal SQLite connection for tests that need SQLite's own behaviour (GLOB, FTS5 MATCH).
final class TestSQLite {
    private var handle: OpaquePointer?

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init() throws {
        guard sqlite3_open(":memory:", &handle) == SQLITE_OK else {
            throw Failure(description: "cannot open in-memory database")
        }
    }

    deinit {
        sqlite3_close(handle)
    }

    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(handle, sql, nil, nil, &message) != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw Failure(description: text)
        }
    }

    /// The first column of every row, as text (NULL as nil), with `bindings` bound as text.
    func column(_ sql: String, _ bindings: [String] = []) throws -> [String?] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK else {
            throw Failure(description: String(cString: sqlite3_errmsg(handle)))
        }
        defer { sqlite3_finalize(statement) }
        for (index, value) in bindings.enumerated() {
            let bytes = Array(value.utf8)
            sqlite3_bind_text(statement, Int32(index + 1), bytes, Int32(bytes.count), csqlite_transient())
        }
        var values: [String?] = []
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else {
                throw Failure(description: String(cString: sqlite3_errmsg(handle)))
            }
            values.append(sqlite3_column_text(statement, 0).map { String(cString: $0) })
        }
        return values
    }
}
