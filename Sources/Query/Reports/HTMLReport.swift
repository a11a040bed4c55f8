import Archiver
import Foundation

/// `report --all --html`: `DIR/index.html`, the bundle as a document a person reads: one self-contained
/// file (inline CSS and SVG, nothing fetched, no script), readable offline and printable (`--pdf`).
///
/// It is written after `manifest.json`, from the same read session (one snapshot), running the same
/// report queries into `ReportDigest`, which renders cells exactly as the CSV writer does; each table
/// links the files of its report and each chart's marks carry their figures as `data-*` attributes.
public struct HTMLReport {
    public static let fileName = "index.html"
    /// Rows of each report shown in its table (the files hold them all).
    static let tableRows = 25
    /// Items of the user-changes list.
    static let changeItems = 200

    let export: ReportExport
    let manifest: ReportManifest
    let manifestSHA256: String
    let generatedAt: Int64

    /// Writes `directory/index.html` for a bundle `export` has just written (its manifest included).
    @discardableResult
    public static func write(export: ReportExport, manifest: ReportManifest, session: ReadSession,
                             directory: String, now: Int64) throws -> String {
        let folder = directory as NSString
        let page = HTMLReport(export: export, manifest: manifest,
                              manifestSHA256: try ReportExport.sha256(ofFile: folder.appendingPathComponent("manifest.json")),
                              generatedAt: now)
        let html = try page.render(session: session)
        let path = folder.appendingPathComponent(fileName)
        try AtomicOutputFile.write(to: path) { sink in try sink.write(html) }
        return path
    }

    // MARK: Gathering

    private struct Section {
        var entry: ReportManifest.ReportEntry
        var report: Report
        var digest: ReportDigest
    }

    private func run(_ report: Report, summary: Bool, parameters: [String: String] = [:], session: ReadSession,
                     consume: @escaping ([String: ReportDigest.Value]) -> Void = { _ in }) throws -> ReportDigest {
        let query = try ReportQuery(report: report, validatedFilter: export.filter, summary: summary, parameters: parameters)
        var digest = ReportDigest(keptRows: Self.tableRows, times: TimestampFormatter(zone: export.zone), consume: consume)
        _ = try query.run(on: session, into: &digest)
        return digest
    }

    func render(session: ReadSession) throws -> String {
        let reports = Dictionary(export.reports.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        // Charts first: logins needs its summary's new IPs before its rows, every one of them (the file lists ten).
        let logins = LoginTally()
        if let report = reports["logins"], report.summary != nil {
            _ = try run(report, summary: true, parameters: LoginTally.summaryParameters, session: session) { logins.learnNewIPs($0) }
            _ = try run(report, summary: false, session: session) { logins.consume($0) }
        }
        let backups = BackupTally()
        if let report = reports["backups"] { _ = try run(report, summary: false, session: session) { backups.consume($0) } }
        let oom = OOMTally()
        if let report = reports["oom"] { _ = try run(report, summary: false, session: session) { oom.consume($0) } }
        let outages = OutageList()
        if let report = reports["app-availability"] { _ = try run(report, summary: false, session: session) { outages.consume($0) } }
        let changes = ChangeList(limit: Self.changeItems)
        if let report = reports["user-changes"] { _ = try run(report, summary: false, session: session) { changes.consume($0) } }

        var sections: [Section] = []
        for entry in manifest.reports {
            let baseName = entry.summary ? String(entry.name.dropLast("-summary".count)) : entry.name
            guard let report = reports[baseName] else { continue }
            sections.append(Section(entry: entry, report: report, digest: try run(report, summary: entry.summary, session: session)))
        }
        var instances: [(String, String)] = []
        try session.forEachRow("SELECT name, base_url FROM instances ORDER BY name") { row in
            instances.append((row.string(at: 0), row.string(at: 1)))
        }
        if let only = manifest.window.instance { instances = instances.filter { $0.0 == only } }
        // Every alarm of the servers shown, whenever noticed: a deletion is evidence about the whole log.
        let alarms = try session.alarms().filter { alarm in instances.contains { $0.0 == alarm.instance } }

        var page = Self.head(title: "Audit report — " + (instances.map(\.0).joined(separator: ", ")))
        page += header(instances: instances, alarms: alarms)
        page += "<section class=\"charts\"><h2>At a glance</h2>"
        page += figure("logins", "Logins per day", note: "Orange: logins from an IP new for that user (the first from each such IP); a dot marks the days with any.",
                       logins.chart(), source: "logins")
        page += figure("backups", "Backups per day", note: nil, backups.chart(), source: "backups")
        page += figure("oom", "Out-of-memory kills by app", note: nil, oom.chart(), source: "oom")
        page += figure("downtime", "App downtime", note: "Red: down until the app came back; grey: still down at the end of the window.",
                       outages.chart(start: export.filter.since, end: export.filter.until ?? generatedAt, times: TimestampFormatter(zone: export.zone)),
                       source: "app-availability")
        page += figure("user-changes", "User and role changes", note: nil, changes.list(), source: "user-changes")
        page += "</section><section class=\"reports\"><h2>Reports</h2>"
        for section in sections { page += table(section) }
        page += "</section><footer>Generated by cloudron-audit \(HTML.escape(manifest.toolVersion)) at \(HTML.escape(manifest.generatedAt)). "
        page += "Every figure comes from the CSV and JSON files beside this page, listed with their SHA-256 in manifest.json.</footer>"
        return page + "</main></body></html>\n"
    }

    // MARK: Page parts

    private static func head(title: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTML.escape(title))</title>
        <style>\(stylesheet)</style></head><body><main>

        """
    }

    private func header(instances: [(String, String)], alarms: [SourceAlarm]) -> String {
        var out = "<header><h1>Audit report</h1>"
        if !alarms.isEmpty {
            out += "<div class=\"alert\" id=\"alarms\"><strong>\(alarms.count) source-tamper alarm(s):</strong> archived events were deleted or rewritten on the server, which box never does by itself. The archive kept what the server first served.<ul>"
            for alarm in alarms {
                out += "<li class=\"alarm\" data-kind=\"\(HTML.escape(alarm.kind.rawValue))\" data-id=\"\(HTML.escape(alarm.id))\">"
                out += "\(HTML.escape(alarm.kind.rawValue)): \(HTML.escape(alarm.instance)) \(HTML.escape(alarm.stream)) id \(HTML.escape(alarm.id)) — \(HTML.escape(alarm.detail))</li>"
            }
            out += "</ul></div>"
        }
        out += "<dl class=\"facts\">"
        let servers = instances.map { "\(HTML.escape($0.0)) <span class=\"muted\">(\(HTML.escape($0.1)))</span>" }.joined(separator: ", ")
        out += "<dt>Servers</dt><dd id=\"servers\">\(servers.isEmpty ? "none" : servers)</dd>"
        let since = manifest.window.since ?? "the beginning", until = manifest.window.until ?? "now (\(manifest.generatedAt))"
        out += "<dt>Window</dt><dd id=\"window\">\(HTML.escape(since)) → \(HTML.escape(until)) <span class=\"muted\">(\(HTML.escape(manifest.timeZone)))</span></dd>"
        out += "<dt>Coverage</dt><dd id=\"coverage\">"
        if manifest.coverage.isEmpty { out += "none recorded in this window" }
        out += manifest.coverage.map {
            "<span class=\"range\" data-instance=\"\(HTML.escape($0.instance))\" data-stream=\"\(HTML.escape($0.stream))\">\(HTML.escape($0.instance)) \(HTML.escape($0.stream)): \(HTML.escape($0.from)) → \(HTML.escape($0.to))</span>"
        }.joined(separator: "<br>")
        out += "</dd><dt>Tool</dt><dd>cloudron-audit \(HTML.escape(manifest.toolVersion))</dd>"
        out += "<dt>manifest.json SHA-256</dt><dd><code id=\"manifest-sha256\">\(manifestSHA256)</code></dd></dl>"
        if !manifest.gaps.isEmpty {
            out += "<div class=\"alert\" id=\"gaps\"><strong>\(manifest.gaps.count) gap(s) in this window:</strong> the server pruned these events before they were archived; reports cannot show them.<ul>"
            for gap in manifest.gaps {
                out += "<li class=\"gap\" data-instance=\"\(HTML.escape(gap.instance))\" data-from=\"\(HTML.escape(gap.from))\" data-to=\"\(HTML.escape(gap.to))\">"
                out += "\(HTML.escape(gap.instance)) \(HTML.escape(gap.stream)): \(HTML.escape(gap.from)) → \(HTML.escape(gap.to))"
                if let reason = gap.reason { out += " — \(HTML.escape(reason))" }
                out += "</li>"
            }
            out += "</ul></div>"
        } else {
            out += "<p class=\"ok\" id=\"no-gaps\">No gaps recorded in this window.</p>"
        }
        return out + "</header>"
    }

    private func figure(_ id: String, _ title: String, note: String?, _ body: String, source: String) -> String {
        var out = "<figure id=\"figure-\(id)\"><figcaption><h3>\(HTML.escape(title))</h3>"
        if let note { out += "<p class=\"muted\">\(HTML.escape(note))</p>" }
        out += "</figcaption>\(body)<p class=\"source\">From <a href=\"#report-\(HTML.escape(source))\">\(HTML.escape(source))</a>.</p></figure>"
        return out
    }

    private func table(_ section: Section) -> String {
        let entry = section.entry
        let rows = entry.files.first?.rows ?? section.digest.rowCount
        var out = "<article class=\"report\" id=\"report-\(HTML.escape(entry.name))\"><h3>\(HTML.escape(entry.title))"
        if entry.summary { out += " <span class=\"muted\">(summary)</span>" }
        out += "</h3><p class=\"muted\">\(HTML.escape(entry.summary ? "" : section.report.description))</p><p class=\"files\">\(rows) row(s)"
        for file in entry.files { out += " · <a href=\"\(HTML.escape(file.file))\">\(HTML.escape(file.file))</a>" }
        out += "</p>"
        guard section.digest.rowCount > 0 else { return out + "<p class=\"empty\">No rows in this window.</p></article>" }
        out += "<div class=\"scroll\"><table data-report=\"\(HTML.escape(entry.name))\" data-rows=\"\(section.digest.rowCount)\"><thead><tr>"
        for column in section.digest.columns { out += "<th>\(HTML.escape(column))</th>" }
        out += "</tr></thead><tbody>"
        for row in section.digest.firstRows {
            out += "<tr>"
            for value in row {
                // Times and short words stay on one line; long values (ids, JSON) wrap anywhere.
                out += value.text.map { "<td\(value.epoch != nil || $0.count <= 16 ? " class=\"nowrap\"" : "")>\(HTML.escape($0))</td>" }
                    ?? "<td class=\"null\"></td>"
            }
            out += "</tr>"
        }
        out += "</tbody></table></div>"
        if section.digest.rowCount > section.digest.firstRows.count {
            out += "<p class=\"more\">First \(section.digest.firstRows.count) of \(section.digest.rowCount) rows; all of them are in the files above.</p>"
        }
        return out + "</article>"
    }

    private static let stylesheet = """
        :root{--ink:#1d2433;--muted:#5b6475;--line:#dde2ea;--a:#2f6fde;--b:#9cc0f5;--ok:#2e8b57;--bad:#c8372d;--grey:#9aa3b2}
        *{box-sizing:border-box}body{margin:0;font:14px/1.45 "DejaVu Sans",system-ui,sans-serif;color:var(--ink);background:#fff}
        main{max-width:1040px;margin:0 auto;padding:28px 32px}h1{margin:0 0 12px;font-size:26px}h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid var(--ink);padding-bottom:4px}
        h3{font-size:15px;margin:0 0 2px}.muted{color:var(--muted);font-size:12px;margin:2px 0}
        dl.facts{display:grid;grid-template-columns:190px 1fr;gap:4px 12px;margin:0 0 12px}dt{font-weight:bold}dd{margin:0}code{font-size:12px;word-break:break-all}
        .alert{border:2px solid var(--bad);background:#fdeceb;color:#7a1710;padding:10px 14px;border-radius:6px;margin:10px 0}.alert ul{margin:6px 0 0 18px;padding:0}
        .ok{color:var(--ok);font-weight:bold}figure{margin:18px 0;break-inside:avoid}svg.chart{width:100%;height:auto;display:block}
        .grid{stroke:var(--line);stroke-width:1}.tick,.label,.legend,.value{font-size:11px;fill:var(--muted)}.value{fill:var(--ink)}
        .series-a{fill:var(--a)}.series-b{fill:var(--b)}.series-new{fill:#f0a020}.series-ok{fill:var(--ok)}.series-bad{fill:var(--bad)}.series-grey,.series-open{fill:var(--grey)}.series-down{fill:var(--bad)}
        .lane{fill:#f5f7fa}.mark{fill:#f0a020;stroke:#fff;stroke-width:1}.source{font-size:12px;color:var(--muted);margin:4px 0 0}
        ul.changes{list-style:none;margin:0;padding:0;font-size:13px}ul.changes li{padding:3px 0;border-bottom:1px solid var(--line)}ul.changes li.flagged{background:#fff5e0}
        .tag{display:inline-block;font-size:11px;padding:0 6px;border-radius:8px;background:#eef1f6;margin-left:6px}.flagged .tag.flag{background:#f0a020;color:#fff}
        article.report{margin:22px 0;break-inside:auto}.files{font-size:12px;margin:2px 0 6px}.scroll{overflow-x:auto}
        table{border-collapse:collapse;font-size:11px;width:100%}th,td{border-bottom:1px solid var(--line);padding:3px 5px;text-align:left;vertical-align:top;max-width:240px;min-width:3.5em;overflow-wrap:anywhere}
        th{background:#f1f4f8;font-weight:bold;white-space:nowrap}td.nowrap{white-space:nowrap}tr{break-inside:avoid}td.null{background:#fafbfc}.more,.empty{font-size:12px;color:var(--muted)}
        footer{margin-top:36px;font-size:12px;color:var(--muted);border-top:1px solid var(--line);padding-top:8px}a{color:var(--a)}
        @page{size:A4;margin:14mm}@media print{main{padding:0;max-width:none}.scroll{overflow:visible}a{color:inherit;text-decoration:none}}
        """
}

// MARK: Chart tallies (each reads one report's rows, as the CSV has them)

/// Logins per day (user.login, app.login, user.login.ghost; not logouts), and how many of them came from
/// an IP that `logins --summary` lists as new for that user (the first login from each such IP).
final class LoginTally {
    private var newIPs: [String: Set<String>] = [:]
    private var counted = Set<String>()
    private var days: [(day: String, logins: Int, newIP: Int)] = []

    private static func key(_ row: [String: ReportDigest.Value]) -> String {
        (row["instance"]?.text ?? "") + "\u{1F}" + (row["user"]?.text ?? "")
    }

    /// The summary run that lists every new IP of a user instead of ten and a count.
    static let summaryParameters = ["ips": "0"]

    /// Takes the IPs a summary row lists as new; its markers ("unknown" where the archive cannot tell, a
    /// "(+N more)" count) name no IP and count as none.
    func learnNewIPs(_ row: [String: ReportDigest.Value]) {
        let ips = (row["newIPs"]?.text ?? "").split(separator: " ").map(String.init).filter(Self.isIPAddress)
        if !ips.isEmpty { newIPs[Self.key(row), default: []].formUnion(ips) }
    }

    private static func isIPAddress(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET, text, &address) == 1 || inet_pton(AF_INET6, text, &address) == 1
    }

    func consume(_ row: [String: ReportDigest.Value]) {
        guard row["action"]?.text != "user.logout", let time = row["time"]?.text else { return }
        let day = String(time.prefix(10))
        let key = Self.key(row)
        var isNew = false
        if let ip = row["ip"]?.text, newIPs[key]?.contains(ip) == true, counted.insert(key + "\u{1F}" + ip).inserted { isNew = true }
        if days.last?.day != day { days.append((day, 0, 0)) }
        days[days.count - 1].logins += 1
        if isNew { days[days.count - 1].newIP += 1 }
    }

    func chart() -> String {
        let bars = mergedDays(days.map { ($0.day, [$0.logins, $0.newIP]) }).map { day, counts in
            SVGChart.Bar(label: String(day.dropFirst(5)), segments: [(counts[0] - counts[1], "series-a"), (counts[1], "series-new")],
                         attributes: [("data-day", day), ("data-logins", String(counts[0])), ("data-new-ip-logins", String(counts[1]))],
                         title: "\(day): \(counts[0]) login(s), \(counts[1]) from a new IP", marked: counts[1] > 0)
        }
        return SVGChart.columns(id: "chart-logins", bars: bars, legend: [("logins", "series-a"), ("from an IP new for the user", "series-new")])
    }
}

/// Full and app backups per day of their start: succeeded, failed, unfinished.
final class BackupTally {
    private var days: [(String, [Int])] = []

    func consume(_ row: [String: ReportDigest.Value]) {
        guard let started = row["started"]?.text else { return }
        let index = ["success": 0, "failed": 1][row["result"]?.text ?? ""] ?? 2
        var counts = [0, 0, 0]
        counts[index] = 1
        days.append((String(started.prefix(10)), counts))
    }

    func chart() -> String {
        let bars = mergedDays(days).map { day, counts in
            SVGChart.Bar(label: String(day.dropFirst(5)),
                         segments: [(counts[0], "series-ok"), (counts[1], "series-bad"), (counts[2], "series-grey")],
                         attributes: [("data-day", day), ("data-success", String(counts[0])), ("data-failed", String(counts[1])),
                                      ("data-unfinished", String(counts[2]))],
                         title: "\(day): \(counts[0]) succeeded, \(counts[1]) failed, \(counts[2]) unfinished")
        }
        return SVGChart.columns(id: "chart-backups", bars: bars,
                                legend: [("succeeded", "series-ok"), ("failed", "series-bad"), ("unfinished", "series-grey")])
    }
}

/// Days in order with their counts summed (rows arrive in time order, but a zone's day can recur when
/// rows are ordered by UTC instant across a DST change: merge rather than assume).
private func mergedDays(_ days: [(String, [Int])]) -> [(String, [Int])] {
    var order: [String] = []
    var sums: [String: [Int]] = [:]
    for (day, counts) in days {
        if let existing = sums[day] {
            sums[day] = zip(existing, counts).map(+)
        } else {
            order.append(day)
            sums[day] = counts
        }
    }
    return order.sorted().map { ($0, sums[$0] ?? []) }
}

/// OOM kills per victim (an app's or addon's name), most first.
final class OOMTally {
    private var counts: [String: (kind: String, count: Int)] = [:]

    func consume(_ row: [String: ReportDigest.Value]) {
        let victim = row["victim"]?.text ?? "(unknown)"
        counts[victim, default: (row["kind"]?.text ?? "", 0)].count += 1
    }

    func chart() -> String {
        let sorted = counts.sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }
        let bars = sorted.map { victim, value in
            SVGChart.Bar(label: "\(victim) (\(value.kind))", segments: [(value.count, value.kind == "addon" ? "series-b" : "series-a")],
                         attributes: [("data-victim", victim), ("data-kind", value.kind), ("data-count", String(value.count))],
                         title: "\(victim): \(value.count) OOM kill(s)")
        }
        return SVGChart.rows(id: "chart-oom", bars: bars)
    }
}

/// Outages (app.down to app.up) per app, as spans on a timeline.
final class OutageList {
    private var spans: [(lane: String, row: [String: ReportDigest.Value])] = []

    func consume(_ row: [String: ReportDigest.Value]) {
        guard row["down"]?.epoch != nil else { return }
        let lane = [row["app"]?.text, row["instance"]?.text].compactMap { $0 }.joined(separator: " · ")
        spans.append((lane, row))
    }

    func chart(start: Int64?, end: Int64, times: TimestampFormatter) -> String {
        guard !spans.isEmpty else { return SVGChart.timeline(id: "chart-downtime", spans: [], start: 0, end: 0, axis: []) }
        let first: Int64 = start ?? spans.compactMap { $0.row["down"]?.epoch }.min() ?? end
        let last: Int64 = max(end, spans.compactMap { $0.row["up"]?.epoch }.max() ?? end)
        var times = times
        var axis: [(Int64, String)] = []
        let step: Int64 = max(3600, (last - first) / 6)
        var epoch = first
        while epoch <= last {
            axis.append((epoch, String(times.string(from: epoch).prefix(16)).replacingOccurrences(of: "T", with: " ")))
            epoch += step
        }
        let drawn = spans.sorted { $0.lane < $1.lane }.map { lane, row in
            let down = row["down"]?.epoch ?? first
            let isOpen = row["up"]?.epoch == nil
            let downText = row["down"]?.text ?? "", upText = row["up"]?.text ?? ""
            return SVGChart.Span(lane: lane, from: down, to: row["up"]?.epoch ?? last, open: isOpen,
                                 attributes: [("data-app", row["app"]?.text ?? ""), ("data-down", downText), ("data-up", upText),
                                              ("data-seconds", row["seconds"]?.text ?? "")],
                                 title: "\(lane): down \(downText) → \(isOpen ? "still down" : upText)"
                                     + (row["seconds"]?.text.map { " (\($0) s)" } ?? ""))
        }
        return SVGChart.timeline(id: "chart-downtime", spans: drawn, start: first, end: last, axis: axis)
    }
}

/// User additions, updates and removals as a list, role changes flagged.
final class ChangeList {
    private let limit: Int
    private var items: [[String: ReportDigest.Value]] = []
    private var total = 0

    init(limit: Int) { self.limit = limit }

    func consume(_ row: [String: ReportDigest.Value]) {
        total += 1
        if items.count < limit { items.append(row) }
    }

    func list() -> String {
        guard !items.isEmpty else { return "<p id=\"list-user-changes\" class=\"empty\">Nothing in this window.</p>" }
        var out = "<ul class=\"changes\" id=\"list-user-changes\" data-total=\"\(total)\">"
        for row in items {
            let text = { (name: String) in row[name]?.text ?? "" }
            let flag = text("flag")
            out += "<li class=\"change\(flag.isEmpty ? "" : " flagged")\" data-time=\"\(HTML.escape(text("time")))\" data-action=\"\(HTML.escape(text("action")))\" data-username=\"\(HTML.escape(text("username")))\" data-flag=\"\(HTML.escape(flag))\">"
            out += "<span class=\"muted\">\(HTML.escape(text("time")))</span> <strong>\(HTML.escape(text("action")))</strong> "
            out += "\(HTML.escape(text("username").isEmpty ? text("userId") : text("username"))) by \(HTML.escape(text("actor").isEmpty ? "?" : text("actor")))"
            if !text("changed").isEmpty { out += "<span class=\"tag\">\(HTML.escape(text("changed")))</span>" }
            if !flag.isEmpty { out += "<span class=\"tag flag\">\(HTML.escape(flag))</span>" }
            out += "</li>"
        }
        if total > items.count { out += "<li class=\"more\">… \(total - items.count) more in user-changes.csv</li>" }
        return out + "</ul>"
    }
}
