import Foundation
import Testing

/// `report --all` as a handover bundle: a clean folder, and a manifest in the terms a reader uses.
@Suite struct HandoverBundleTests {
    private func files(in folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    }

    private func manifest(in folder: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func aFolderHoldingOtherFilesIsRefusedBeforeAnythingIsWritten() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try await SharedArchive.get()
        let bundle = folder.file("bundle")
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        try "mine".write(toFile: bundle + "/notes.txt", atomically: true, encoding: .utf8)
        let refused = try await Command(["report", "--all", "--db", db, "--output-dir", bundle]).run()
        #expect(refused.status == 73)
        #expect(refused.errorLines.count == 1)
        #expect(refused.stderr.contains("notes.txt"))
        #expect(try files(in: bundle) == ["notes.txt"])
    }

    @Test func aRerunReplacesOnlyWhatItsManifestListedAndRemovesWhatItNoLongerWrites() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try await SharedArchive.get()
        let bundle = folder.file("bundle")
        let first = try await Command(["report", "--all", "--db", db, "--output-dir", bundle, "--html"]).run()
        #expect(first.status == 0, "\(first.stderr)")
        let firstFiles = try files(in: bundle)
        #expect(firstFiles.contains("logins.json") && firstFiles.contains("index.html"))
        // The same folder again, CSV only and no page: the JSON files and the page of the first run go.
        let second = try await Command(["report", "--all", "--db", db, "--output-dir", bundle, "--formats", "csv"]).run()
        #expect(second.status == 0, "\(second.stderr)")
        let listed = try #require(try manifest(in: bundle)["reports"] as? [[String: Any]])
            .flatMap { ($0["files"] as? [[String: Any]] ?? []).compactMap { $0["file"] as? String } }
        #expect(try files(in: bundle) == (listed + ["manifest.json"]).sorted())
        #expect(listed.allSatisfy { $0.hasSuffix(".csv") })
        // A file the manifest does not list: refused.
        try "x".write(toFile: bundle + "/extra.csv", atomically: true, encoding: .utf8)
        let third = try await Command(["report", "--all", "--db", db, "--output-dir", bundle]).run()
        #expect(third.status == 73)
        #expect(third.stderr.contains("extra.csv"))
    }

    @Test func theManifestSpeaksInUserTermsAndRecordsTheChainAndVerify() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try await SharedArchive.get()
        let bundle = folder.file("bundle")
        let run = try await Command(["report", "--all", "--db", db, "--output-dir", bundle, "--since", "2026-01-01",
                                     "--until", "2027-01-01T12:00"]).run()
        #expect(run.status == 0, "\(run.stderr)")
        let manifest = try manifest(in: bundle)
        #expect(manifest["archive"] as? String == URL(fileURLWithPath: db).resolvingSymlinksInPath().path
                || manifest["archive"] as? String == db)
        #expect((manifest["archive"] as? String)?.hasPrefix("/") == true)
        let window = try #require(manifest["window"] as? [String: Any])
        #expect(window["since"] as? String == "2026-01-01T00:00:00Z")
        #expect(window["until"] as? String == "2027-01-01T12:00:00Z")
        // The chain as status reads it, and verify's verdict.
        let status = try await Command(["status", "--db", db, "--format", "json"]).run()
        let statusChain = try #require((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["chain"]
                                       as? [String: Any])
        let chain = try #require(manifest["chain"] as? [String: Any])
        #expect(chain["head"] as? String == statusChain["head"] as? String)
        #expect(chain["length"] as? Int == statusChain["length"] as? Int)
        let verification = try #require(manifest["verification"] as? [String: Any])
        #expect(verification["intact"] as? Bool == true)
        #expect(verification["problems"] as? Int == 0)
        for report in try #require(manifest["reports"] as? [[String: Any]]) {
            let filters = try #require(report["filters"] as? [String: Any], "\(report["name"] ?? "?")")
            #expect(filters["since"] as? String == "2026-01-01T00:00:00Z")
            #expect(filters["until"] as? String == "2027-01-01T12:00:00Z")
            #expect(filters["limit"] is NSNull)
            #expect(filters["order"] as? String == "newest")
            #expect(filters["direction"] == nil)
            // No epoch seconds, no -1 anywhere in the report's terms (a count such as logins' --ips 10 is one).
            for value in filters.values.compactMap({ $0 as? String }) + ((report["parameters"] as? [String: String])?.values.map { $0 } ?? []) {
                #expect(Int(value).map { (0..<1_000_000).contains($0) } ?? true, "\(value)")
            }
        }
        let sessions = try #require((manifest["reports"] as? [[String: Any]])?.first { $0["name"] as? String == "login-sessions" })
        #expect((sessions["parameters"] as? [String: String])?["gap"] == "30m")
    }

    @Test func aDamagedArchivesBundleSaysSoInItsManifest() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try await makeDemoArchive(in: folder, events: 120)
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [db, "UPDATE events SET action = 'user.logout' WHERE id = (SELECT min(id) FROM events WHERE action = 'user.login')"]
        try await ChildProcess.run(sqlite)
        #expect(sqlite.terminationStatus == 0)
        let run = try await Command(["report", "--all", "--db", db, "--output-dir", folder.file("bundle")]).run()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("warning: verify found the archive damaged or altered"))
        let verification = try #require(try manifest(in: folder.file("bundle"))["verification"] as? [String: Any])
        #expect(verification["intact"] as? Bool == false)
        #expect((verification["problems"] as? Int ?? 0) > 0)
        #expect((verification["firstProblem"] as? String)?.isEmpty == false)
    }

    @Test func statusJSONGivesTheTimesTheTextShows() async throws {
        let db = try await SharedArchive.get()
        let text = try await Command(["status", "--db", db, "--tz", "Europe/Berlin"]).run()
        let json = try await Command(["status", "--db", db, "--format", "json", "--tz", "Europe/Berlin"]).run()
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let instance = try #require((object["instances"] as? [[String: Any]])?.first)
        let started = try #require((instance["lastRun"] as? [String: Any])?["startedAt"] as? String)
        #expect(started.hasSuffix("+01:00"))
        #expect(text.stdout.contains("started \(started)"))
        let stream = try #require((instance["streams"] as? [[String: Any]])?.first { $0["name"] as? String == "eventlog" })
        let oldest = try #require(stream["oldest"] as? String)
        let newest = try #require(stream["newest"] as? String)
        #expect(text.stdout.contains("\(oldest) → \(newest)"))
        #expect(!json.stdout.contains("\"startedAt\" : 1"))
    }
}
