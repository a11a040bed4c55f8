/// What the archive extracted from one event version (`event_fields`), in the terms a reader uses:
/// who acted, whom or what it concerns, and the outcome. Built from the extracted columns only, never
/// from the raw JSON again: the readable event columns and their one-line summary read a few dozen bytes
/// per row.
public struct EventFacts: Sendable, Hashable {
    public var action: String
    /// `source.username`: a user, or box's system actor (`cron`, `healthmonitor`, `apptask`, …).
    public var actorName: String?
    public var actorID: String?
    public var ip: String?
    public var authType: String?
    /// `source.mailboxId`: the mail user of an `app.login` through LDAP.
    public var mailbox: String?
    /// `source.appId`: the app an OIDC login came through.
    public var clientAppID: String?
    public var userID: String?
    public var userName: String?
    public var appID: String?
    public var appName: String?
    public var taskID: String?
    public var backupID: String?
    public var errorMessage: String?
    public var success: Bool?
    /// For `user.add`, `user.update`, `user.remove`: the user's role as the archive knew it before the event
    /// and the role the event gives (the archive's `user_role_changes`, which the reports read too).
    public var roleBefore: String?
    public var roleAfter: String?

    public init(action: String, actorName: String? = nil, actorID: String? = nil, ip: String? = nil,
                authType: String? = nil, mailbox: String? = nil, clientAppID: String? = nil, userID: String? = nil,
                userName: String? = nil, appID: String? = nil, appName: String? = nil, taskID: String? = nil,
                backupID: String? = nil, errorMessage: String? = nil, success: Bool? = nil) {
        self.action = action
        self.actorName = actorName
        self.actorID = actorID
        self.ip = ip
        self.authType = authType
        self.mailbox = mailbox
        self.clientAppID = clientAppID
        self.userID = userID
        self.userName = userName
        self.appID = appID
        self.appName = appName
        self.taskID = taskID
        self.backupID = backupID
        self.errorMessage = errorMessage
        self.success = success
    }

    /// Login actions carry no actor in `source` (only `authType` and `ip`): the user who logged in acted.
    private var isOwnLogin: Bool { ["user.login", "user.logout"].contains(action) }

    /// The user the event names in `data` (its username, else its id).
    public var user: String? { userName ?? userID }

    /// The app the event is about (its fqdn or subdomain, else its id); an OIDC login's client app.
    public var app: String? { appName ?? appID ?? clientAppID }

    /// Who acted: the user or system actor in `source`, a mail login's mailbox, or the user logging in.
    public var actor: String? {
        if isOwnLogin { return actorName ?? user ?? actorID }
        return actorName ?? mailbox ?? actorID
    }

    /// Whom or what the event is about: the user it names, else the app.
    public var subject: String? { user ?? app }

    /// `user → admin` when the event changes a known role; nil when a role is unknown or unchanged.
    public var roleChange: String? {
        guard let roleBefore, let roleAfter, roleBefore != roleAfter else { return nil }
        return "\(roleBefore) → \(roleAfter)"
    }

    /// Whether the event reports a failure: `success: false`, or a non-empty `errorMessage`.
    public var failed: Bool {
        success == false || !(errorMessage ?? "").isEmpty
    }

    /// The value of a summary placeholder (`{actor}`, `{user}`, …); nil when the event lacks it.
    func value(of placeholder: String) -> String? {
        let value: String?
        switch placeholder {
        case "actor": value = actor
        case "user": value = user
        case "app": value = app
        case "task": value = taskID
        case "backup": value = backupID
        case "error": value = errorMessage
        case "ip": value = ip
        case "auth": value = authType
        case "action": value = action
        case "roleBefore": value = roleBefore
        case "roleAfter": value = roleAfter
        case "roleChange": value = roleChange
        default: value = nil
        }
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}

/// The one-line human summary of an event, from one table of templates per action: the only place the
/// wording of an action lives.
///
/// A template names the facts it shows as `{placeholder}`s (see `EventFacts.value(of:)`). Each action has
/// candidates for success and, where the action can fail, for failure; the first candidate whose
/// placeholders the event all has is used, so an event missing a fact still reads as a sentence.
public enum EventSummary {
    struct Template: Sendable {
        let succeeded: [String]
        let failed: [String]

        init(_ succeeded: String..., failed: [String] = []) {
            self.succeeded = succeeded
            self.failed = failed
        }
    }

    /// Every action `cloudron-api.md` lists. Facts that `event_fields` does not extract (a domain's
    /// name, a service's id, a volume) are not invented: the sentence stays general.
    static let templates: [String: Template] = [
        "app.clone": Template("{actor} cloned {app}", "{actor} cloned an app"),
        "app.configure": Template("{actor} reconfigured {app}"),
        "app.repair": Template("{actor} repaired {app}"),
        "app.install": Template("{actor} installed {app}"),
        "app.restore": Template("{actor} restored {app} from backup {backup}", "{actor} restored {app}"),
        "app.import": Template("{actor} imported {app}"),
        "app.uninstall": Template("{actor} uninstalled {app}"),
        "app.update": Template("{actor} started updating {app}"),
        "app.update.finish": Template("{app} updated", failed: ["update of {app} failed: {error}", "update of {app} failed"]),
        "app.backup": Template("{actor} started a backup of {app} (task {task})", "{actor} started a backup of {app}"),
        "app.backup.finish": Template("backup of {app} finished: {backup}", "backup of {app} finished",
                                      failed: ["backup of {app} failed: {error}", "backup of {app} failed"]),
        "app.login": Template("{actor} logged in to {app}"),
        "app.oom": Template("{app} ran out of memory", "a service ran out of memory"),
        "app.up": Template("{app} is up again"),
        "app.down": Template("{app} is down"),
        "app.start": Template("{actor} started {app}"),
        "app.stop": Template("{actor} stopped {app}"),
        "app.restart": Template("{actor} restarted {app}"),
        "app.task.start": Template("{actor} started task {task} of {app}"),
        "app.task.crash": Template("task {task} of {app} crashed"),
        "app.task.success": Template("task {task} of {app} succeeded"),
        "backup.start": Template("{actor} started a backup (task {task})", "{actor} started a backup"),
        "backup.finish": Template("backup {backup} finished", "backup finished",
                                  failed: ["backup failed: {error}", "backup failed"]),
        "backup.cleanup.start": Template("{actor} started a backup cleanup (task {task})", "{actor} started a backup cleanup"),
        "backup.cleanup.finish": Template("backup cleanup finished", failed: ["backup cleanup failed: {error}", "backup cleanup failed"]),
        "certificate.new": Template("new certificate obtained",
                                    failed: ["certificate could not be obtained: {error}", "certificate could not be obtained"]),
        "certificate.renew": Template("certificate renewed", failed: ["certificate renewal failed: {error}", "certificate renewal failed"]),
        "certificate.cleanup": Template("expired certificates removed"),
        "cloudron.activate": Template("{actor} activated the Cloudron"),
        "cloudron.provision": Template("{actor} provisioned the Cloudron"),
        "cloudron.install.finish": Template("Cloudron installation finished"),
        "cloudron.start": Template("Cloudron started"),
        "cloudron.update": Template("{actor} started a Cloudron update (task {task})", "{actor} started a Cloudron update"),
        "cloudron.update.finish": Template("Cloudron update finished"),
        "dashboard.domain.update": Template("{actor} changed the dashboard domain"),
        "domain.add": Template("{actor} added a domain"),
        "domain.update": Template("{actor} changed a domain"),
        "domain.remove": Template("{actor} removed a domain"),
        "dyndns.update": Template("dynamic DNS updated"),
        "mail.location": Template("{actor} moved the mail server"),
        "mail.enabled": Template("{actor} enabled mail for a domain"),
        "mail.disabled": Template("{actor} disabled mail for a domain"),
        "mail.box.add": Template("{actor} added a mailbox for {user}", "{actor} added a mailbox"),
        "mail.box.remove": Template("{actor} removed a mailbox of {user}", "{actor} removed a mailbox"),
        "mail.box.update": Template("{actor} changed a mailbox of {user}", "{actor} changed a mailbox"),
        "mail.list.add": Template("{actor} added a mailing list"),
        "mail.list.remove": Template("{actor} removed a mailing list"),
        "mail.list.update": Template("{actor} changed a mailing list"),
        "service.configure": Template("{actor} reconfigured a service"),
        "service.rebuild": Template("{actor} rebuilt a service"),
        "service.restart": Template("{actor} restarted a service"),
        "user.add": Template("{actor} added {user} as {roleAfter}", "{actor} added {user}"),
        "user.login": Template("{actor} logged in ({auth})", "{actor} logged in"),
        "user.login.ghost": Template("{actor} logged in as {user} (impersonation)"),
        "user.logout": Template("{actor} logged out"),
        "user.remove": Template("{actor} removed {user} ({roleBefore})", "{actor} removed {user}"),
        "user.update": Template("{actor} changed {user}'s role: {roleChange}", "{actor} changed {user}"),
        "user.transfer": Template("{actor} transferred the data of {user}"),
        "volume.add": Template("{actor} added a volume"),
        "volume.update": Template("{actor} changed a volume"),
        "volume.remount": Template("{actor} remounted a volume"),
        "volume.remove": Template("{actor} removed a volume"),
        "support.ticket": Template("{actor} opened a support ticket"),
        "support.ssh": Template("{actor} changed support SSH access"),
        "system.crash": Template("a system process crashed"),
    ]

    /// An action without a template (a newer server's) still says who did what.
    static let unknownAction = Template("{actor}: {action}", "{action}")

    /// The summary of `facts`.
    public static func text(of facts: EventFacts) -> String {
        let template = templates[facts.action] ?? unknownAction
        let candidates = facts.failed && !template.failed.isEmpty ? template.failed : template.succeeded
        for candidate in candidates {
            if let text = fill(candidate, with: facts) { return text }
        }
        // Every candidate lacks a fact: the last one, with the missing facts as "?".
        return fill(candidates.last ?? "{action}", with: facts, missing: "?") ?? facts.action
    }

    /// `template` with its placeholders replaced; nil when a fact is missing and `missing` is nil.
    static func fill(_ template: String, with facts: EventFacts, missing: String? = nil) -> String? {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let name = String(rest[rest.index(after: open)..<close])
            guard let value = facts.value(of: name) ?? missing else { return nil }
            out += value
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }
}
