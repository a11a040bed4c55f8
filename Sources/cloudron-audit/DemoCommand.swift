import Archiver
import ArgumentParser
import Client
import CloudronSimulator
import Foundation

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start a simulated Cloudron on 127.0.0.1, sync it into an archive, and show the archive's status.",
        discussion: """
        Nothing leaves this machine: the simulator serves generated events (logins, app updates, \
        out-of-memory kills, ...) with the real server's paging quirks.

        Examples:
          cloudron-audit demo
          cloudron-audit demo --db /tmp/demo.db --events 100000
        """
    )

    @Option(help: ArgumentHelp("The archive file to create or update.", valueName: "path"))
    var db = "demo.db"

    @Option(help: ArgumentHelp("How many events the simulated server holds (1-2000000).", valueName: "n"))
    var events = 20_000

    @Option(help: ArgumentHelp("Seed of the generated data.", valueName: "n"))
    var seed: UInt64 = 1

    func validate() throws {
        guard (1...2_000_000).contains(events) else {
            throw ValidationError("--events must be between 1 and 2000000, not \(events)")
        }
    }

    func run() async throws {
        let simulator = SimulatedCloudron(configuration: SimulatorConfiguration(seed: seed, eventCount: events))
        let url = try await simulator.start()
        print("simulated Cloudron at \(url) with \(events) events")
        do {
            let client = try CloudronClient(configuration: ClientConfiguration(baseURL: url,
                                                                               token: APIToken(simulator.readonlyToken)))
            let progress = StandardError.isTerminal ? ProgressLine() : nil
            var options = SyncOptions(instanceName: "demo", taskLogs: true)
            options.acceptMovedServer = true   // every demo's simulator listens on a new port
            if let progress { options.progress = { progress.update($0) } }
            let first = try await ArchiveSync.run(client: client, archivePath: db, options: options)
            progress?.finish()
            print("first sync:       " + SyncSummary.text(first, instance: options.instanceName))
            // Between the two syncs the server moves as a real one does: new events arrive and repeated
            // logins are rewritten in place, which the archive keeps as new versions.
            await simulator.setDynamics(SimulatorDynamics(newEventsPerListRequest: 5, loginUpsertsPerListRequest: 2))
            let second = try await ArchiveSync.run(client: client, archivePath: db, options: options)
            await simulator.setDynamics(.quiet)
            print("incremental sync: " + SyncSummary.text(second, instance: options.instanceName))
            print("")
            print(StatusText.render(try ReadSession(path: db).status(), zone: nil))
            let tool = CommandLine.arguments.first ?? "cloudron-audit"
            print("""
            Try next:
              \(tool) verify --db \(db)
              \(tool) report logins --db \(db) --since 1d --summary
              \(tool) events --db \(db) --history --action user.login --limit 6
              \(tool) search --db \(db) oom --since 3d
              \(tool) report --all --db \(db) --since 24h --output-dir demo-reports
            """)
        } catch {
            await simulator.stop()
            throw error
        }
        await simulator.stop()
    }
}
