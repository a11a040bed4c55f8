import Archiver
import ArgumentParser
import CentralStore
import Client
import Foundation
import Query

/// The one place where failures become exit codes (sysexits.h where one fits) and one-line messages.
/// README's "Exit codes" table mirrors this enum; change both together.
enum ExitStatus: Int32, CaseIterable {
    case success = 0
    /// `verify` found the archive damaged or altered.
    case verificationFailed = 1
    /// `sync` finished, but the server had pruned events before they could be archived (a gap).
    case gapDetected = 3
    /// `sync` finished, but found the server's event log tampered with: an archived event deleted before
    /// its retention edge, or rewritten other than a login (an alarm; see `status`).
    case sourceTampered = 4
    /// `sync` could sync none of the selected streams: each endpoint is missing (404) or refused.
    case nothingSynced = 5
    /// Bad arguments, times, zones, formats, search syntax (EX_USAGE).
    case usage = 64
    /// The archive is not SQLite, truncated, corrupt, or from a newer cloudron-audit (EX_DATAERR).
    case badArchive = 65
    /// The archive or an input file does not exist (EX_NOINPUT).
    case noInput = 66
    /// The server cannot be reached: DNS, refused, timeout; `--pdf` without a working Chromium (EX_UNAVAILABLE).
    case unavailable = 69
    /// Internal error (EX_SOFTWARE).
    case software = 70
    /// The archive or an output file cannot be created there (EX_CANTCREAT).
    case cannotCreate = 73
    /// Reading or writing failed: disk full, I/O error (EX_IOERR).
    case ioError = 74
    /// Try again later: another sync holds the archive, or the server kept failing (EX_TEMPFAIL).
    case temporaryFailure = 75
    /// The server answered something that is not the Cloudron API (EX_PROTOCOL).
    case protocolError = 76
    /// The token was rejected or lacks the permission (EX_NOPERM).
    case permissionDenied = 77
    /// TLS verification, insecure http, token or key file permissions, a file that is not a key, a bad
    /// `sync --config` file (EX_CONFIG).
    case configuration = 78
    /// `sync` stopped by SIGINT (128 + 2, as a shell reports a process the signal ended); the run is
    /// recorded as interrupted.
    case interrupted = 130
    /// `sync` stopped by SIGTERM (128 + 15).
    case terminated = 143

    /// Classifies an error thrown anywhere below the CLI.
    static func of(_ error: Error) -> ExitStatus {
        switch error {
        case let error as ClientError:
            // Any status a Cloudron never sends (418, 3xx handled apart): not the API, not worth a retry later.
            if case .unexpectedStatus = error { return .protocolError }
            switch error.category {
            case .configuration: return .configuration
            case .unreachable, .transport: return .unavailable
            case .tls: return .configuration
            case .tokenRejected, .forbidden: return .permissionDenied
            case .rateLimited, .serverError:
                return .temporaryFailure
            case .notFound, .badRequest, .malformedResponse, .responseTooLarge, .redirectRefused:
                return .protocolError
            }
        case let error as SQLiteError:
            switch error.kind {
            case .notADatabase, .notAnArchive, .schemaTooNew, .schemaTooOld: return .badArchive
            case .cannotOpen: return .cannotCreate
            case .readOnly: return .cannotCreate
            case .diskFull, .ioError: return .ioError
            case .busy: return .temporaryFailure
            case .constraint, .other: return .software
            }
        case let error as SyncError:
            switch error {
            case .locked: return .temporaryFailure
            case .invalidOption, .instanceMoved: return .usage
            case .lockFile(_, let code): return code == ENOSPC || code == EIO ? .ioError : .cannotCreate
            case .tieGroupUnreadable: return .temporaryFailure
            case .interrupted: return .interrupted
            case .pageSizeCapped: return .protocolError
            case .noStreamAvailable: return .nothingSynced
            }
        case let error as SigningError:
            switch error {
            case .badKeyFile: return .configuration
            case .keyExists: return .cannotCreate
            case .missingFile: return .noInput
            case .cannotWrite(_, let code): return code == ENOSPC || code == EIO ? .ioError : .cannotCreate
            }
        case is PDFError: return .unavailable
        case let error as CentralStoreError:
            switch error.kind {
            case .badURL: return .usage
            case .unavailable: return .unavailable
            case .permissionDenied: return .permissionDenied
            case .badTarget, .schemaTooNew: return .badArchive
            case .notPushed: return .noInput
            case .busy: return .temporaryFailure
            case .resources: return .ioError
            case .server: return .software
            }
        case is QueryInputError: return .usage
        case is TaskLogNotArchived: return .noInput
        case let error as OutputError: return error.errno == ENOSPC ? .ioError : .cannotCreate
        case is BundleFolderError: return .cannotCreate
        case let error as CommandFailure: return error.status
        default: return .software
        }
    }

    /// How one server's sync ended: 0, 4 for a source-tamper alarm, 3 for a gap, else its error's code; a run
    /// whose streams partly failed, the most serious of those (its failures' codes, its alarm, its gap).
    static func of(_ outcome: FleetOutcome) -> ExitStatus {
        switch outcome.result {
        case .success(let report):
            let finding: ExitStatus = report.events.alarms > 0 ? .sourceTampered : report.events.gap != nil ? .gapDetected : .success
            return mostSerious([finding] + report.failedStreams.map { of($0.error) })
        case .failure(let error): return of(error)
        }
    }

    /// `sync --config` exits with the highest code among its servers' outcomes (README's table says so):
    /// any failure outranks a gap (3), an alarm (4) and a server with no stream (5), and among failures
    /// the higher codes are those that need a person (76 not the API, 77 token refused, 78 TLS or
    /// configuration) rather than a later retry (69 unreachable, 75 try again).
    static func mostSerious(_ statuses: [ExitStatus]) -> ExitStatus {
        statuses.max { $0.rawValue < $1.rawValue } ?? .success
    }

    /// Prints one line on stderr (or ArgumentParser's help/version on stdout) and exits.
    static func exit(with error: Error) -> Never {
        if let code = error as? ExitCode {
            Foundation.exit(code.rawValue)
        }
        if let output = error as? OutputError, output.errno == EPIPE {
            Foundation.exit(0)   // the reader closed the pipe: it has all it wanted
        }
        let status: ExitStatus
        let message: String
        if isOwnError(error) {
            status = of(error)
            message = String(describing: error)
        } else {
            // ArgumentParser's errors: --help, --version and completion scripts exit 0 with their text;
            // parse and validation errors get their first line, not the whole usage block.
            let code = CloudronAudit.exitCode(for: error)
            if code == .success {
                print(CloudronAudit.fullMessage(for: error))
                Foundation.exit(0)
            }
            status = code == .validationFailure ? .usage : .software
            let text = CloudronAudit.message(for: error)
            let firstLine = text.split(separator: "\n").first.map(String.init) ?? text
            message = firstLine + " (see 'cloudron-audit help')"
        }
        FileHandle.standardError.write(Data(("cloudron-audit: " + oneLine(message) + "\n").utf8))
        Foundation.exit(status.rawValue)
    }

    private static func isOwnError(_ error: Error) -> Bool {
        error is ClientError || error is SQLiteError || error is SyncError || error is QueryInputError
            || error is OutputError || error is BundleFolderError || error is CommandFailure || error is SigningError || error is PDFError || error is CentralStoreError
            || error is TaskLogNotArchived
    }

    /// Messages may quote server text; keep them to one line whatever it holds.
    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}

/// A failure the CLI itself detects (a missing archive, a sync that found a gap), with its status.
struct CommandFailure: Error, CustomStringConvertible {
    let status: ExitStatus
    let description: String
}
