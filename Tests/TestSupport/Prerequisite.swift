import Foundation
import Testing

/// Something a test needs from the machine (a tool, a Python module). `make test` installs every
/// prerequisite, so a missing one is a broken set-up, not a reason to pass:
/// - on a developer's machine the test is skipped, visibly (`make test` counts skips against
///   Tests/allowed-skips.txt and fails on one not listed there);
/// - under CI (`CI=true`) the test runs anyway and fails at `require()`, naming what is missing.
public struct Prerequisite: Sendable {
    /// What is missing, in the words a user would install it with (`openssl (apt-get install openssl)`).
    public let name: String
    public let isMet: Bool

    public init(_ name: String, isMet: Bool) {
        self.name = name
        self.isMet = isMet
    }

    /// `CI=true` (or 1/yes), as CI services and `.ci/run` set it.
    public static let underCI: Bool = {
        let value = ProcessInfo.processInfo.environment["CI"]?.lowercased() ?? ""
        return ["true", "1", "yes"].contains(value)
    }()

    /// The trait for `@Test`/`@Suite`: skip when unmet, except under CI, where the test must run.
    public var trait: ConditionTrait {
        .enabled(if: isMet || Self.underCI, Comment(rawValue: "needs \(name)"))
    }

    /// The first line of a test that uses it: under CI an unmet prerequisite fails the test here.
    public func require(sourceLocation: SourceLocation = #_sourceLocation) throws {
        try #require(isMet, Comment(rawValue: "needs \(name), which make test installs"), sourceLocation: sourceLocation)
    }

    /// An executable file at `path`, from the Debian package `package`.
    public static func executable(_ path: String, package: String) -> Prerequisite {
        Prerequisite("\(path) (apt-get install \(package))", isMet: FileManager.default.isExecutableFile(atPath: path))
    }

    /// `python3` on PATH that can run `check` (e.g. `import venv, ensurepip`).
    public static func python(_ check: String, packages: String) -> Prerequisite {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", check]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        var met = false
        if (try? probe.run()) != nil {
            probe.waitUntilExit()
            met = probe.terminationStatus == 0
        }
        return Prerequisite("python3 that can run `\(check)` (apt-get install \(packages))", isMet: met)
    }

    public static let openssl = executable("/usr/bin/openssl", package: "openssl")
}
