// Deterministic sample content: users, apps, and the source/data shapes of every action that
// cloudron-api.md lists. Strings are chosen to trip careless code downstream: non-ASCII names,
// quotes, commas, newlines, a leading `=` (spreadsheet formulas) and emoji.

/// A user as box embeds it in event data.
struct SampleUser {
    let id: String
    let username: String
    let email: String
    let json: [UInt8]
}

/// An installed app with its manifest; serialized once, embedded in many events (several KB each).
struct SampleApp {
    let id: String
    let subdomain: String
    let fqdn: String
    let title: String
    let json: [UInt8]
}

/// Every action named in cloudron-api.md (v7+ reference plus the older ones).
let allActions: [String] = [
    "app.clone", "app.configure", "app.repair", "app.install", "app.restore", "app.import", "app.uninstall",
    "app.update", "app.update.finish", "app.backup", "app.backup.finish", "app.login", "app.oom", "app.up",
    "app.down", "app.start", "app.stop", "app.restart", "backup.finish", "backup.start", "backup.cleanup.finish",
    "certificate.new", "certificate.cleanup", "cloudron.activate", "cloudron.provision", "cloudron.install.finish",
    "cloudron.start", "dashboard.domain.update", "domain.add", "domain.update", "domain.remove", "dyndns.update",
    "mail.location", "mail.enabled", "mail.disabled", "mail.box.add", "mail.box.remove", "mail.box.update",
    "mail.list.add", "mail.list.remove", "mail.list.update", "service.configure", "service.rebuild",
    "service.restart", "cloudron.update", "cloudron.update.finish", "user.add", "user.login", "user.login.ghost",
    "user.logout", "user.remove", "user.update", "volume.add", "volume.update", "volume.remount", "volume.remove",
    "support.ticket", "support.ssh",
    "app.task.start", "app.task.crash", "app.task.success", "certificate.renew", "backup.cleanup.start",
    "user.transfer", "system.crash",
]

/// Actions that frequently occur besides logins, weighted up over the rare ones.
private let commonActions: [String] = [
    "app.up", "app.down", "app.update", "app.update.finish", "backup.start", "backup.finish", "app.login",
    "app.login", "app.login", "user.logout", "app.configure", "app.restart", "certificate.new", "app.oom",
    "backup.cleanup.finish", "dyndns.update",
]

/// The fixed cast of a simulated Cloudron.
struct SampleCast {
    let users: [SampleUser]
    let admin: SampleUser
    let apps: [SampleApp]
    let domains = ["example.com", "smith-family.example", "büro.example.org"]

    init(rng: inout SeededRandom) {
        let people: [(String, String)] = [
            ("admin", "Ádmin Istrator"), ("alice", "Alice Liddell"), ("bob", "Bob \"The Builder\", Jr."),
            ("zoe", "Zoë Ångström"), ("jose", "José Müller-Lüdenscheidt"), ("lilei", "李雷"), ("hanmeimei", "韩梅梅"),
            ("dmitri", "Дмитрий Иванов"), ("oyvind", "Øyvind Ødegård"), ("formula", "=HYPERLINK(\"http://x\",\"y\")"),
            ("rocket", "Ana 🚀 Lima"), ("multiline", "First line\nsecond line"), ("comma", "Smith, John"),
            ("tab", "Tab\tSeparated"), ("backslash", "C:\\Users\\path"), ("plus", "+cmd|' /C calc'!A0"),
            ("nguyen", "Nguyễn Văn A"), ("francois", "François Œuvre"), ("greek", "Γιώργος Παπαδόπουλος"),
            ("emoji", "👩‍💻 Dev"), ("carol", "Carol"), ("dave", "Dave O'Brien"), ("eve", "Eve <script>"),
            ("frank", "Frank"), ("grace", "Grace Hopper"), ("heidi", "Heidi Klum"), ("ivan", "Ivan"),
            ("judy", "Judy"), ("mallory", "Mallory; DROP TABLE"), ("trent", "Trent"),
        ]
        var users: [SampleUser] = []
        for (index, (username, display)) in people.enumerated() {
            let id = "uid-" + rng.uuid()
            let email = "\(username)@example.com"
            var j = JSONText(capacity: 300)
            j.raw("{"); j.field("id", id, first: true); j.field("username", username); j.field("email", email)
            j.field("fallbackEmail", index % 3 == 0 ? "\(username)+fallback@mail.example" : "")
            j.field("displayName", display)
            j.raw(",\"groupIds\":[" + (index % 4 == 0 ? "\"gid-staff\",\"gid-ops\"" : index % 2 == 0 ? "\"gid-staff\"" : "") + "]")
            j.field("role", index == 0 ? "owner" : index < 3 ? "admin" : "user")
            j.field("active", bool: true)
            j.field("source", index % 5 == 4 ? "ldap" : "")
            j.raw("}")
            users.append(SampleUser(id: id, username: username, email: email, json: j.bytes))
        }
        self.users = users
        self.admin = users[0]

        let catalogue: [(String, String, String)] = [
            ("org.wordpress.cloudronapp", "WordPress (Developer)", "blog"),
            ("com.nextcloud.cloudronapp", "Nextcloud", "cloud"),
            ("io.gitea.cloudronapp", "Gitea", "git"),
            ("chat.rocket.cloudronapp", "Rocket.Chat", "chat"),
            ("com.github.bitwardenrs", "Vaultwarden", "vault"),
            ("org.matrix.synapse", "Matrix Synapse", "matrix"),
            ("net.kanboard.cloudronapp", "Kanboard", "kanban"),
            ("com.grafana.cloudronapp", "Grafana", "grafana"),
            ("org.jellyfin.cloudronapp", "Jellyfin", "media"),
            ("io.n8n.cloudronapp", "n8n", "automation"),
            ("com.roundcube.cloudronapp", "Roundcube", "webmail"),
            ("org.freshrss.cloudronapp", "FreshRSS", "rss"),
        ]
        var apps: [SampleApp] = []
        for (index, (storeId, title, subdomain)) in catalogue.enumerated() {
            let id = rng.uuid()
            let domain = index % 4 == 3 ? "smith-family.example" : "example.com"
            let fqdn = "\(subdomain).\(domain)"
            let version = "\(1 + index % 3).\(index * 7 % 20).\(index % 5)"
            var m = JSONText(capacity: 3000)
            m.raw("{"); m.field("id", storeId, first: true); m.field("title", title)
            m.field("author", "\(title) Authors, \"Upstream\" Team"); m.field("version", version)
            m.field("upstreamVersion", "\(10 + index).\(index).0")
            m.field("tagline", "The \(title) app — self-hosted, private, yours")
            m.field("description", Self.description(title: title))
            m.field("changelog", "* Update \(title) to \(10 + index).\(index).0\n* Fix, \"quoted\" issue #\(100 + index)\n=SUM(A1:A2) is not a formula here")
            m.field("website", "https://\(subdomain).example.net"); m.field("contactEmail", "support@cloudron.io")
            m.field("healthCheckPath", "/"); m.field("httpPort", int: 8000 + index)
            m.raw(",\"addons\":{\"localstorage\":{},\"postgresql\":{},\"sendmail\":{\"supportsDisplayName\":true},\"ldap\":{},\"scheduler\":{\"housekeeping\":{\"schedule\":\"*/30 * * * *\",\"command\":\"/app/pkg/cron.sh\"}}}")
            m.field("manifestVersion", int: 2); m.field("minBoxVersion", "7.4.0"); m.field("memoryLimit", int: 536_870_912)
            m.raw(",\"tags\":[\"productivity\",\"collaboration\",\"sync\"]")
            m.raw(",\"mediaLinks\":[\"https://screenshots.example.net/\(subdomain)/1.jpg\",\"https://screenshots.example.net/\(subdomain)/2.jpg\",\"https://screenshots.example.net/\(subdomain)/3.jpg\"]")
            m.field("icon", "file://logo.png"); m.field("dockerImage", "cloudron/\(storeId):\(version)-20261101")
            m.raw("}")

            var a = JSONText(capacity: 4000)
            a.raw("{"); a.field("id", id, first: true); a.field("appStoreId", storeId)
            a.field("installationState", "installed"); a.field("error", optional: nil)
            a.field("runState", "running"); a.field("health", "healthy")
            a.field("containerId", String(repeating: "\(index % 10)", count: 12) + "deadbeef0123456789")
            a.field("subdomain", subdomain); a.field("domain", domain); a.field("fqdn", fqdn)
            a.raw(",\"secondaryDomains\":[],\"redirectDomains\":[],\"aliasDomains\":[]")
            a.field("manifest", raw: m.bytes)
            a.raw(",\"portBindings\":{},\"accessRestriction\":" + (index % 2 == 0 ? "null" : "{\"users\":[],\"groups\":[\"gid-staff\"]}"))
            a.field("memoryLimit", int: 1_073_741_824); a.field("cpuQuota", int: 100)
            a.field("label", index % 3 == 0 ? "\(title), \"primary\"" : "")
            a.raw(",\"tags\":[],\"reverseProxyConfig\":{\"csp\":null,\"robotsTxt\":null},\"enableBackup\":true,\"enableAutomaticUpdate\":true")
            a.raw(",\"env\":{\"APP_MODE\":\"production\",\"GREETING\":\"Grüß Gott, \\\"friend\\\"\"}")
            a.field("creationTime", CloudronTime.iso(1_700_000_000 + Int64(index) * 86_400))
            a.field("updateTime", CloudronTime.iso(1_760_000_000 + Int64(index) * 86_400))
            a.field("ts", CloudronTime.iso(1_760_000_500 + Int64(index) * 86_400))
            a.raw("}")
            apps.append(SampleApp(id: id, subdomain: subdomain, fqdn: fqdn, title: title, json: a.bytes))
        }
        self.apps = apps
    }

    private static func description(title: String) -> String {
        """
        ## About \(title)

        \(title) is packaged for Cloudron. This app packages upstream's release and keeps data in `/app/data`.

        ### Features
        * Single sign-on through the Cloudron user directory ("LDAP" or "OIDC")
        * Automatic backups, updates, and TLS certificates
        * Works with the mail server: notifications, digests, and password resets
        * Mobile apps for iOS & Android; a desktop client for Windows, macOS, and Linux

        ### Notes
        Admins can change settings at /admin. The default login is the Cloudron account, not "admin".
        Large uploads (> 2 GB) need the memory limit raised. Emoji in titles work: 🎉✅.
        Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et
        dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip
        ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore.
        """
    }
}

/// Makes the `source` and `data` of one event of a given action.
struct EventContent {
    let source: [UInt8]
    let data: [UInt8]
    /// A notification that box would raise for this event, if any: (title, message).
    var notification: (String, String)?
}

extension SampleCast {
    /// Picks an action: `user.login` about 60%, common actions next, every listed action possible.
    func randomAction(rng: inout SeededRandom) -> String {
        let roll = rng.int(0...99)
        if roll < 60 { return "user.login" }
        if roll < 85 { return rng.pick(commonActions) }
        return rng.pick(allActions)
    }

    /// A login's source: box keys its same-day upsert on this exact serialization.
    func loginSource(rng: inout SeededRandom) -> [UInt8] {
        var j = JSONText(capacity: 100)
        let authType = rng.pick(["oidc", "oidc", "ldap", "cli", "password", "basic"])
        j.raw("{"); j.field("authType", authType, first: true)
        let ip = rng.chance(0.1)
            ? "2001:db8:\(String(rng.int(1...0xffff), radix: 16))::\(String(rng.int(1...0xffff), radix: 16))"
            : "\(rng.int(1...223)).\(rng.int(0...255)).\(rng.int(0...255)).\(rng.int(1...254))"
        j.field("ip", ip)
        if authType == "oidc", rng.chance(0.7) { j.field("appId", rng.pick(apps).id) }
        j.raw("}")
        return j.bytes
    }

    func loginData(user: SampleUser) -> [UInt8] {
        var j = JSONText(capacity: user.json.count + 60)
        j.raw("{"); j.field("userId", user.id, first: true); j.field("user", raw: user.json); j.raw("}")
        return j.bytes
    }

    private func userSource(_ user: SampleUser, rng: inout SeededRandom) -> [UInt8] {
        var j = JSONText(capacity: 120)
        j.raw("{"); j.field("ip", "203.0.113.\(rng.int(1...254))", first: true)
        j.field("username", user.username); j.field("userId", user.id); j.raw("}")
        return j.bytes
    }

    private func systemSource(_ name: String) -> [UInt8] {
        Array("{\"userId\":null,\"username\":\"\(name)\"}".utf8)
    }

    /// The source and data for `action`. `taskId` is the id a task-starting action refers to.
    func content(for action: String, rng: inout SeededRandom, taskId: Int) -> EventContent {
        let app = rng.pick(apps)
        let user = rng.pick(users)
        let admin = rng.chance(0.8) ? users[0] : users[rng.int(1...2)]
        let domain = rng.pick(domains)
        var d = JSONText(capacity: app.json.count + 400)
        var source = userSource(admin, rng: &rng)
        var note: (String, String)?
        d.raw("{")
        switch action {
        case "user.login", "user.logout":
            source = loginSource(rng: &rng)
            d = JSONText(); d.raw(loginData(user: user)); d.bytes.removeLast()
        case "user.login.ghost":
            d.field("userId", user.id, first: true); d.field("user", raw: user.json)
        case "app.login":
            source = Array("{\"authType\":\"ldap\",\"mailboxId\":\"\(user.username)@\(domain)\"}".utf8)
            d.field("appId", app.id, first: true); d.field("addonId", rng.pick(["ldap", "oidc", "sendmail"]))
        case "user.add":
            d.field("userId", user.id, first: true); d.field("email", user.email); d.field("user", raw: user.json)
            d.field("invitor", raw: admin.json)
        case "user.update":
            d.field("userId", user.id, first: true); d.field("user", raw: user.json)
            d.field("adminStatusChanged", bool: rng.chance(0.1))
        case "user.remove", "user.transfer":
            d.field("userId", user.id, first: true); d.field("user", raw: user.json)
        case "app.install", "app.configure", "app.uninstall", "app.import", "app.repair":
            d.field("appId", app.id, first: true); d.field("app", raw: app.json)
        case "app.update":
            d.field("appId", app.id, first: true)
            d.field("fromManifest", rawText: "{\"id\":\"\(app.id)\",\"version\":\"1.0.0\"}")
            d.field("toManifest", rawText: "{\"id\":\"\(app.id)\",\"version\":\"1.0.1\"}")
            d.field("force", bool: false); d.field("app", raw: app.json)
        case "app.update.finish":
            source = systemSource("apptask")
            let ok = rng.chance(0.9)
            d.field("app", raw: app.json, first: true); d.field("success", bool: ok)
            note = ok ? ("\(app.title) updated", "\(app.title) at \(app.fqdn) was updated to the latest version.")
                : ("\(app.title) update failed", "The update of **\(app.fqdn)** failed:\n\n```\nError: \"ENOSPC\", no space\n```")
        case "app.restore":
            d.field("app", raw: app.json, first: true); d.field("backupId", "app_\(app.id)_v1.0.0_\(rng.int(100_000...999_999))")
            d.field("fromManifest", rawText: "{\"version\":\"1.0.0\"}"); d.field("toManifest", rawText: "{\"version\":\"1.0.0\"}")
        case "app.clone":
            d.field("appId", rng.uuid(), first: true); d.field("oldAppId", app.id)
            d.field("backupId", "app_\(app.id)_\(rng.int(100_000...999_999))"); d.field("oldApp", raw: app.json)
            d.field("newApp", raw: app.json)
        case "app.start", "app.stop", "app.restart", "app.backup", "app.task.start":
            d.field("appId", app.id, first: true); d.field("app", raw: app.json); d.field("taskId", String(taskId))
        case "app.backup.finish":
            let ok = rng.chance(0.9)
            d.field("appId", app.id, first: true); d.field("app", raw: app.json)
            d.field("backupId", optional: ok ? "app_\(app.id)_\(rng.int(100_000...999_999))" : nil)
            d.field("errorMessage", ok ? "" : "Backup failed: disk full, \"retry later\"")
        case "app.task.crash", "app.task.success":
            source = systemSource("taskmanager")
            d.field("appId", app.id, first: true); d.field("taskId", int: taskId)
            d.field("crashLogFile", "/home/yellowtent/platformdata/logs/tasks/\(taskId).log")
        case "app.up", "app.down":
            source = systemSource("healthmonitor")
            d.field("app", raw: app.json, first: true)
            if action == "app.down", rng.chance(0.5) {
                note = ("\(app.title) is not responding", "The app at \(app.fqdn) is not responding.\nIt will be restarted, check its logs.")
            }
        case "app.oom":
            source = systemSource("healthmonitor")
            d.raw("\"event\":{\"status\":\"oom\",\"id\":\"\(rng.uuid())\",\"from\":\"cloudron/app:1\",\"Type\":\"container\",\"Action\":\"oom\",\"time\":\(1_700_000_000 + rng.int(0...9_999_999))}")
            d.field("containerId", rng.uuid().replacingOccurrences(of: "-", with: ""))
            if rng.chance(0.3) {
                d.field("addon", rawText: "{\"name\":\"mysql\"}"); d.field("app", rawText: "null")
                note = ("mysql ran out of memory", "The mysql service ran out of memory. Consider raising its limit.")
            } else {
                d.field("addon", rawText: "null"); d.field("app", raw: app.json)
                note = ("\(app.title) ran out of memory", "The app **\(app.fqdn)** ran out of memory, \"restart\" followed.")
            }
        case "backup.start", "backup.cleanup.start":
            source = rng.chance(0.7) ? systemSource("cron") : source
            d.field("taskId", String(taskId), first: true)
        case "backup.finish":
            source = rng.chance(0.7) ? systemSource("cron") : source
            let ok = rng.chance(0.85)
            d.field("taskId", String(taskId), first: true)
            d.field("errorMessage", ok ? "" : "Backup failed: Network error, \"ECONNRESET\"")
            d.field("backupId", optional: ok ? "\(rng.int(20_260_000...20_269_999))-box_v9.0.15" : nil)
            if !ok { note = ("Backup failed", "Backup failed: Network error, \"ECONNRESET\".\nCheck the backup configuration.") }
        case "backup.cleanup.finish":
            source = systemSource("cron")
            d.field("taskId", String(taskId), first: true); d.field("errorMessage", optional: nil)
            d.raw(",\"removedBoxBackupPaths\":[\"2026-10-01-000000-000/box_v9.0.14\"],\"removedAppBackupPaths\":[],\"removedMailBackupPaths\":[],\"missingBackupPaths\":[]")
        case "certificate.new", "certificate.renew":
            source = systemSource("cron")
            let ok = rng.chance(0.9)
            d.field("domain", "\(app.subdomain).\(domain)", first: true)
            d.field("errorMessage", ok ? "" : "Let's Encrypt: rate limited, \"too many certificates\"")
            d.field("renewalInfo", rawText: "null")
            if !ok { note = ("Certificate renewal failed", "Could not renew the certificate of \(app.subdomain).\(domain).") }
        case "certificate.cleanup":
            source = systemSource("cron")
            d.raw("\"domains\":[\"old.\(domain)\"]")
        case "cloudron.update":
            d.field("taskId", String(taskId), first: true)
            d.field("boxUpdateInfo", rawText: "{\"version\":\"9.0.16\",\"changelog\":[\"Fix a thing\",\"Improve, \\\"another\\\"\"],\"sourceTarballUrl\":\"https://releases.example.net/box-9.0.16.tar.gz\",\"unstable\":false}")
        case "cloudron.update.finish":
            source = systemSource("boot")
            d.field("oldVersion", "9.0.14", first: true); d.field("newVersion", "9.0.15")
            note = ("Cloudron updated to v9.0.15", "Cloudron was updated from v9.0.14 to v9.0.15.\n\nChangelog:\n* Fixes")
        case "cloudron.start":
            source = systemSource("boot")
            d.field("version", "9.0.15", first: true)
        case "cloudron.activate", "cloudron.provision", "cloudron.install.finish":
            d.field("version", "9.0.15", first: true)
        case "dashboard.domain.update", "domain.add", "domain.update", "domain.remove":
            d.field("domain", domain, first: true); d.field("zoneName", domain)
            d.field("provider", rng.pick(["cloudflare", "route53", "manual", "hetzner"]))
        case "dyndns.update":
            source = systemSource("cron")
            d.field("fromIpv4", "198.51.100.\(rng.int(1...254))", first: true); d.field("toIpv4", "198.51.100.\(rng.int(1...254))")
            d.field("fromIpv6", optional: nil); d.field("toIpv6", optional: nil)
        case "mail.location":
            d.field("subdomain", "my", first: true); d.field("domain", domain)
        case "mail.enabled", "mail.disabled":
            d.field("domain", domain, first: true)
        case "mail.box.add", "mail.box.remove", "mail.box.update":
            d.field("name", user.username, first: true); d.field("domain", domain); d.field("userId", user.id)
        case "mail.list.add", "mail.list.remove", "mail.list.update":
            d.field("name", "team-list", first: true); d.field("domain", domain)
            d.raw(",\"members\":[\"\(user.email)\",\"\(admin.email)\"]")
        case "service.configure", "service.rebuild", "service.restart":
            d.field("id", rng.pick(["mysql", "postgresql", "mongodb", "mail", "redis:\(app.id)"]), first: true)
            if action == "service.configure" { d.field("data", rawText: "{\"memoryLimit\":1073741824,\"recoveryMode\":false}") }
        case "volume.add", "volume.update", "volume.remount", "volume.remove":
            d.field("volume", rawText: "{\"id\":\"\(rng.uuid())\",\"name\":\"media, \\\"shared\\\"\",\"hostPath\":\"/mnt/volumes/media\",\"mountType\":\"cifs\"}", first: true)
        case "support.ticket":
            d.field("ticketId", String(rng.int(10_000...99_999)), first: true)
            d.field("subject", "=cmd|' /C calc'!A0, \"help\"\nsecond line 🙏")
        case "support.ssh":
            d.field("enable", bool: rng.chance(0.5), first: true)
        case "system.crash":
            source = systemSource("sysadmin")
            d.field("processName", "box", first: true); d.field("crashLogFile", "/home/yellowtent/platformdata/logs/crash/box-\(taskId).log")
        default:
            d.field("note", "unmodelled action", first: true)
        }
        d.raw("}")
        return EventContent(source: source, data: d.bytes, notification: note)
    }
}
