import Archiver
import Foundation

/// A one-line progress display on stderr, redrawn in place, only when stderr is a terminal (cron
/// mail and pipes never see it). Throttled to ten redraws a second.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var lastDraw = 0.0
    private var drawn = false

    /// `server` names the server when several are synced at once (`sync --config`).
    func update(_ progress: SyncProgress, server: String? = nil) {
        draw {
            let rate = progress.elapsedSeconds > 0 ? Int(Double(progress.objects) / progress.elapsedSeconds) : 0
            let elapsed = Int(progress.elapsedSeconds)
            return (server.map { $0 + ": " } ?? "") + "\(progress.stream.streamName): \(progress.objects) archived, \(progress.pages) pages, \(rate)/s, "
                + String(format: "%d:%02d", elapsed / 60, elapsed % 60)
        }
    }

    func update(_ progress: UpgradeProgress) {
        draw { "upgrading the archive (\(progress.migration)): \(progress.done) of \(progress.total) versions" }
    }

    /// The line for a terminal on stderr, else nil (cron and pipes see no progress).
    static func onTerminal() -> ProgressLine? { StandardError.isTerminal ? ProgressLine() : nil }

    private func draw(_ text: () -> String) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date().timeIntervalSince1970
        guard now - lastDraw >= 0.1 else { return }
        lastDraw = now
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text()).utf8))
        drawn = true
    }

    /// Clears the line so that what follows starts on a clean one.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drawn = false
    }
}
