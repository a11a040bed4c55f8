// The simulated server's data and everything that changes it. Not thread-safe by itself:
// `SimulatorCore` owns one and serializes access, so one request sees one consistent snapshot,
// as one SQL query does on the real server.

import Foundation

struct ServerState {
    let legacy2019: Bool
    let maxPerPage: Int?
    var dynamics: SimulatorDynamics
    let cast: SampleCast
    /// Drives content of events made after start (deterministic from the seed).
    var contentRandom: SeededRandom
    /// Drives tie shuffles and chaos: a fresh order on every request.
    var requestRandom: SeededRandom
    let clock: SimulatorClock
    /// Simulated now = the clock's now + offset.
    var clockOffset: Int64 = 0

    /// Ascending by time (oldest first) so new rows append; served newest first.
    var events: [EventRecord] = []
    /// Earlier versions of events that were upserted, and the last version of pruned events.
    var eventHistory: [String: [StoredVersion]] = [:]
    var prunedEventIds: [String] = []

    var notifications: [NotificationRecord] = []
    var notificationVersions: [Int: [StoredVersion]] = [:]
    var deletedNotificationIds: [String] = []
    var nextNotificationId = 1

    var tasks: [TaskRecord] = []
    var taskVersions: [Int: [StoredVersion]] = [:]

    var requestCounts: [String: Int] = [:]

    var now: Int64 { clock.now + clockOffset }
    var legacyUserId: String? { legacy2019 ? cast.admin.id : nil }

    init(configuration: SimulatorConfiguration) {
        legacy2019 = configuration.legacy2019
        maxPerPage = configuration.maxPerPage
        dynamics = configuration.dynamics
        clock = configuration.clock
        var rng = SeededRandom(seed: configuration.seed)
        cast = SampleCast(rng: &rng)
        contentRandom = SeededRandom(seed: configuration.seed ^ 0xC0FF_EE00_D15E_A5E5)
        requestRandom = SeededRandom(seed: configuration.seed ^ 0x5EED_0F_7135)
        let start = now
        buildEvents(count: configuration.eventCount, now: start, rng: &rng)
        buildAlerts(now: start, rng: &rng)
        notifications.sort { $0.time < $1.time }
        for index in notifications.indices {
            // Ids follow insertion order (auto-increment) as on the server.
            notifications[index] = NotificationRecord(
                id: index + 1, eventId: notifications[index].eventId, title: notifications[index].title,
                message: notifications[index].message, time: notifications[index].time,
                acknowledged: notifications[index].acknowledged)
            notifications[index].serialize(legacyUserId: legacyUserId)
            notificationVersions[index + 1] = [StoredVersion(time: notifications[index].time, json: notifications[index].json)]
        }
        nextNotificationId = notifications.count + 1
        buildTasks(count: max(12, configuration.eventCount / 100), now: start, rng: &rng)
    }

    // MARK: - Initial data

    private struct LoginKey: Hashable {
        let day: Int64
        let source: [UInt8]
        // Hashes the bytes in one go: per-element hashing dominated building a million events.
        func hash(into hasher: inout Hasher) {
            hasher.combine(day)
            source.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    private mutating func buildEvents(count: Int, now: Int64, rng: inout SeededRandom) {
        guard count > 0 else { return }
        let span: Int64 = 9 * 86_400
        var times: [Int64] = []
        times.reserveCapacity(count)
        while times.count < count {
            // Bursts: several events in one second are common on a real server.
            let roll = rng.int(0...99)
            let size = roll < 55 ? 1 : roll < 75 ? 2 : roll < 87 ? 3 : roll < 95 ? rng.int(4...6) : rng.int(7...12)
            let second = now - 1 - Int64(rng.int(0...Int(span) - 2))
            for _ in 0..<min(size, count - times.count) { times.append(second) }
        }
        times.sort()
        var actions = (0..<count).map { _ in cast.randomAction(rng: &rng) }
        if count >= allActions.count * 3 {
            // Every action appears at least once in any sizeable server.
            for (i, action) in allActions.enumerated() { actions[i] = action }
            actions.shuffle(using: &rng)
        }
        // The newest rows are today's logins, so a same-day upsert always has a row to rewrite.
        let startOfToday = CloudronTime.day(now) * 86_400
        let recentFloor = max(startOfToday, now - 3600)
        for i in max(0, count - 3)..<count {
            times[i] = max(times[i], recentFloor)
            actions[i] = "user.login"
        }
        var seenLogins = Set<LoginKey>()
        var pendingNotes: [NotificationRecord] = []
        events.reserveCapacity(count)
        for i in 0..<count {
            let action = actions[i]
            var content = cast.content(for: action, rng: &rng, taskId: rng.int(1...max(12, count / 100)))
            if action == "user.login" {
                // Box merges a repeated login (same source, same day) into one row.
                var key = LoginKey(day: CloudronTime.day(times[i]), source: content.source)
                while seenLogins.contains(key) {
                    content = EventContent(source: cast.loginSource(rng: &rng), data: content.data)
                    key = LoginKey(day: key.day, source: content.source)
                }
                seenLogins.insert(key)
            }
            let record = EventRecord(id: rng.uuid(), action: action, time: times[i], source: content.source, data: content.data)
            if let (title, message) = content.notification, rng.chance(0.5) {
                pendingNotes.append(NotificationRecord(id: 0, eventId: record.id, title: title, message: message,
                                                       time: record.time, acknowledged: rng.chance(0.6)))
            }
            events.append(record)
        }
        notifications = pendingNotes
    }

    private static let alertTitles: [(String, String)] = [
        ("Reboot Required", "To finish ubuntu security updates, a reboot is necessary."),
        ("Out of Disk Space", "The disk /dev/sda1 is **95%** full.\n\n* Remove old backups\n* Resize the disk, \"soon\""),
        ("Backup configuration is unsafe", "Backups are stored on the same disk as the data, =BAD."),
        ("Updates available", "Cloudron v9.0.16 and 3 app updates are available 🎉"),
    ]

    private mutating func buildAlerts(now: Int64, rng: inout SeededRandom) {
        for (title, message) in Self.alertTitles {
            notifications.append(NotificationRecord(id: 0, eventId: nil, title: title, message: message,
                                                    time: now - Int64(rng.int(600...(8 * 86_400))),
                                                    acknowledged: rng.chance(0.5)))
        }
    }

    private static let taskTypes = ["app", "backup", "update", "checkCerts", "syncDyndns", "prepareDashboardLocation",
                                    "cleanBackups", "syncExternalLdap", "changeMailLocation", "syncDnsRecords",
                                    "updateDiskUsage"]

    private mutating func buildTasks(count: Int, now: Int64, rng: inout SeededRandom) {
        var times: [Int64] = []
        for i in 0..<count {
            // Some tasks start in the same second: the id then decides the order (id DESC).
            if i > 0, rng.chance(0.1) { times.append(times[i - 1]) } else {
                times.append(now - 60 - Int64(rng.int(0...(12 * 86_400))))
            }
        }
        times.sort()
        let stuck = Set([count / 3, count / 2])
        let failCodes = ["crashed", "stopped", "timeout"]
        var failures = 0
        for i in 0..<count {
            let id = i + 1
            let type = i < Self.taskTypes.count ? Self.taskTypes[i]
                : rng.pick(["app", "app", "app", "backup", "backup", "checkCerts", "cleanBackups", "updateDiskUsage"] + Self.taskTypes)
            let args = type == "app" ? "[\"\(rng.pick(cast.apps).id)\",{\"installationState\":\"pending_update\"}]" : "[]"
            var task = TaskRecord(id: id, type: type, percent: 100, message: "Done", errorMessage: nil, errorCode: nil,
                                  active: false, pending: false, time: times[i], ts: times[i] + Int64(rng.int(5...900)),
                                  resultJSON: "null", success: true, argsJSON: args, failsWhenDone: rng.chance(0.2))
            if i >= count - 2 {
                task.active = true; task.percent = rng.int(10...60); task.message = "Uploading \"data\", part \(rng.int(1...9))"
                task.success = false; task.ts = now - 5
            } else if i == count - 3 {
                task.pending = true; task.percent = 0; task.message = "Queued"; task.success = false; task.ts = times[i]
            } else if stuck.contains(i) {
                task.percent = rng.int(20...80); task.message = "Restarting containers"; task.success = false
            } else if rng.chance(0.12) {
                task.success = false; task.percent = rng.int(1...100)
                task.errorCode = failCodes[failures % failCodes.count]
                failures += 1
                task.errorMessage = task.errorCode == "timeout" ? "Task timed out after 7200 seconds"
                    : task.errorCode == "stopped" ? "Stopped by user" : "Task crashed: Error: ENOMEM, \"out of memory\""
                task.message = "Failed"
            } else {
                task.resultJSON = type == "backup" ? "\"\(20_260_000 + id)-box_v9.0.15\"" : "null"
            }
            task.serialize(legacy: legacy2019)
            taskVersions[id] = [StoredVersion(time: task.ts, json: task.json)]
            tasks.append(task)
        }
    }

    // MARK: - Paging

    /// Box's page/per_page validation: `parseInt` semantics, 0 / negative / NaN rejected.
    static func pageParameters(_ query: [String: String], maxPerPage: Int?) -> Result<(page: Int, perPage: Int), RequestError> {
        var page = 1, perPage = 25
        if let text = query["page"] {
            guard let value = parseInt(text), value > 0 else {
                return .failure(.badRequest("page query param has to be a postive number"))
            }
            page = value
        }
        if let text = query["per_page"] {
            guard let value = parseInt(text), value > 0 else {
                return .failure(.badRequest("per_page query param has to be a postive number"))
            }
            perPage = value
        }
        if let maxPerPage { perPage = min(perPage, maxPerPage) }
        return .success((page, perPage))
    }

    /// JavaScript's `parseInt(text, 10)`: leading whitespace, optional sign, then the longest digit prefix.
    static func parseInt(_ text: String) -> Int? {
        var scalars = Substring(text).drop { $0 == " " || $0 == "\t" || $0 == "\n" }
        var negative = false
        if let first = scalars.first, first == "-" || first == "+" { negative = first == "-"; scalars = scalars.dropFirst() }
        let digits = scalars.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return nil }
        guard let value = Int(digits.prefix(18)) else { return nil }
        return negative ? -value : value
    }

    /// The rows at positions `[start, end)` of a newest-first order with no tie-breaker: every
    /// tie group touching the page is shuffled whole, so a group that straddles a page boundary can
    /// put one row on both pages and another on neither, as MySQL does.
    func pageIndices(count: Int, page: Int, perPage: Int, time: (Int) -> Int64, index: (Int) -> Int,
                     random: inout SeededRandom) -> [Int] {
        let (offset, overflow) = (page - 1).multipliedReportingOverflow(by: perPage)
        guard !overflow, offset < count else { return [] }
        let end = offset + min(perPage, count - offset)
        var groupStart = offset
        while groupStart > 0, time(groupStart - 1) == time(offset) { groupStart -= 1 }
        var groupEnd = end
        while groupEnd < count, time(groupEnd) == time(end - 1) { groupEnd += 1 }
        var picked = (groupStart..<groupEnd).map(index)
        var runStart = 0
        while runStart < picked.count {
            var runEnd = runStart + 1
            let t = time(groupStart + runStart)
            while runEnd < picked.count, time(groupStart + runEnd) == t { runEnd += 1 }
            if runEnd - runStart > 1 { picked[runStart..<runEnd].shuffle(using: &random) }
            runStart = runEnd
        }
        return Array(picked[(offset - groupStart)..<(end - groupStart)])
    }

    static func listBody(key: String, items: [[UInt8]]) -> [UInt8] {
        var body = [UInt8]()
        body.reserveCapacity(items.reduce(20 + key.utf8.count) { $0 + $1.count + 1 })
        body.append(contentsOf: "{\"\(key)\":[".utf8)
        for (i, item) in items.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: item)
        }
        body.append(contentsOf: "]}".utf8)
        return body
    }

    /// Box's `search`: `LIKE '%term%'` under a binary collation, so case-sensitive, and `_` (one
    /// character) and `%` (any run) in the term are wildcards.
    static func likeContains(_ haystack: ArraySlice<UInt8>, _ term: String) -> Bool {
        let text = Array(String(decoding: haystack, as: UTF8.self).unicodeScalars)
        let pattern = Array(term.unicodeScalars)
        // Matches pattern[p...] at text[t...] as a prefix (the trailing `%` of '%term%').
        func matches(_ t: Int, _ p: Int) -> Bool {
            if p == pattern.count { return true }
            switch pattern[p] {
            case "%": return (t...text.count).contains { matches($0, p + 1) }
            case "_": return t < text.count && matches(t + 1, p + 1)
            default: return t < text.count && text[t] == pattern[p] && matches(t + 1, p + 1)
            }
        }
        return (0...text.count).contains { matches($0, 0) }
    }

    mutating func eventPage(page: Int, perPage: Int, actions: [String], search: String?) -> [UInt8] {
        let needle = search
        var rows: [[UInt8]] = []
        if actions.isEmpty, needle == nil || needle == "" {
            let n = events.count
            let picked = pageIndices(count: n, page: page, perPage: perPage,
                                     time: { events[n - 1 - $0].time }, index: { n - 1 - $0 }, random: &requestRandom)
            rows = picked.map { events[$0].json }
        } else {
            var matches: [Int] = []
            for i in stride(from: events.count - 1, through: 0, by: -1) {
                let event = events[i]
                if !actions.isEmpty, !actions.contains(where: { event.action.contains($0) }) { continue }
                if let needle, !needle.isEmpty,
                   !(Self.likeContains(event.sourceBytes, needle) || Self.likeContains(event.dataBytes, needle)) { continue }
                matches.append(i)
            }
            let picked = pageIndices(count: matches.count, page: page, perPage: perPage,
                                     time: { events[matches[$0]].time }, index: { matches[$0] }, random: &requestRandom)
            rows = picked.map { events[$0].json }
        }
        return Self.listBody(key: "eventlogs", items: rows)
    }

    mutating func notificationPage(page: Int, perPage: Int, acknowledged: Bool?) -> [UInt8] {
        let matching = notifications.filter { acknowledged == nil || $0.acknowledged == acknowledged }
            .sorted { $0.time > $1.time }
        let picked = pageIndices(count: matching.count, page: page, perPage: perPage,
                                 time: { matching[$0].time }, index: { $0 }, random: &requestRandom)
        return Self.listBody(key: "notifications", items: picked.map { matching[$0].json })
    }

    func taskPage(page: Int, perPage: Int, type: String?) -> [UInt8] {
        let matching = tasks.filter { type == nil || $0.type == type }
            .sorted { ($0.time, $0.id) > ($1.time, $1.id) }
        let (offset, overflow) = (page - 1).multipliedReportingOverflow(by: perPage)
        guard !overflow, offset < matching.count else { return Self.listBody(key: "tasks", items: []) }
        let slice = matching[offset..<min(matching.count, offset + perPage)]
        return Self.listBody(key: "tasks", items: slice.map(\.json))
    }

    // MARK: - Dynamics

    /// Runs before an event-list request is answered.
    mutating func beforeEventList() {
        if dynamics.retentionPruning { prune() }
        for _ in 0..<dynamics.newEventsPerListRequest { insertNewEvent() }
        for _ in 0..<dynamics.loginUpsertsPerListRequest { forceLoginUpsert() }
    }

    mutating func beforeNotificationList() {
        if dynamics.retentionPruning { prune() }
        if dynamics.alertRewrites { rewriteAlert() }
        if dynamics.ackToggles { toggleAck() }
    }

    mutating func beforeTaskRequest() {
        if dynamics.taskProgress { advanceTasks() }
    }

    /// Inserts one event made now; a `user.login` that matches today's row is upserted instead, as box does.
    mutating func insertNewEvent() {
        let time = now
        let action = cast.randomAction(rng: &contentRandom)
        let content = cast.content(for: action, rng: &contentRandom, taskId: contentRandom.int(1...max(1, tasks.count)))
        if action == "user.login", let index = todaysLogin(source: content.source, time: time) {
            upsert(at: index, time: time, data: content.data)
            return
        }
        let record = EventRecord(id: contentRandom.uuid(), action: action, time: time, source: content.source, data: content.data)
        insert(record)
        eventHistory[record.id, default: []].append(StoredVersion(time: time, json: record.json))
        if let (title, message) = content.notification, contentRandom.chance(0.5) {
            addNotification(eventId: record.id, title: title, message: message, time: time)
        }
    }

    /// Upserts a random `user.login` row of today's date (box's rule: same action, same source, same
    /// day). Creates a login when today has none yet.
    mutating func forceLoginUpsert() {
        let time = now
        let today = CloudronTime.day(time)
        var candidates: [Int] = []
        var i = events.count - 1
        while i >= 0, CloudronTime.day(events[i].time) == today {
            if events[i].action == "user.login" { candidates.append(i) }
            i -= 1
        }
        let user = contentRandom.pick(cast.users)
        let data = cast.loginData(user: user)
        guard !candidates.isEmpty else {
            let record = EventRecord(id: contentRandom.uuid(), action: "user.login", time: time,
                                     source: cast.loginSource(rng: &contentRandom), data: data)
            insert(record)
            eventHistory[record.id, default: []].append(StoredVersion(time: time, json: record.json))
            return
        }
        upsert(at: contentRandom.pick(candidates), time: time, data: data)
    }

    private func todaysLogin(source: [UInt8], time: Int64) -> Int? {
        let today = CloudronTime.day(time)
        var i = events.count - 1
        while i >= 0, CloudronTime.day(events[i].time) == today {
            if events[i].action == "user.login", events[i].sourceBytes.elementsEqual(source) { return i }
            i -= 1
        }
        return nil
    }

    /// Rewrites the row in place (same id), moving it to its new place at the top.
    private mutating func upsert(at index: Int, time: Int64, data: [UInt8]) {
        let old = events.remove(at: index)
        if eventHistory[old.id] == nil { eventHistory[old.id] = [StoredVersion(time: old.time, json: old.json)] }
        let updated = old.upserted(time: time, data: data)
        insert(updated)
        eventHistory[old.id, default: []].append(StoredVersion(time: time, json: updated.json))
    }

    private mutating func insert(_ record: EventRecord) {
        if let last = events.last, last.time > record.time {
            var lo = 0, hi = events.count
            while lo < hi { let mid = (lo + hi) / 2; if events[mid].time <= record.time { lo = mid + 1 } else { hi = mid } }
            events.insert(record, at: lo)
        } else {
            events.append(record)
        }
    }

    // MARK: - An intruder with database access (not box)

    /// Deletes an event row outright, as someone covering their tracks in box's database would.
    mutating func tamperDelete(eventId: String) -> Bool {
        guard let index = events.firstIndex(where: { $0.id == eventId }) else { return false }
        events.remove(at: index)
        return true
    }

    /// Replaces an event's `data` in place (same id, same time): an edit box itself never makes except
    /// to a repeated login.
    mutating func tamperRewrite(eventId: String, data: [UInt8]) -> Bool {
        guard let index = events.firstIndex(where: { $0.id == eventId }) else { return false }
        let old = events[index]
        if eventHistory[old.id] == nil { eventHistory[old.id] = [StoredVersion(time: old.time, json: old.json)] }
        events[index] = old.upserted(time: old.time, data: data)
        eventHistory[old.id, default: []].append(StoredVersion(time: old.time, json: events[index].json))
        return true
    }

    /// Box's retention job: events older than `retentionDays` go, and the notifications that point at them.
    @discardableResult
    mutating func prune() -> Int {
        let cutoff = now - Int64(dynamics.retentionDays) * 86_400
        var count = 0
        while count < events.count, events[count].time < cutoff { count += 1 }
        guard count > 0 else { return 0 }
        var gone = Set<String>()
        for record in events[0..<count] {
            if eventHistory[record.id] == nil { eventHistory[record.id] = [StoredVersion(time: record.time, json: record.json)] }
            prunedEventIds.append(record.id)
            gone.insert(record.id)
        }
        events.removeFirst(count)
        notifications.removeAll { note in
            guard let eventId = note.eventId, gone.contains(eventId) else { return false }
            deletedNotificationIds.append(String(note.id))
            return true
        }
        return count
    }

    private mutating func addNotification(eventId: String?, title: String, message: String, time: Int64) {
        var note = NotificationRecord(id: nextNotificationId, eventId: eventId, title: title, message: message,
                                      time: time, acknowledged: false)
        nextNotificationId += 1
        note.serialize(legacyUserId: legacyUserId)
        notifications.append(note)
        notificationVersions[note.id] = [StoredVersion(time: time, json: note.json)]
    }

    private mutating func recordNotification(at index: Int) {
        notifications[index].serialize(legacyUserId: legacyUserId)
        notificationVersions[notifications[index].id, default: []]
            .append(StoredVersion(time: notifications[index].time, json: notifications[index].json))
    }

    mutating func rewriteAlert() {
        let alerts = notifications.indices.filter { notifications[$0].eventId == nil }
        guard !alerts.isEmpty else { return }
        let index = requestRandom.pick(alerts)
        notifications[index].time = now
        // Box rewrites an alert with `acknowledged = !message`: a cleared alert has an empty message.
        let cleared = requestRandom.chance(0.3)
        notifications[index].message = cleared ? ""
            : "\(notifications[index].title): checked again at \(CloudronTime.iso(now)), \"still\" an issue."
        notifications[index].acknowledged = notifications[index].message.isEmpty
        recordNotification(at: index)
    }

    mutating func toggleAck() {
        guard !notifications.isEmpty else { return }
        let index = requestRandom.int(0...notifications.count - 1)
        notifications[index].acknowledged.toggle()
        recordNotification(at: index)
    }

    /// Acknowledges (or un-acknowledges) as `POST /api/v1/notifications/{id}` does.
    mutating func setAcknowledged(id: Int, _ value: Bool) -> Bool {
        guard let index = notifications.firstIndex(where: { $0.id == id }) else { return false }
        if notifications[index].acknowledged != value {
            notifications[index].acknowledged = value
            recordNotification(at: index)
        }
        return true
    }

    mutating func advanceTasks() {
        let time = now
        for index in tasks.indices where tasks[index].isRunning {
            var task = tasks[index]
            if task.pending {
                task.pending = false; task.active = true; task.percent = 5; task.message = "Starting"
            } else {
                task.percent = min(100, task.percent + 25)
                task.message = "Step at \(task.percent)%: copying \"files\", ünïcode ✓"
            }
            task.ts = max(task.ts + 1, time)
            if task.percent >= 100 {
                task.active = false
                if task.failsWhenDone {
                    task.success = false; task.errorMessage = "Task crashed: exit code 1"; task.errorCode = "crashed"
                    task.message = "Failed"
                } else {
                    task.success = true; task.message = "Done"
                    task.resultJSON = "{\"backupId\":\"\(20_260_000 + task.id)-box\",\"warnings\":[]}"
                }
            }
            task.serialize(legacy: legacy2019)
            taskVersions[task.id, default: []].append(StoredVersion(time: task.ts, json: task.json))
            tasks[index] = task
        }
    }

    // MARK: - Task logs

    /// Synthetic log lines for a task; empty once the log would have been rotated (7 days).
    func taskLog(_ task: TaskRecord, lines: Int, json: Bool) -> [UInt8] {
        guard now - task.time <= 7 * 86_400 else { return [] }
        let total = task.isRunning ? max(1, task.percent / 10) : 5 + task.id % 20
        var messages: [(Int64, String)] = []
        for i in 0..<total {
            let micros = task.time * 1_000_000 + Int64(i) * 137_000 + Int64(task.id * 7919 % 1000)
            var message = "box:tasks \(task.type) step \(i + 1)/\(total): processing \"item, \(i)\" — ünïcode ✓"
            if i == total - 1, let error = task.errorMessage { message = "box:tasks error: \(error)" }
            if i == 1 { message += "\n  continued line" }
            messages.append((micros, message))
        }
        // Box's log reader turns every physical line of the file into one object, taking the text up to
        // the first space for the timestamp: a message that contained a newline continues on lines with
        // timestamp 0 that lose their first word (or, indented, their first space).
        var physical: [(Int64, String)] = []
        for (micros, message) in messages {
            for (index, line) in message.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let rest = line.firstIndex(of: " ").map { String(line[line.index(after: $0)...]) } ?? ""
                physical.append(index == 0 ? (micros, String(line)) : (0, rest))
            }
        }
        let selected = lines < 0 ? physical[...] : physical.suffix(lines)
        var out = JSONText(capacity: 200 * selected.count)
        for (micros, message) in selected {
            if json {
                out.raw("{"); out.field("realtimeTimestamp", int: Int(micros), first: true)
                out.field("message", message); out.field("source", String(task.id)); out.raw("}\n")
            } else {
                let seconds = micros / 1_000_000
                out.raw(CloudronTime.iso(seconds, millis: Int(micros / 1000 % 1000)) + " " + message + "\n")
            }
        }
        return out.bytes
    }
}

/// A request the server refuses, with box's status and message.
enum RequestError: Error {
    case badRequest(String)
    case notFound(String)
}
