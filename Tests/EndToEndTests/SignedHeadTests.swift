import Foundation
import Testing
@testable import Archiver

/// Issue 14 part 2: signed chain heads and manifests, checked through the binary against tampering an
/// intruder with write access to the archive could do, and against openssl as an independent verifier.
@Suite("signed chain heads, witness and signed manifests")
struct SignedHeadTests {
    static let token = "e2e-signed-heads-token-5c1d"

    /// A signed archive synced three times from a server that gains events on every request, with its
    /// key pair and witness file.
    struct SignedArchive {
        let folder: ScratchFolder
        var db: String { folder.file("audit.db") }
        var key: String { folder.file("head.key") }
        var publicKey: String { folder.file("head.key.pub") }
        var witness: String { folder.file("heads.log") }

        static func make() async throws -> SignedArchive {
            let archive = SignedArchive(folder: try ScratchFolder())
            let simulator = try await FakeCloudronProcess(["--seed", "14", "--events", "150", "--readonly-token", token,
                                                           "--new-events-per-request", "3"])
            let generated = try await Command(["key", "generate", "--out", archive.key]).run()
            #expect(generated.status == 0, "\(generated.stderr)")
            for _ in 0..<3 {
                // The event log only: each run's newest records are then events (the tampering below relies on it).
                let sync = try await Command(["sync", "--url", simulator.url, "--db", archive.db, "--quiet", "--streams", "eventlog",
                                              "--sign-key", archive.key, "--witness", archive.witness],
                                             environment: ["CLOUDRON_TOKEN": token]).run()
                #expect(sync.status == 0, "\(sync.stderr)")
            }
            await simulator.stop()
            return archive
        }

        /// A copy of the archive to tamper with (the witness and keys stay shared).
        func copy(_ name: String) throws -> String {
            let path = folder.file(name)
            try FileManager.default.copyItem(atPath: db, toPath: path)
            return path
        }

        func verify(_ db: String, publicKey: Bool = true, witness: Bool = true) async throws -> CommandResult {
            var arguments = ["verify", "--db", db]
            if publicKey { arguments += ["--public-key", self.publicKey] }
            if witness { arguments += ["--witness", self.witness] }
            return try await Command(arguments).run()
        }
    }

    /// openssl, not cloudron-audit, checks a signature: the formats are the standard ones.
    static func opensslVerifies(message: Data, signature: Data, publicKey: String, in folder: ScratchFolder) async throws -> Bool {
        let messagePath = folder.file("openssl-message-\(UUID().uuidString)"), signaturePath = messagePath + ".sig"
        try message.write(to: URL(fileURLWithPath: messagePath))
        try signature.write(to: URL(fileURLWithPath: signaturePath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["pkeyutl", "-verify", "-pubin", "-inkey", publicKey, "-rawin", "-in", messagePath,
                             "-sigfile", signaturePath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try await ChildProcess.run(process)
        return process.terminationStatus == 0
    }

    static func witnessLines(_ path: String) throws -> [(statement: String, signature: Data)] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String] ?? [:]
            guard let statement = object["statement"], let signature = object["signature"].flatMap({ Data(base64Encoded: $0) }) else {
                throw TestFailure("witness line is not {statement, signature}: \(line)")
            }
            return (statement, signature)
        }
    }

    @Test("key pair: mode 600 and 644, openssl derives the same public key; witness lines verify with openssl; untouched archive passes")
    func untouchedArchivePasses() async throws {
        let archive = try await SignedArchive.make()
        defer { archive.folder.remove() }
        #expect(FileSafetyTests.mode(archive.key) == 0o600)
        #expect(FileSafetyTests.mode(archive.publicKey) == 0o644)
        let derived = Process()
        derived.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        derived.arguments = ["pkey", "-in", archive.key, "-pubout", "-out", archive.folder.file("derived.pub")]
        try await ChildProcess.run(derived)
        #expect(derived.terminationStatus == 0)
        #expect(try String(contentsOfFile: archive.folder.file("derived.pub"), encoding: .utf8)
                == String(contentsOfFile: archive.publicKey, encoding: .utf8))

        let lines = try Self.witnessLines(archive.witness)
        #expect(lines.count == 3)
        let database = try Database(path: archive.db, mode: .readOnly)
        for (index, line) in lines.enumerated() {
            #expect(try await Self.opensslVerifies(message: Data(line.statement.utf8), signature: line.signature,
                                                   publicKey: archive.publicKey, in: archive.folder))
            // The statement names the run and the head its row recorded.
            let statement = try JSONSerialization.jsonObject(with: Data(line.statement.utf8)) as? [String: Any] ?? [:]
            #expect(statement["run"] as? Int == index + 1)
            let recorded = try database.withStatement("SELECT chain_length, hex(chain_head) FROM sync_runs WHERE id = ?") { row in
                try row.bind(Int64(index + 1), at: 1)
                return try row.step() ? (row.int64(at: 0), row.string(at: 1).lowercased()) : nil
            }
            #expect(recorded?.0 == (statement["length"] as? NSNumber)?.int64Value)
            #expect(recorded?.1 == statement["head"] as? String)
        }
        // A tampered statement does not verify with openssl either (the check above can fail).
        let forged = lines[0].statement.replacingOccurrences(of: "\"run\":1", with: "\"run\":9")
        #expect(try await !Self.opensslVerifies(message: Data(forged.utf8), signature: lines[0].signature,
                                                publicKey: archive.publicKey, in: archive.folder))

        let verified = try await archive.verify(archive.db)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("signed heads"))
    }

    /// Rewrites the newest archived version as an intruder who knows the chain format would: new raw JSON,
    /// its content hash, the search text and FTS index, its chain link recomputed, and every run's recorded
    /// head that pointed at it. Plain `verify` cannot tell.
    static func rewriteNewestVersion(_ path: String, alsoStripSignature: Bool) throws -> Int64 {
        let database = try Database(path: path, mode: .readWrite)
        let newest = try #require(try database.scalarInt("SELECT max(id) FROM event_versions"))
        var chainLength: Int64 = 0
        for table in ChainTable.allCases {
            chainLength = max(chainLength, try database.scalarInt("SELECT coalesce(max(id), 0) FROM \(table.name)") ?? 0)
        }
        guard newest == chainLength else { throw TestFailure("the newest chain record is not an event version") }
        var previous: [UInt8] = ChainHead.genesis.link
        for table in ChainTable.allCases {
            try database.forEachRow("SELECT chain_link FROM \(table.name) WHERE id = ?", [.integer(newest - 1)]) {
                previous = $0.bytes(at: 0)
            }
        }
        var record: VersionRecord?
        var indexed: [SQLValue] = []
        try database.forEachRow("""
            SELECT v.event_id, e.instance_id, e.api_id, v.version, v.raw, v.creation_epoch, v.first_seen_at, v.run_id
            FROM event_versions v JOIN events e ON e.id = v.event_id WHERE v.id = ?
            """, [.integer(newest)]) { row in
            var raw = row.string(at: 4)
            indexed = try ObjectKind.events.searchTexts(raw: Array(raw.utf8)).map(SQLValue.text)
            // What an intruder would hide: who did it and from where.
            raw = raw.replacingOccurrences(of: "\"source\":{", with: "\"source\":{\"forged\":\"yes\",")
            let bytes = Array(raw.utf8)
            record = VersionRecord(kind: .events, id: newest, parentID: row.int64(at: 0), instanceID: row.int64(at: 1),
                                   apiID: row.string(at: 2), version: row.int64(at: 3), raw: bytes,
                                   contentHash: ContentHash.of(bytes), creationEpoch: row.int64(at: 5),
                                   firstSeenAt: row.int64(at: 6), runID: row.int64(at: 7))
        }
        let forged = try #require(record)
        guard forged.raw.count > 0, String(decoding: forged.raw, as: UTF8.self).contains("\"forged\"") else {
            throw TestFailure("the newest event has no source to rewrite")
        }
        let link = ChainHead.link(previous: previous, record: forged.canonical)
        let columns = ObjectKind.events.currentStateColumns
        let values = try ObjectKind.events.objectType.init(json: forged.raw).currentStateValues
        try database.transaction {
            try database.run("UPDATE event_versions SET raw = ?, content_hash = ?, chain_link = ? WHERE id = ?",
                             [.textBytes(forged.raw), .blob(forged.contentHash), .blob(link), .integer(newest)])
            try database.run("UPDATE events SET \(columns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?",
                             values + [.integer(forged.parentID)])
            let searchable = ObjectKind.events.searchableColumns.joined(separator: ", ")
            let placeholders = String(repeating: ", ?", count: indexed.count)
            try database.run("INSERT INTO events_fts(events_fts, rowid, \(searchable)) VALUES ('delete', ?\(placeholders))",
                             [.integer(forged.parentID)] + indexed)
            try database.run("INSERT INTO events_fts(rowid, \(searchable)) VALUES (?\(placeholders))",
                             [.integer(forged.parentID)] + (try ObjectKind.events.searchTexts(raw: forged.raw)).map(SQLValue.text))
            try database.run("UPDATE sync_runs SET chain_head = ? WHERE chain_length = ?", [.blob(link), .integer(newest)])
            if alsoStripSignature {
                try database.run("UPDATE sync_runs SET head_statement = NULL, head_signature = NULL WHERE chain_length = ?",
                                 [.integer(newest)])
            }
        }
        return try #require(try database.scalarInt("SELECT min(id) FROM sync_runs WHERE chain_length = ?", [.integer(newest)]))
    }

    @Test("the newest version rewritten with its chain link and run heads recomputed: plain verify passes, signed verify fails naming the run")
    func rewrittenNewestVersionFails() async throws {
        let archive = try await SignedArchive.make()
        defer { archive.folder.remove() }
        for strip in [false, true] {
            let copy = try archive.copy("rewritten-\(strip).db")
            let run = try Self.rewriteNewestVersion(copy, alsoStripSignature: strip)
            let plain = try await archive.verify(copy, publicKey: false, witness: false)
            #expect(plain.status == 0, "the rewrite must be invisible without signatures: \(plain.stderr)")
            let signed = try await archive.verify(copy)
            expectFailure(signed, exit: 1, naming: ["run \(run)"])
            // The run's own signature catches it without a witness too, unless it was stripped (then the
            // unsigned run after signed ones does).
            let keyOnly = try await archive.verify(copy, witness: false)
            expectFailure(keyOnly, exit: 1, naming: ["run \(run)", strip ? "no signed head" : "differs from the head it signed"])
        }
    }

    /// Deletes the newest run wholesale, as an intruder would: its records, the events it added (and
    /// their FTS entries), its row, and the coverage it extended. Plain `verify` cannot tell.
    static func truncateNewestRun(_ path: String) throws -> Int64 {
        let database = try Database(path: path, mode: .readWrite)
        let run = try #require(try database.scalarInt("SELECT max(id) FROM sync_runs"))
        let changedOld = try database.scalarInt("SELECT count(*) FROM event_versions WHERE run_id = ? AND version > 1", [.integer(run)]) ?? 0
        let others = try database.scalarInt("""
            SELECT (SELECT count(*) FROM notification_versions WHERE run_id = ?1) + (SELECT count(*) FROM task_versions WHERE run_id = ?1)
                 + (SELECT count(*) FROM task_logs WHERE run_id = ?1)
            """, [.integer(run)]) ?? 0
        let added = try database.scalarInt("SELECT count(*) FROM event_versions WHERE run_id = ?", [.integer(run)]) ?? 0
        guard changedOld == 0, others == 0, added > 0 else {
            throw TestFailure("the newest run should only have added events (added \(added), changed \(changedOld), other \(others))")
        }
        try database.transaction {
            // Their FTS entries go with the text they were indexed with, recomputed from their raw JSON.
            var doomed: [(Int64, [UInt8])] = []
            try database.forEachRow("SELECT event_id, raw FROM event_versions WHERE run_id = ?", [.integer(run)]) {
                doomed.append(($0.int64(at: 0), $0.bytes(at: 1)))
            }
            let searchable = ObjectKind.events.searchableColumns
            for (event, raw) in doomed {
                try database.run("""
                    INSERT INTO events_fts(events_fts, rowid, \(searchable.joined(separator: ", ")))
                    VALUES ('delete', ?\(String(repeating: ", ?", count: searchable.count)))
                    """, [.integer(event)] + (try ObjectKind.events.searchTexts(raw: raw)).map(SQLValue.text))
            }
            try database.run("DELETE FROM event_fields WHERE version_id IN (SELECT id FROM event_versions WHERE run_id = ?)",
                             [.integer(run)])
            try database.run("DELETE FROM event_versions WHERE run_id = ?", [.integer(run)])
            try database.run("DELETE FROM events WHERE id IN (\(doomed.map { String($0.0) }.joined(separator: ", ")))")
            try database.run("UPDATE coverage SET run_id = ? WHERE run_id = ?", [.integer(run - 1), .integer(run)])
            try database.run("DELETE FROM sync_runs WHERE id = ?", [.integer(run)])
        }
        return run
    }

    @Test("the newest run truncated: plain and key-only verify pass, verify with the witness fails naming the run")
    func truncatedNewestRunFails() async throws {
        let archive = try await SignedArchive.make()
        defer { archive.folder.remove() }
        let copy = try archive.copy("truncated.db")
        let run = try Self.truncateNewestRun(copy)
        let plain = try await archive.verify(copy, publicKey: false, witness: false)
        #expect(plain.status == 0, "the truncation must be invisible without a witness: \(plain.stderr)")
        // Every run left is signed and reached: only a copy of the heads outside the archive can tell.
        let keyOnly = try await archive.verify(copy, witness: false)
        #expect(keyOnly.status == 0, "\(keyOnly.stderr)")
        let witnessed = try await archive.verify(copy)
        expectFailure(witnessed, exit: 1, naming: ["run \(run)", "witness line 3", "deleted"])
    }

    @Test("report --all --sign-key: manifest.json.sig verifies with openssl, and not once the manifest changes")
    func signedManifest() async throws {
        let archive = try await SignedArchive.make()
        defer { archive.folder.remove() }
        let bundle = archive.folder.file("bundle")
        let report = try await Command(["report", "--all", "--db", archive.db, "--output-dir", bundle, "--sign-key", archive.key]).run()
        #expect(report.status == 0, "\(report.stderr)")
        let manifest = try Data(contentsOf: URL(fileURLWithPath: bundle + "/manifest.json"))
        let signature = try Data(contentsOf: URL(fileURLWithPath: bundle + "/manifest.json.sig"))
        #expect(signature.count == 64)
        #expect(try await Self.opensslVerifies(message: manifest, signature: signature, publicKey: archive.publicKey, in: archive.folder))
        var altered = manifest
        altered[altered.count / 2] ^= 0x01
        #expect(try await !Self.opensslVerifies(message: altered, signature: signature, publicKey: archive.publicKey, in: archive.folder))
    }

    @Test("bad keys and witnesses: one line and the documented exit code")
    func badInput() async throws {
        let archive = try await SignedArchive.make()
        defer { archive.folder.remove() }
        // A readable private key is refused as a token file is (78), before any request.
        let readable = archive.folder.file("readable.key")
        try FileManager.default.copyItem(atPath: archive.key, toPath: readable)
        chmod(readable, 0o644)
        let closed = try CannedServer.closedPort()
        expectFailure(try await Command(["sync", "--url", "http://127.0.0.1:\(closed)", "--db", archive.db, "--sign-key", readable],
                                        environment: ["CLOUDRON_TOKEN": Self.token]).run(),
                      exit: 78, naming: ["readable.key", "chmod 600"])
        expectFailure(try await Command(["report", "--all", "--db", archive.db, "--output-dir", archive.folder.file("b2"),
                                         "--sign-key", readable]).run(), exit: 78, naming: ["chmod 600"])
        #expect(!FileManager.default.fileExists(atPath: archive.folder.file("b2")))
        // Not a key at all.
        let notKey = archive.folder.file("not.key")
        FileManager.default.createFile(atPath: notKey, contents: Data("hello\n".utf8), attributes: [.posixPermissions: 0o600])
        expectFailure(try await Command(["verify", "--db", archive.db, "--public-key", notKey]).run(), exit: 78, naming: ["not.key"])
        expectFailure(try await Command(["verify", "--db", archive.db, "--public-key", archive.folder.file("missing.pub")]).run(),
                      exit: 66, naming: ["missing.pub"])
        expectFailure(try await Command(["verify", "--db", archive.db, "--witness", archive.witness]).run(),
                      exit: 64, naming: ["--public-key"])
        expectFailure(try await Command(["key", "generate", "--out", archive.key]).run(), exit: 73, naming: ["head.key", "exists"])
        // Another key pair: every signature fails.
        let other = archive.folder.file("other.key")
        #expect(try await Command(["key", "generate", "--out", other]).run().status == 0)
        expectFailure(try await Command(["verify", "--db", archive.db, "--public-key", other + ".pub"]).run(),
                      exit: 1, naming: ["run 1", "does not verify"])
        // A witness line altered.
        let witness = try String(contentsOfFile: archive.witness, encoding: .utf8)
        let alteredWitness = archive.folder.file("altered.log")
        try witness.replacingOccurrences(of: "\\\"run\\\":2", with: "\\\"run\\\":1").write(toFile: alteredWitness, atomically: true, encoding: .utf8)
        expectFailure(try await Command(["verify", "--db", archive.db, "--public-key", archive.publicKey,
                                         "--witness", alteredWitness]).run(), exit: 1, naming: ["witness line 2"])
        // An archive never signed.
        let unsigned = try await makeDemoArchive(in: archive.folder, name: "unsigned.db", events: 50)
        expectFailure(try await Command(["verify", "--db", unsigned, "--public-key", archive.publicKey]).run(),
                      exit: 1, naming: ["--sign-key"])
    }
}
