import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT and SIGTERM while `sync` runs. The first one cancels the sync's task: its next request (or the
/// one in flight) is aborted, the pages read are committed, the run is recorded as interrupted, and the
/// command exits 130 or 143 with one line. A second signal ends the process at once (the default action
/// is restored first), as someone pressing Ctrl-C twice expects.
///
/// The handler only writes the signal's number to a pipe (write(2) is async-signal-safe); a thread of
/// its own reads it and cancels. Not Dispatch's signal sources: on Linux they read a signalfd, which
/// sees a signal only while every thread blocks it, and the runtime's threads already run.
final class InterruptSignals: @unchecked Sendable {
    static let handled = [SIGINT, SIGTERM]
    private let lock = NSLock()
    private var first: Int32?

    /// The first signal received, if any.
    var received: Int32? { lock.withLock { first } }

    /// Installs the handlers; `onSignal` runs once, on the watching thread. Nil when no pipe can be made
    /// (no descriptor left): the signals then keep their default action and end the process, as before.
    init?(onSignal: @escaping @Sendable (Int32) -> Void) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return nil }
        let readEnd = ends[0]
        signalPipeWriteEnd = ends[1]
        Thread.detachNewThread { [self] in
            // A parent that spawned us from a thread blocking these signals passed that mask on to every
            // thread: this one takes them, whatever the others block.
            Self.unblockHandledSignals()
            var byte: UInt8 = 0
            while read(readEnd, &byte, 1) != 1 {
                guard errno == EINTR else { return }
            }
            for signal in Self.handled { _ = Foundation.signal(signal, SIG_DFL) }
            lock.withLock { first = Int32(byte) }
            onSignal(Int32(byte))
        }
        for signal in Self.handled { _ = Foundation.signal(signal, forwardSignal) }
    }

    private static func unblockHandledSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in handled { sigaddset(&set, signal) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    static func name(_ signal: Int32) -> String {
        signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "signal \(signal)"
    }
}

/// Where `forwardSignal` writes; set once before the handlers are installed.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

/// The signal handler: async-signal-safe calls only.
private func forwardSignal(_ signal: Int32) {
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(signalPipeWriteEnd, &byte, 1)
}
