import Archiver
import ArgumentParser
import CentralStore
import Foundation
import Query

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the archive holds: per server and stream, counts, time ranges, complete ranges and gaps.",
        discussion: """
        Examples:
          cloudron-audit status --db audit.db
          cloudron-audit status --db audit.db --format json \\
              | jq '.instances[].streams[].gaps'
          cloudron-audit status --from postgresql://audit@db.example.com/audit
          cloudron-audit status --config /etc/cloudron-audit/fleet.toml  # + unsynced
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var store: StoreOptions
    @Option(help: "Output format: text or json.") var format: Format = .text
    @Option(help: ArgumentHelp("Show times in this zone (default UTC).", valueName: "zone")) var tz: String?
    @Option(help: ArgumentHelp("A 'sync --config' file: its archive (unless --db), and which of its servers never synced.",
                               valueName: "file"))
    var config: String?

    func validate() throws {
        if config != nil && store.uri != nil {
            throw ValidationError("--config names servers of an archive, --from a central store: pass one of them")
        }
    }

    func run() throws {
        let zone = try tz.map { try TimeZoneOption.parse($0) }
        if let connection = try store.connect() {
            let status = try StoreStatus.read(from: connection)
            switch format {
            case .json: try printJSON(status, timeKeys: StoreStatus.timeKeys, zone: zone)
            case .text: print(StatusText.render(status, zone: zone), terminator: "")
            }
            return
        }
        let fleet = try config.map { try FleetConfigurationFile.load($0) }
        let status = try archive.openForReading(configured: fleet?.archivePath).status(configured: fleet?.configuredServers)
        switch format {
        case .json: try printJSON(status, timeKeys: ArchiveStatus.timeKeys, zone: zone)
        case .text: print(StatusText.render(status, zone: zone), terminator: "")
        }
    }

    /// Times as ISO 8601 in --tz, as the text form shows them.
    private func printJSON<T: Encodable>(_ value: T, timeKeys: Set<String>, zone: TimeZone?) throws {
        print(String(decoding: try ISOTimeJSON.encode(value, timeKeys: timeKeys, zone: zone), as: UTF8.self))
    }
}

/// The human-readable form of `ArchiveStatus`.
enum StatusText {
    static func render(_ status: ArchiveStatus, zone: TimeZone?) -> String {
        var times = TimestampFormatter(zone: zone)
        func time(_ epoch: Int64?) -> String { epoch.map { times.string(from: $0) } ?? "-" }
        var out = "archive \(status.path) (schema \(status.schemaVersion))\n"
        out += "hash chain: \(status.chain.length) records, head \(status.chain.head)\n"
        if !status.alarms.isEmpty {
            out += "\nALARMS: \(status.alarms.count) sign(s) that someone edited a server's event log\n"
            for alarm in status.alarms {
                out += "  \(alarm.kind.rawValue): \(alarm.instance) \(alarm.stream) id \(alarm.id), noticed \(time(alarm.noticedAt)) by run \(alarm.run): \(alarm.detail)\n"
            }
        }
        if status.instances.isEmpty { out += "no server synced yet\n" }
        if let unsynced = status.neverSynced, !unsynced.isEmpty {
            out += "never synced: " + unsynced.map { "\($0.name) (\($0.baseURL))" }.joined(separator: ", ") + "\n"
        }
        for instance in status.instances {
            out += "\ninstance \(instance.name) (\(instance.baseURL))\n"
            if let run = instance.lastRun {
                out += "  last sync: run \(run.id), \(run.result.rawValue), started \(time(run.startedAt))"
                out += ", \(run.requests) requests\(run.signed ? ", head signed" : "")\n"
                for error in run.errors { out += "    error: \(error)\n" }
                for stream in run.unavailableStreams { out += "    not synced: \(stream.stream): \(stream.reason)\n" }
            } else {
                out += "  last sync: never\n"
            }
            for stream in instance.streams {
                out += "  \(stream.name): \(stream.objects) objects, \(stream.versions) versions, \(time(stream.oldest)) → \(time(stream.newest))\n"
                for range in stream.coverage {
                    out += "    complete: \(time(range.from)) → \(time(range.to))\n"
                }
                if stream.gaps.isEmpty {
                    out += "    gaps: none\n"
                }
                for gap in stream.gaps {
                    out += "    GAP: \(time(gap.from)) → \(time(gap.to)): \(gap.reason) (found by run \(gap.run))\n"
                }
                if !stream.quarantined.isEmpty {
                    out += "    quarantined: \(stream.quarantined.count) malformed objects kept as received\n"
                }
                for object in stream.quarantined {
                    let raw = object.raw.count > 80 ? String(object.raw.prefix(80)) + "…" : object.raw
                    out += "      \(object.reason), seen \(time(object.firstSeen)) → \(time(object.lastSeen)): \(raw)\n"
                }
            }
            let logs = instance.taskLogs
            out += "  task logs: \(logs.archived) archived, \(logs.rotated) already rotated, \(logs.lines) lines"
            out += logs.unavailable.isEmpty ? "\n" : ", \(logs.unavailable.count) unavailable:\n"
            for failure in logs.unavailable {
                let retry = failure.givenUp ? "given up" : "asked again next sync"
                out += "    task \(failure.taskId): \(failure.reason) (\(failure.attempts) attempts, first \(time(failure.firstTry)), "
                    + "last \(time(failure.lastTry)); \(retry))\n"
            }
        }
        return out
    }
}

extension StatusText {
    /// The human-readable form of `StoreStatus`.
    static func render(_ status: StoreStatus, zone: TimeZone?) -> String {
        var times = TimestampFormatter(zone: zone)
        func time(_ epoch: Int64?) -> String { epoch.map { times.string(from: $0) } ?? "-" }
        var out = "store \(status.store): \(status.archives.count) archive(s)\n"
        for archive in status.archives {
            out += "\narchive \(archive.archiveID) (schema \(archive.archiveSchema)), pushed \(time(archive.pushedAt))\n"
            out += "hash chain: \(archive.chain.length) records, head \(archive.chain.head)\n"
            for instance in archive.instances {
                out += "  instance \(instance.name) (\(instance.baseURL))\n"
                if let run = instance.lastRunID {
                    out += "    last sync: run \(run), \(instance.lastRunResult ?? "?"), started \(time(instance.lastRunStartedAt))\n"
                }
                for stream in instance.streams {
                    out += "    \(stream.name): \(stream.objects) objects, \(stream.versions) versions, \(time(stream.oldest)) → \(time(stream.newest))"
                    out += stream.gaps == 0 ? "\n" : ", \(stream.gaps) GAP(s)\n"
                }
            }
        }
        return out
    }
}
