import Client
import Foundation
import TOMLKit

/// `sync --config FILE`: every server one job syncs into one archive, read from a TOML file.
///
/// The whole file is checked before anything is synced: an unknown key (a typo would otherwise silently
/// drop a setting), a token written inline (config files get copied, committed and shown; tokens belong
/// in a file of mode 600), a token file that is missing or readable by others, a duplicate name, a bad URL.
/// Each is one `FleetConfigurationError` naming the file, the line and the key.
///
/// Relative paths (`db`, `token_file`, `cacert`) are relative to the config file's folder, so that a
/// config works the same from cron, systemd or a shell in another folder.
public struct FleetConfiguration: Sendable {
    /// The config file as given.
    public var path: String
    /// The archive (`db`), when the file names one; `--db` and `CLOUDRON_AUDIT_DB` override it.
    public var archivePath: String?
    /// Servers fetched at once (`jobs`).
    public var jobs: Int
    public var servers: [FleetServer]

    /// The servers by instance name and URL, as `status --config` looks them up.
    public var configuredServers: [ConfiguredServer] {
        servers.map { ConfiguredServer(name: $0.name, baseURL: $0.client.baseURL) }
    }

    public static let defaultJobs = 4
    /// More fetches at once than this gain nothing on one archive whose writes are serialised.
    public static let maxJobs = 64

    /// Reads and checks the file at `path`, including every server's token file.
    /// - Throws: `FleetConfigurationError` for anything wrong in it, the file's absence included.
    public static func load(path: String) throws -> FleetConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isFolder: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
            let why = !exists ? "no such file" : isFolder.boolValue ? "it is a folder" : "cannot read it"
            throw FleetConfigurationError(file: path, line: nil, key: nil, message: "\(why) — pass the fleet's TOML file to --config",
                                          fileMissing: !exists)
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    /// Parses `text` as the config file at `path` (which relative paths are resolved against).
    public static func parse(_ text: String, path: String) throws -> FleetConfiguration {
        let lines = TOMLKeyLines(text)
        func fail(_ key: String?, server: Int? = nil, _ message: String) -> FleetConfigurationError {
            let line = key.flatMap { lines.line(of: $0, inServer: server) } ?? server.flatMap { lines.serverHeader($0) }
            return FleetConfigurationError(file: path, line: line, key: key, message: message)
        }
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw FleetConfigurationError(file: path, line: error.source.begin.line, key: nil,
                                          message: "not valid TOML: \(error.description)")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ file: String) -> String {
            file.hasPrefix("/") ? file : folder.appendingPathComponent(file).path
        }

        for key in table.keys where !topLevelKeys.contains(key) {
            throw fail(key, "unknown key (known: \(topLevelKeys.joined(separator: ", ")))")
        }
        var configuration = FleetConfiguration(path: path, archivePath: nil, jobs: defaultJobs, servers: [])
        if let db = table["db"] {
            guard let text = db.string, !text.isEmpty else { throw fail("db", "must be the archive's path, a non-empty string") }
            configuration.archivePath = resolve(text)
        }
        if let jobs = table["jobs"] {
            guard let count = jobs.int, (1...maxJobs).contains(count) else {
                throw fail("jobs", "must be a whole number from 1 to \(maxJobs)")
            }
            configuration.jobs = count
        }
        var taskLogs = false
        if let value = table["task_logs"] {
            guard let flag = value.bool else { throw fail("task_logs", "must be true or false") }
            taskLogs = flag
        }
        guard let serverList = table["server"] else {
            throw fail(nil, "no server: add a [[server]] table with name, domain or url, and token_file")
        }
        guard let array = serverList.array else {
            throw fail("server", "must be an array of tables: write each server as [[server]]")
        }
        var names: Set<String> = []
        for index in 0..<array.count {
            guard let entry = array[index].table else {
                throw fail("server", "must be an array of tables: write each server as [[server]]")
            }
            func failHere(_ key: String?, _ message: String) -> FleetConfigurationError { fail(key, server: index, message) }
            for key in entry.keys where !serverKeys.contains(key) {
                if key == "token" {
                    throw failHere(key, "a token must not be written in the config: put it in a file of mode 600 and name it with token_file")
                }
                throw failHere(key, "unknown key in [[server]] (known: \(serverKeys.joined(separator: ", ")))")
            }
            func string(_ key: String) throws -> String? {
                guard let value = entry[key] else { return nil }
                guard let text = value.string, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw failHere(key, "must be a non-empty string")
                }
                return text
            }
            guard let name = try string("name") else { throw failHere(nil, "a [[server]] without name: give each server its name in the archive") }
            guard names.insert(name).inserted else {
                throw failHere("name", "\"\(name)\" names two servers: each server needs its own name")
            }
            guard let tokenFile = try string("token_file") else {
                throw failHere(nil, "server \"\(name)\" has no token_file: name the file (mode 600) that holds its API token")
            }
            let token: APIToken
            do { token = try APIToken.fromFile(resolve(tokenFile)) } catch let error as ClientError {
                throw failHere("token_file", error.description)
            }
            var client: ClientConfiguration
            do {
                switch (try string("url"), try string("domain")) {
                case (let url?, nil): client = try ClientConfiguration(baseURL: url, token: token)
                case (nil, let domain?): client = try ClientConfiguration.domain(domain, token: token)
                case (.some, .some): throw failHere("domain", "give url or domain, not both")
                case (nil, nil): throw failHere(nil, "server \"\(name)\" has neither url nor domain")
                }
            } catch let error as ClientError {
                throw failHere(entry["url"] != nil ? "url" : "domain", error.description)
            }
            if let cacert = try string("cacert") {
                let file = resolve(cacert)
                guard FileManager.default.isReadableFile(atPath: file) else {
                    throw failHere("cacert", "cannot read the CA certificate \(file) — check the path")
                }
                client.caFile = file
            }
            client.pinnedPublicKey = try string("pin")
            var streams = Set(ObjectKind.allCases)
            if let value = entry["streams"] {
                let list = value.array
                let names = list.map { list in (0..<list.count).compactMap { list[$0].string } } ?? []
                guard let list, list.count > 0, names.count == list.count else {
                    throw failHere("streams", "must be a list of stream names, e.g. [\"eventlog\", \"tasks\"]")
                }
                do { streams = try SyncOptions.parseStreams(names.joined(separator: ",")) } catch let error as SyncError {
                    throw failHere("streams", error.description)
                }
            }
            var moved = false
            if let value = entry["moved"] {
                guard let flag = value.bool else { throw failHere("moved", "must be true or false") }
                moved = flag
            }
            configuration.servers.append(FleetServer(name: name, client: client, streams: streams, taskLogs: taskLogs,
                                                     acceptMoved: moved))
        }
        guard !configuration.servers.isEmpty else {
            throw fail("server", "no server: add a [[server]] table with name, domain or url, and token_file")
        }
        return configuration
    }

    static let topLevelKeys = ["db", "jobs", "task_logs", "server"]
    static let serverKeys = ["name", "domain", "url", "token_file", "cacert", "pin", "streams", "moved"]
}

/// One `[[server]]` of a fleet config, ready to sync.
public struct FleetServer: Sendable {
    /// The instance name in the archive.
    public var name: String
    public var client: ClientConfiguration
    public var streams: Set<ObjectKind>
    public var taskLogs: Bool
    /// `moved = true`: this name's server now answers at another URL, as `sync --moved`.
    public var acceptMoved = false
}

/// A config file that cannot be used, as one line: `FILE:LINE: KEY: what is wrong`.
public struct FleetConfigurationError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var key: String?
    public var message: String
    /// There is no file at all (a missing input rather than a bad one).
    public var fileMissing = false

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        if let key { text += ": \(key)" }
        return text + ": " + message
    }
}

/// Where each key of a fleet config is written, for error messages: TOMLKit (toml++ underneath) gives
/// positions for syntax errors only, not for the keys of a parsed table.
///
/// It knows the file's shape only as far as the config uses TOML: top-level keys before the first table
/// header, then `[[server]]` tables, one key per line. A key it cannot place (written as an inline
/// table, say) gets its server's header line, else none.
struct TOMLKeyLines {
    /// Per table (nil: top level; n: the n-th `[[server]]`), the first line of each key.
    private var keys: [Int?: [String: Int]] = [:]
    private var serverHeaders: [Int] = []

    init(_ text: String) {
        var table: Int?? = .some(nil)   // .none: inside a table this file does not use
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let number = offset + 1
            if line.hasPrefix("[") {
                let header = line.prefix { $0 != "#" }.replacingOccurrences(of: " ", with: "")
                if header == "[[server]]" {
                    serverHeaders.append(number)
                    table = .some(serverHeaders.count - 1)
                } else {
                    table = .none
                }
                continue
            }
            guard case .some(let current) = table, let equals = line.firstIndex(of: "=") else { continue }
            var key = line[..<equals].trimmingCharacters(in: .whitespaces)
            if key.count >= 2, let quote = key.first, quote == "\"" || quote == "'", key.last == quote {
                key = String(key.dropFirst().dropLast())
            }
            if keys[current, default: [:]][key] == nil { keys[current, default: [:]][key] = number }
        }
    }

    func line(of key: String, inServer server: Int?) -> Int? {
        keys[server]?[key] ?? server.flatMap { serverHeader($0) }
    }

    func serverHeader(_ index: Int) -> Int? {
        serverHeaders.indices.contains(index) ? serverHeaders[index] : nil
    }
}
