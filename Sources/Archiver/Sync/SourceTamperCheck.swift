import Client
import Foundation

/// Compares what a run's walk read with what the archive held, and raises an alarm for what box never
/// does by itself (shared/cloudron-api.md, "What a server should never do by itself").
///
/// What box does, and is no alarm: it prunes the oldest events (the retention edge is inferred from the
/// oldest event the walk still found, never assumed); it rewrites a repeated `user.login` in place
/// (same action and source, a later `creationTime`, new data); rows of one second come back in any
/// order (the walk reads tied seconds whole); new rows arrive at the top while the walk pages (they only
/// push rows down into pages still to be read). So within the range the walk read, an archived event it
/// did not see was deleted, and a changed event that is not a login rewrite was edited.
struct SourceTamperCheck {
    let archive: Archive
    let instance: Int64
    let run: Int64
    let stream = ObjectKind.events.streamName

    /// A login rewrite as box makes it: both versions `user.login` with byte-identical `source`, the
    /// new one no older than the old one.
    static func isLoginRewrite(old: [UInt8], new: [UInt8]) -> Bool {
        guard RawField.scalar("action", in: old) == "user.login", RawField.scalar("action", in: new) == "user.login",
              let oldSource = try? RawJSON.value(forKey: "source", in: old), let newSource = try? RawJSON.value(forKey: "source", in: new),
              oldSource.elementsEqual(newSource) else {
            return false
        }
        let oldTime = RawField.scalar("creationTime", in: old) ?? "", newTime = RawField.scalar("creationTime", in: new) ?? ""
        return newTime >= oldTime   // ISO 8601 UTC strings of one format order as their instants
    }

    /// Raises the alarms of one run: events archived at or after `since` that the walk did not see (when
    /// the walk is trustworthy: `since` nil skips that part), and every non-login rewrite the run stored.
    /// Returns the alarms it recorded (findings already recorded by an earlier run are not repeated).
    func run(vanishedSince since: Int64?, at now: Int64) throws -> Int {
        var raised = 0
        if let since {
            for event in try archive.unseenEvents(instance: instance, since: since) {
                let detail = "archived event created \(HeadStatement.isoTime(event.epoch)) is gone from the server, which still holds events down to \(HeadStatement.isoTime(since))"
                if try archive.recordAlarm(instance: instance, stream: stream, kind: .deletedUpstream, apiID: event.apiID,
                                           detail: detail, run: run, at: now) { raised += 1 }
            }
        }
        for rewrite in try archive.eventRewrites(instance: instance, run: run)
        where !Self.isLoginRewrite(old: rewrite.old, new: rewrite.new) {
            let detail = "version \(rewrite.version) differs from version \(rewrite.version - 1) and is not box's rewrite of a repeated login"
            if try archive.recordAlarm(instance: instance, stream: stream, kind: .rewrittenUpstream, apiID: rewrite.apiID,
                                       detail: detail, run: run, at: now) { raised += 1 }
        }
        return raised
    }
}
