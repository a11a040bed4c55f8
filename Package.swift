// swift-tools-version:6.0
import PackageDescription

// Dependencies are chosen, not collected (DEVELOPERS.md): each one below does a job that
// hand-written code would do worse, and all of them build from a clean clone in well under a minute.
let package = Package(
    name: "cloudron-audit",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cloudron-audit", targets: ["cloudron-audit"]),
        .executable(name: "fake-cloudron", targets: ["fake-cloudron"]),
        .library(name: "Client", targets: ["Client"]),
        .library(name: "Archiver", targets: ["Archiver"]),
        .library(name: "Query", targets: ["Query"]),
        .library(name: "CentralStore", targets: ["CentralStore"]),
        .library(name: "CloudronSimulator", targets: ["CloudronSimulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swhitty/FlyingFox", exact: "0.27.1"),
        // `sync --config`: the mirror's one TOML parser; toml++ underneath (TOML 1.0, syntax errors with lines).
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        // libcurl (libcurl4-openssl-dev) and libpq (libpq-dev) are opened at their first use, by sync, push and
        // `--from`, not linked: with their 35 dependencies they cost every process milliseconds at start, also
        // the reading commands that use neither. Each target defines the functions its module calls, with the
        // library's header's prototypes, over CLibraryLoader's dlopen (see CLibraryLoader.h).
        .target(name: "CLibraryLoader"),
        .target(name: "CCurl", dependencies: ["CLibraryLoader"]),
        .target(name: "CLibPQ", dependencies: ["CLibraryLoader"]),

        .target(name: "Client", dependencies: [
            "CCurl",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Archiver", dependencies: [
            "Client", "CSQLite",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "TOMLKit", package: "TOMLKit"),
        ], resources: [.embedInCode("schema")]),
        .target(name: "Query", dependencies: [
            "Archiver", "Client", "CSQLite", .product(name: "Crypto", package: "swift-crypto"),
        ],
                // reports/postgresql holds the reports' PostgreSQL dialect, which CentralStore embeds.
                exclude: ["reports/postgresql"],
                resources: [.embedInCode("reports")]),
        // The central PostgreSQL store (`push`, and reading commands `--from postgresql://…`). Its schema is
        // derived from the archive's own, so it lives apart from both the archive and the queries.
        .target(name: "CentralStore", dependencies: [
            "Archiver", "Query", "CLibPQ", .product(name: "Crypto", package: "swift-crypto"),
        ], resources: [.embedInCode("postgresql")]),
        // The simulator deliberately shares no code with Client: it is an independent
        // implementation of the server, so a bug in our decoding cannot hide in both.
        .target(name: "CloudronSimulator", dependencies: [
            .product(name: "FlyingFox", package: "FlyingFox"),
        ]),

        .executableTarget(name: "cloudron-audit", dependencies: [
            "Client", "Archiver", "Query", "CentralStore", "CloudronSimulator",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "fake-cloudron", dependencies: [
            // FlyingFox's FoundationNetworking calls libcurl: from CCurl, in a build without its autolink (Makefile).
            "CloudronSimulator", "CCurl",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // `make bench` and `make bench-scale`: measure sync, search, reports and export into BENCHMARKS.md (not a test).
        .executableTarget(name: "cloudron-audit-bench", dependencies: ["Archiver", "Client", "Query", "CentralStore", "CloudronSimulator", "ScratchPostgres"],
                          path: "Benchmarks/cloudron-audit-bench"),
        // A throwaway PostgreSQL cluster (initdb, pg_ctl) for the central store's tests and `make bench`.
        .target(name: "ScratchPostgres", dependencies: ["CentralStore"]),

        // Shared by the test targets: what a test needs from the machine (a missing tool skips locally
        // but fails under CI), and a seeded random number generator.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ClientTests", dependencies: ["Client", "CloudronSimulator", "TestSupport", "CSQLite"]),
        .testTarget(name: "ArchiverTests", dependencies: ["Archiver", "Client", "CloudronSimulator", "TestSupport"]),
        .testTarget(name: "QueryTests", dependencies: ["Query", "Archiver", "Client", "CloudronSimulator", "TestSupport"]),
        // Needs a PostgreSQL server from Debian's packages; runs the built binary (demo archives, push, verify --from,
        // report --from), and a simulator's truth for the reports' filter values.
        .testTarget(name: "CentralStoreTests", dependencies: ["cloudron-audit", "CentralStore", "Archiver", "Client", "Query",
                                                             "CloudronSimulator", "ScratchPostgres", "TestSupport"]),
        .testTarget(name: "CloudronSimulatorTests", dependencies: ["CloudronSimulator"]),
        // Runs the built `cloudron-audit` binary as a user would (the dependency makes SwiftPM build it).
        .testTarget(name: "EndToEndTests", dependencies: ["cloudron-audit", "Archiver", "Client", "CloudronSimulator", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
