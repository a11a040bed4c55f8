import Archiver
import ArgumentParser
import Client
import Foundation

/// `--db`, shared by every command: the flag, else `CLOUDRON_AUDIT_DB`, else `./cloudron-audit.db`.
struct ArchiveOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The archive file (default: $CLOUDRON_AUDIT_DB, else ./cloudron-audit.db).",
                                            valueName: "path"))
    var db: String?

    var path: String { path(configured: nil) }

    /// With the archive a `sync --config` file names (`db`), which the flag and the variable override.
    func path(configured: String?) -> String {
        if let db, !db.isEmpty { return db }
        if let env = ProcessInfo.processInfo.environment["CLOUDRON_AUDIT_DB"], !env.isEmpty { return env }
        return configured ?? "cloudron-audit.db"
    }

    /// Opens an existing archive for reading (see `ReadSession`): queries can never change evidence, and
    /// a missing file is reported as such instead of being created empty.
    func openForReading(configured: String? = nil) throws -> ReadSession {
        let path = self.path(configured: configured)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw CommandFailure(status: .noInput, description: "no archive at \(path) — run 'cloudron-audit sync' first or pass --db PATH")
        }
        // SQLite reports a folder as a disk I/O error (74), which sends users looking for a broken disk.
        guard !isFolder.boolValue else {
            throw CommandFailure(status: .noInput, description: "\(path) is a folder, not an archive — pass the archive file, e.g. --db \(path)/cloudron-audit.db")
        }
        let progress = ProgressLine.onTerminal()
        defer { progress?.finish() }
        return try ReadSession(path: path, upgradeProgress: { progress?.update($0) })
    }
}

/// Where the Cloudron is and how to authenticate; used by `sync`.
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The Cloudron's base URL, e.g. https://my.example.com.", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("The Cloudron's dashboard domain (default: $CLOUDRON_DOMAIN); means https://DOMAIN.",
                               valueName: "domain"))
    var domain: String?

    @Option(help: ArgumentHelp("Read the API token from this file (mode 600). Default: $CLOUDRON_TOKEN.", valueName: "file"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("The API token itself. Visible to other users in 'ps': prefer $CLOUDRON_TOKEN or --token-file.",
                               valueName: "token"))
    var token: String?

    @Option(help: ArgumentHelp("Trust this CA certificate file (PEM) for a private or self-signed certificate.", valueName: "file"))
    var cacert: String?

    @Option(help: ArgumentHelp("Pin the server's public key (sha256//BASE64, or a PEM/DER key file).", valueName: "pin"))
    var pinnedPublicKey: String?

    @Flag(help: "Send the token as ?access_token= instead of an Authorization header.")
    var tokenInQuery = false

    @Flag(help: "Allow plain http:// to a host other than loopback (the token then crosses the network in clear).")
    var allowInsecureHttp = false

    func validate() throws {
        if url != nil && domain != nil {
            throw ValidationError("--url and --domain name the same thing: pass one of them")
        }
        if tokenFile != nil && token != nil {
            throw ValidationError("--token and --token-file both give the token: pass one of them")
        }
    }

    /// A malformed --url or --domain is a bad argument (64), not a configuration problem.
    private static func usage<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch ClientError.invalidConfiguration(let message) {
            throw CommandFailure(status: .usage, description: message)
        }
    }

    /// Resolves the URL and token from flags and environment, in that order.
    func clientConfiguration(warn: (String) -> Void) throws -> ClientConfiguration {
        let token: APIToken
        if let tokenFile {
            token = try APIToken.fromFile(tokenFile)
        } else if let literal = self.token {
            warn("warning: --token is visible to other users in 'ps'; prefer CLOUDRON_TOKEN or --token-file")
            token = try APIToken(literal)
        } else if let fromEnvironment = try APIToken.fromEnvironment() {
            token = fromEnvironment
        } else {
            throw CommandFailure(status: .usage, description: "no API token: set CLOUDRON_TOKEN or pass --token-file FILE")
        }
        var configuration: ClientConfiguration
        if let url {
            configuration = try Self.usage { try ClientConfiguration(baseURL: url, token: token) }
        } else if let domain = domain ?? ProcessInfo.processInfo.environment["CLOUDRON_DOMAIN"], !domain.isEmpty {
            configuration = try Self.usage { try ClientConfiguration.domain(domain, token: token) }
        } else {
            throw CommandFailure(status: .usage, description: "no Cloudron given: pass --url URL or --domain DOMAIN, or set CLOUDRON_DOMAIN")
        }
        if let cacert, !FileManager.default.isReadableFile(atPath: cacert) {
            // Else libcurl reports it as a failed certificate check and the message sends users back to --cacert.
            throw CommandFailure(status: .configuration, description: "cannot read the --cacert file \(cacert) — check the path")
        }
        configuration.caFile = cacert
        configuration.pinnedPublicKey = pinnedPublicKey
        configuration.authStyle = tokenInQuery ? .queryParameter : .bearerHeader
        configuration.allowInsecureHTTP = allowInsecureHttp
        return configuration
    }
}

/// Writes to stderr; the CLI's only channel for warnings and progress.
enum StandardError {
    static func line(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static var isTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}
