import Archiver
import ArgumentParser
import Foundation

/// `key generate`: the Ed25519 key pair for signed chain heads and manifests.
struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Make the key pair that signs chain heads (sync --sign-key) and report manifests.",
        subcommands: [GenerateKey.self]
    )

    struct GenerateKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Write a new Ed25519 key pair: FILE (private, mode 600) and FILE.pub (public).",
            discussion: """
            Keep FILE where the sync can read it but an intruder on the archive's machine ideally cannot \
            (another user, a mounted secret); give FILE.pub to whoever verifies. Both are PEM files that \
            openssl reads too. An existing file is never overwritten.

            Examples:
              cloudron-audit key generate --out /etc/cloudron-audit/head.key
              cloudron-audit sync --domain my.example.com \\
                  --sign-key /etc/cloudron-audit/head.key --witness /mnt/worm/heads.log
              cloudron-audit verify --db audit.db --public-key head.key.pub \\
                  --witness /mnt/worm/heads.log
            """
        )

        @Option(help: ArgumentHelp("The private key file to create (FILE.pub is the public key).", valueName: "file"))
        var out: String

        func run() throws {
            let key = try HeadSigningKey.generatePair(at: out)
            print("wrote \(out) (private: keep it secret) and \(out).pub (public key \(key.publicKey.fingerprint))")
        }
    }
}

/// `--sign-key FILE`, shared by `sync` and `report --all`.
struct SigningOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Sign with this Ed25519 private key (from 'key generate'; mode 600).", valueName: "file"))
    var signKey: String?

    func key() throws -> HeadSigningKey? {
        try signKey.map { try HeadSigningKey.load(path: $0) }
    }
}
