import Archiver
import ArgumentParser
import Foundation

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the archive: SQLite integrity, full-text indexes, and the hash chain over every archived version.",
        discussion: """
        Exits 0 when intact and 1 naming the first broken record otherwise. Keep the printed chain head \
        somewhere else (a ticket, a log): truncating the newest records is only detectable against it.

        Examples:
          cloudron-audit verify --db audit.db
          cloudron-audit verify --db audit.db --quiet || mail -s 'archive altered' admin@example.com
        """
    )

    @OptionGroup var archive: ArchiveOptions
    @Flag(name: .shortAndLong, help: "Print nothing when intact.") var quiet = false

    func run() throws {
        let report = try archive.openForReading().verify()
        guard let problem = report.firstProblem else {
            if !quiet {
                print("intact: \(report.chainLength) archived records, chain head \(report.chainHead)")
                for note in report.skipped { print("note: \(note)") }
            }
            return
        }
        throw CommandFailure(status: .verificationFailed,
                             description: "archive damaged or altered: \(problem) (\(report.problems.count) problem(s) in all)")
    }
}
