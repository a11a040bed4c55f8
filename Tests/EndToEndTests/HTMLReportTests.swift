import Foundation
import Testing

/// Issue 14 part 1: `report --all --html --pdf`, rendered in a real browser (headless Chromium, which
/// `make test` installs). The figures are read back from the DOM Chromium built and compared, by Python,
/// with the CSV files of the same bundle; Chromium's network log shows whether the page fetched anything.
@Suite("the HTML report in a real browser", .serialized)
struct HTMLReportTests {
    static func chromium() throws -> String {
        for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw TestFailure("Chromium is not installed: run 'make test' (it installs Debian's chromium) or apt-get install chromium")
    }

    /// Runs headless Chromium on a file with extra arguments; returns stdout. Its own background traffic
    /// (updates, time) is switched off where flags allow; the network check below tells it apart anyway.
    static func browse(_ page: String, _ arguments: [String], in folder: ScratchFolder) async throws -> String {
        let process = Process()
        // Niced: Chromium's processes would otherwise take both cores from the tests running beside it
        // (the in-process simulators' 10 s start timeouts fired while it rendered).
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nice")
        process.arguments = ["-n", "15", try chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
                             "--disable-background-networking", "--disable-component-update", "--hide-scrollbars",
                             "--user-data-dir=\(folder.file("chromium-profile-\(UUID().uuidString)"))"]
            + arguments + [URL(fileURLWithPath: page).absoluteString]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let collected = OutputCollector(out: out, err: err)
        try await ChildProcess.run(process)
        let (stdout, stderr) = await collected.finish()
        guard process.terminationStatus == 0 else { throw TestFailure("chromium exited \(process.terminationStatus): \(stderr)") }
        return stdout
    }

    static func python(_ script: String, _ arguments: [String]) async throws -> CommandResult {
        var command = Command([], environment: [:])
        command.executable = "/usr/bin/env"
        command.arguments = ["python3", "-c", script] + arguments
        return try await command.run()
    }

    /// The requests a page made, from Chromium's NetLog: URL requests whose isolation key is the page's
    /// file:// origin (Chromium's own traffic has another key), other than file: and data: URLs.
    static let pageRequests = #"""
    import json, sys
    log = json.load(open(sys.argv[1]))
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    for event in log["events"]:
        params = event.get("params", {})
        if names.get(event["type"]) == "URL_REQUEST_START_JOB" and "file://" in params.get("network_isolation_key", ""):
            if not params.get("url", "").startswith(("file:", "data:")):
                print(params["url"])
    """#

    /// Every figure of the page (from the DOM Chromium built) against the CSV files it comes from.
    static let figuresMatchCSV = #"""
    import csv, hashlib, ipaddress, json, os, re, sys
    from collections import OrderedDict, defaultdict
    from html.parser import HTMLParser
    bundle, dom_path = sys.argv[1], sys.argv[2]
    # Optional: `report logins --summary --ips 0` as CSV, every new IP of each user (the bundle lists ten and a count).
    every_new_ip = sys.argv[3] if len(sys.argv) > 3 else None
    problems = []
    def check(what, got, expected):
        if got != expected:
            problems.append(f"{what}: page has {got!r}, CSV says {expected!r}")
    def unguard(text):
        return text[1:] if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@", "\t", "\r") else text
    def rows(name):
        path = os.path.join(bundle, name + ".csv")
        if not os.path.exists(path): return [], []
        with open(path, newline="", encoding="utf-8") as f:
            data = list(csv.reader(f))
        header = [unguard(c) for c in data[0]]
        return header, [dict(zip(header, [unguard(c) for c in r])) for r in data[1:]]

    class DOM(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.elements, self.stack, self.tables, self.table, self.cell = [], [], {}, None, None
        def handle_starttag(self, tag, attrs):
            a = dict(attrs); a["_tag"] = tag
            a["_in"] = [s.get("id") for s in self.stack if s.get("id")]
            self.elements.append(a)
            if tag not in ("br", "meta", "img", "input", "link", "hr"): self.stack.append(a)
            if tag == "table": self.table = {"name": a.get("data-report"), "rows": a.get("data-rows"), "head": [], "body": []}
            if tag == "tr" and self.table is not None: self.table["body"].append([])
            if tag in ("td", "th") and self.table is not None: self.cell = [tag, ""]
        def handle_endtag(self, tag):
            if any(s["_tag"] == tag for s in self.stack):
                while self.stack.pop()["_tag"] != tag: pass
            if tag in ("td", "th") and self.cell is not None and self.table is not None:
                kind, text = self.cell
                if kind == "th": self.table["head"].append(text)
                else: self.table["body"][-1].append(text)
                self.cell = None
            if tag == "table" and self.table is not None:
                self.table["body"] = [r for r in self.table["body"] if r]
                self.tables[self.table["name"]] = self.table; self.table = None
        def handle_data(self, data):
            if self.cell is not None: self.cell[1] += data
            if self.stack and self.stack[-1].get("id") == "manifest-sha256": self.stack[-1]["_text"] = data
    dom = DOM(); dom.feed(open(dom_path, encoding="utf-8").read())
    def marks(chart, tag="g"):
        return [e for e in dom.elements if e["_tag"] == tag and chart in e["_in"] and any(k.startswith("data-") for k in e)]

    # Header: the manifest's SHA-256.
    sha = [e for e in dom.elements if e.get("id") == "manifest-sha256"]
    check("manifest sha256", sha[0].get("_text") if sha else None, hashlib.sha256(open(os.path.join(bundle, "manifest.json"), "rb").read()).hexdigest())
    manifest = json.load(open(os.path.join(bundle, "manifest.json")))
    check("gap items", len([e for e in dom.elements if e["_tag"] == "li" and "gap" in e.get("class", "").split()]), len(manifest["gaps"]))

    # Logins per day; a login is from a new IP when logins-summary lists the IP as new for that user and
    # it is that user's first login from it. A newIPs cell's markers are no IPs: "unknown" (the archive cannot
    # tell) and "(+N more)", N new IPs beyond those listed.
    def new_ips(cell):
        listed = []
        for word in cell.split():
            try: listed.append(str(ipaddress.ip_address(word)))
            except ValueError: pass
        more = re.search(r"\(\+(\d+) more\)$", cell)
        return listed, int(more.group(1)) if more else 0
    _, summary = rows("logins-summary")
    new_in_all = sum(len(listed) + more for listed, more in (new_ips(r["newIPs"]) for r in summary))
    if every_new_ip:
        with open(every_new_ip, newline="", encoding="utf-8") as f: every = list(csv.DictReader(f))
        check("logins-summary with every new IP, rows", len(every), len(summary))
        summary = every
    new = defaultdict(set)
    for r in summary:
        listed, more = new_ips(r["newIPs"])
        if more: problems.append(f"{r['user']}: new IPs capped, the day of each cannot be checked: {r['newIPs']}")
        new[(r["instance"], r["user"])].update(listed)
    _, logins = rows("logins")
    days, counted = OrderedDict(), set()
    for r in logins:
        if r["action"] == "user.logout": continue
        day = r["time"][:10]; key = (r["instance"], r["user"])
        d = days.setdefault(day, [0, 0]); d[0] += 1
        if r["ip"] in new[key] and (key, r["ip"]) not in counted:
            counted.add((key, r["ip"])); d[1] += 1
    got = {m["data-day"]: [int(m["data-logins"]), int(m["data-new-ip-logins"])] for m in marks("chart-logins")}
    check("logins per day", got, dict(days))
    check("logins from a new IP, in all", sum(new for _, new in got.values()), new_in_all)

    _, backups = rows("backups")
    expected = defaultdict(lambda: [0, 0, 0])
    for r in backups:
        expected[r["started"][:10]][{"success": 0, "failed": 1}.get(r["result"], 2)] += 1
    got = {m["data-day"]: [int(m["data-success"]), int(m["data-failed"]), int(m["data-unfinished"])] for m in marks("chart-backups")}
    check("backups per day", got, dict(expected))

    _, oom = rows("oom")
    expected = defaultdict(int)
    for r in oom: expected[r["victim"]] += 1
    got = {m["data-victim"]: int(m["data-count"]) for m in marks("chart-oom")}
    check("OOM kills by victim", got, dict(expected))

    _, outages = rows("app-availability")
    expected = sorted((r["app"], r["down"], r["up"], r["seconds"]) for r in outages)
    got = sorted((m["data-app"], m["data-down"], m["data-up"], m["data-seconds"]) for m in marks("chart-downtime"))
    check("outages", got, expected)

    _, changes = rows("user-changes")
    items = [e for e in dom.elements if e["_tag"] == "li" and "change" in e.get("class", "").split()]
    check("user changes", [(e["data-time"], e["data-action"], e["data-username"], e["data-flag"]) for e in items],
          [(r["time"], r["action"], r["username"], r["flag"]) for r in changes[:200]])
    listing = [e for e in dom.elements if e.get("id") == "list-user-changes"]
    if changes: check("user changes total", listing[0].get("data-total") if listing else None, str(len(changes)))

    # Every report's table: its row count, its columns, and its first rows cell by cell.
    for entry in manifest["reports"]:
        header, data = rows(entry["name"])
        table = dom.tables.get(entry["name"])
        if not data:
            check(f"table {entry['name']}", table is None, True); continue
        if table is None:
            problems.append(f"no table for {entry['name']}"); continue
        check(f"{entry['name']} rows", table["rows"], str(len(data)))
        check(f"{entry['name']} columns", table["head"], header)
        check(f"{entry['name']} first rows", table["body"], [[r[c] for c in header] for r in data[:len(table["body"])]])
        check(f"{entry['name']} shown rows", len(table["body"]), min(25, len(data)))
    if not days or not backups or not oom or not outages or not changes:
        problems.append("the demo archive should give every chart some data")
    print("\n".join(problems) if problems else "figures match")
    sys.exit(1 if problems else 0)
    """#

    @Test("report --all --html --pdf: figures equal the CSVs in Chromium's DOM, no network request, a screenshot, a PDF with pages")
    func pageInARealBrowser() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try await makeDemoArchive(in: folder, events: 3000)
        let bundle = folder.file("bundle")
        // Niced, as every Chromium here: the Chromium that --pdf starts inherits it.
        var command = Command(["report", "--all", "--db", db, "--output-dir", bundle, "--html", "--pdf"],
                              environment: ["PATH": "/usr/bin:/bin"])
        command.arguments = ["-n", "15", command.executable] + command.arguments
        command.executable = "/usr/bin/nice"
        let report = try await command.run()
        #expect(report.status == 0, "\(report.stderr)")
        let page = bundle + "/index.html"
        #expect(FileSafetyTests.mode(page) == 0o600)

        // The DOM as Chromium built it, with the network log of that load.
        let netLog = folder.file("netlog.json")
        let dom = try await Self.browse(page, ["--log-net-log=\(netLog)", "--net-log-capture-mode=Everything", "--dump-dom"], in: folder)
        let domPath = folder.file("dom.html")
        try dom.write(toFile: domPath, atomically: true, encoding: .utf8)
        let figures = try await Self.python(Self.figuresMatchCSV, [bundle, domPath])
        #expect(figures.status == 0, "\(figures.stdout)\(figures.stderr)")
        let requests = try await Self.python(Self.pageRequests, [netLog])
        #expect(requests.status == 0, "\(requests.stderr)")
        #expect(requests.stdout.isEmpty, "the page made network requests: \(requests.stdout)")

        // The check can see a request: a page that loads an image from the network shows up.
        let control = folder.file("control.html")
        try #"<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/probe.png"></body></html>"#
            .write(toFile: control, atomically: true, encoding: .utf8)
        let controlLog = folder.file("control-netlog.json")
        _ = try await Self.browse(control, ["--log-net-log=\(controlLog)", "--net-log-capture-mode=Everything", "--dump-dom"], in: folder)
        #expect(try await Self.python(Self.pageRequests, [controlLog]).stdout.contains("http://127.0.0.1:9/probe.png"))

        // A screenshot: a PNG of the window's size.
        let screenshot = folder.file("screenshot.png")
        _ = try await Self.browse(page, ["--window-size=1280,2000", "--screenshot=\(screenshot)"], in: folder)
        let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(png.count > 20_000, "a blank page compresses to a few KB; got \(png.count) bytes")

        // The PDF the command printed has pages (poppler's pdfinfo reads it).
        let pdfinfo = Process()
        pdfinfo.executableURL = URL(fileURLWithPath: "/usr/bin/pdfinfo")
        pdfinfo.arguments = [bundle + "/report.pdf"]
        let out = Pipe(), err = Pipe()
        pdfinfo.standardOutput = out
        pdfinfo.standardError = err
        let collected = OutputCollector(out: out, err: err)
        try await ChildProcess.run(pdfinfo)
        let (info, _) = await collected.finish()
        let pages = info.split(separator: "\n").first { $0.hasPrefix("Pages:") }
            .flatMap { Int($0.dropFirst("Pages:".count).trimmingCharacters(in: .whitespaces)) }
        #expect((pages ?? 0) >= 2, "pdfinfo: \(info)")
    }

    @Test("the logins chart counts every new IP of a user, beyond the ten the summary lists, and none for its markers")
    func loginsChartCountsRealIPs() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try await makeDemoArchive(in: folder, events: 3000)
        // A window the archive covers from before its start: new IPs are known, and several users have more
        // than ten. One absolute time for both commands.
        let formatter = ISO8601DateFormatter()
        let since = formatter.string(from: Date().addingTimeInterval(-3 * 86_400))
        let bundle = folder.file("bundle")
        let report = try await Command(["report", "--all", "--db", db, "--since", since, "--output-dir", bundle, "--html"]).run()
        #expect(report.status == 0, "\(report.stderr)")
        let summary = try String(contentsOfFile: bundle + "/logins-summary.csv", encoding: .utf8)
        #expect(summary.contains(" more)"), "no user has more than ten new IPs in the window: the test proves nothing")
        let everyNewIP = folder.file("every-new-ip.csv")
        let uncapped = try await Command(["report", "logins", "--summary", "--ips", "0", "--db", db, "--since", since,
                                          "--format", "csv", "--output", everyNewIP]).run()
        #expect(uncapped.status == 0, "\(uncapped.stderr)")

        let dom = try await Self.browse(bundle + "/index.html", ["--dump-dom"], in: folder)
        let domPath = folder.file("dom.html")
        try dom.write(toFile: domPath, atomically: true, encoding: .utf8)
        let figures = try await Self.python(Self.figuresMatchCSV, [bundle, domPath, everyNewIP])
        #expect(figures.status == 0, "\(figures.stdout)\(figures.stderr)")
    }

    @Test("--pdf without Chromium on PATH: one line on how to install it, exit 69, the bundle and index.html written")
    func pdfWithoutChromium() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let db = try await makeDemoArchive(in: folder, events: 200)
        let bundle = folder.file("bundle")
        let result = try await Command(["report", "--all", "--db", db, "--output-dir", bundle, "--pdf"],
                                       environment: ["PATH": folder.path]).run()
        expectFailure(result, exit: 69, naming: ["chromium", "apt-get install chromium"])
        for file in ["manifest.json", "index.html", "logins.csv"] {
            #expect(FileManager.default.fileExists(atPath: bundle + "/" + file), "\(file) missing")
        }
        #expect(!FileManager.default.fileExists(atPath: bundle + "/report.pdf"))
    }
}
