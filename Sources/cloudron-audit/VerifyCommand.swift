import Archiver
import ArgumentParser
import CentralStore
import Foundation

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the archive: SQLite integrity, full-text indexes, and the hash chain over every archived version.",
        discussion: """
        Exits 0 when intact and 1 naming the first broken record otherwise. With --from, recomputes the \
        chain of every archive pushed to the central PostgreSQL store from the rows there. With --public-key, also checks \
        the heads signed by 'sync --sign-key' and that the chain still reaches every one of them; with \
        --witness, also every head in that file, which catches the newest runs deleted wholesale. Without a \
        witness, keep the printed chain head somewhere else: truncating the newest records is only \
        detectable against a copy kept outside the archive. Each check of the archive is recorded in it \
        (where the file can be written), and 'report --all' then checks only what was archived since.

        Examples:
          cloudron-audit verify --db audit.db
          cloudron-audit verify --db audit.db --public-key head.key.pub \\
              --witness /mnt/worm/heads.log
          cloudron-audit verify --db audit.db --quiet \\
              || mail -s 'archive altered' admin@example.com
          cloudron-audit verify --from postgresql://audit@db.example.com/audit
        """
    )

    @OptionGroup var archive: ArchiveOptions
    @Option(help: ArgumentHelp("Check the signed chain heads with this public key (FILE.pub of 'key generate').",
                               valueName: "file"))
    var publicKey: String?
    @Option(help: ArgumentHelp("Also check every signed head in this witness file (needs --public-key).", valueName: "path"))
    var witness: String?
    @OptionGroup var store: StoreOptions
    @Flag(name: .shortAndLong, help: "Print nothing when intact.") var quiet = false

    func validate() throws {
        if witness != nil && publicKey == nil {
            throw ValidationError("--witness holds signed heads: it needs --public-key FILE.pub")
        }
    }

    func run() throws {
        if let connection = try store.connect() {
            return try verifyStore(connection)
        }
        let check = try publicKey.map { path in
            SignedHeadCheck(publicKey: try HeadPublicKey.load(path: path), witness: try witness.map { try WitnessFile.lines(path: $0) })
        }
        let report = try archive.openForReading().verify(signedHeads: check)
        guard let problem = report.firstProblem else {
            if !quiet {
                let signed = check.map { " and the signed heads\($0.witness == nil ? "" : " (and the witness)") match" } ?? ""
                print("intact\(signed): \(report.chainLength) archived records, chain head \(report.chainHead)")
                for note in report.skipped { print("note: \(note)") }
            }
            return
        }
        throw CommandFailure(status: .verificationFailed,
                             description: "archive damaged or altered: \(problem) (\(report.problems.count) problem(s) in all)")
    }
}

extension VerifyCommand {
    /// Every archive in the store, each chain recomputed from the rows in PostgreSQL.
    private func verifyStore(_ connection: PostgresConnection) throws {
        let results = try StoreVerification(connection: connection).run()
        if let broken = results.first(where: { !$0.report.isIntact }), let problem = broken.report.firstProblem {
            throw CommandFailure(status: .verificationFailed,
                                 description: "store \(connection.target) damaged or altered: archive \(broken.archiveID): \(problem) (\(broken.report.problems.count) problem(s) in all)")
        }
        guard !quiet else { return }
        if results.isEmpty { print("intact: \(connection.target) holds no archive yet") }
        for result in results {
            print("intact: archive \(result.archiveID): \(result.report.chainLength) archived records, chain head \(result.report.chainHead)")
        }
    }
}
