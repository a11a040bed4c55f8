import Foundation

/// `report --all --pdf`: prints `index.html` to `report.pdf` with headless Chromium, the one renderer
/// that lays out the page exactly as a reader's browser shows it. Chromium is found on PATH; it is not a
/// dependency of the tool, so its absence fails only the PDF (the rest of the bundle is written first).
public enum PDFPrinter {
    public static let fileName = "report.pdf"
    static let browserNames = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
    /// A Chromium that hangs must not hang a cron job.
    static let timeoutSeconds = 180.0

    /// The first Chromium on PATH.
    public static func findBrowser(path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        for folder in (path ?? "").split(separator: ":") {
            for name in browserNames {
                let candidate = "\(folder)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    /// Prints `directory/index.html` to `directory/report.pdf` (atomically: a temporary file renamed).
    @discardableResult
    public static func print(directory: String) throws -> String {
        guard let browser = findBrowser() else { throw PDFError.noBrowser }
        let folder = URL(fileURLWithPath: directory).standardizedFileURL
        let page = folder.appendingPathComponent(HTMLReport.fileName)
        let target = folder.appendingPathComponent(fileName).path
        let temporary = folder.appendingPathComponent(".\(fileName).tmp-\(UInt64.random(in: 0...UInt64.max))").path
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("cloudron-audit-chromium-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: profile)
            try? FileManager.default.removeItem(atPath: temporary)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        var arguments = ["--headless", "--disable-gpu", "--no-first-run", "--disable-extensions",
                         "--disable-background-networking", "--disable-sync", "--no-pdf-header-footer",
                         "--user-data-dir=\(profile.path)", "--print-to-pdf=\(temporary)"]
        // Chromium refuses to run as root with its sandbox; the page is our own file, without script.
        if geteuid() == 0 { arguments.append("--no-sandbox") }
        process.arguments = arguments + [page.absoluteString]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw PDFError.failed("cannot start \(browser): \(error.localizedDescription)") }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                process.waitUntilExit()
                throw PDFError.failed("\(browser) did not finish printing within \(Int(timeoutSeconds)) s")
            }
            usleep(50_000)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: temporary)[.size] as? Int) ?? 0
        guard process.terminationStatus == 0, size > 0 else {
            throw PDFError.failed("\(browser) exited with status \(process.terminationStatus) without printing the PDF")
        }
        chmod(temporary, 0o600)
        guard rename(temporary, target) == 0 else {
            throw OutputError(operation: "rename the PDF into place", errno: errno, path: target)
        }
        return target
    }
}

/// Why `--pdf` could not print; the HTML and the rest of the bundle are written either way.
public enum PDFError: Error, Sendable, CustomStringConvertible {
    case noBrowser
    case failed(String)

    public var description: String {
        switch self {
        case .noBrowser:
            return "cannot print report.pdf: no Chromium on PATH — install it (Debian/Ubuntu: apt-get install chromium); the rest of the bundle was written"
        case .failed(let reason):
            return "cannot print report.pdf: \(reason); the rest of the bundle was written"
        }
    }
}
