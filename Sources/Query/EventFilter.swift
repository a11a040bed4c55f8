import Foundation

/// One `--action` value: an exact action name (`user.login`) or a glob (`app.*`, `user.login?ghost`),
/// or either after `!` to exclude what it matches (`!user.login`).
///
/// Unlike the Cloudron server, whose `actions=` filter is a substring match (`app.up` also returns
/// `app.update.finish`), a pattern here matches the whole action: `app.up` is exactly `app.up`.
/// In a glob `*` stands for any run of characters (dots included) and `?` for exactly one; nothing
/// else is special, so `[` and `]` are literal (they are escaped when compiled to SQLite's GLOB).
/// An event passes when it matches any of the other patterns (or there are none) and no `!` pattern.
public struct ActionPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as the user wrote it (trimmed), without a leading `!`.
    public let text: String
    /// Written with a leading `!`: the pattern excludes the actions it matches.
    public let isNegated: Bool

    /// - Throws: `QueryInputError` for an empty pattern.
    public init(_ text: String) throws {
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        isNegated = trimmed.hasPrefix("!")
        if isNegated { trimmed = String(trimmed.dropFirst()).trimmingCharacters(in: .whitespaces) }
        guard !trimmed.isEmpty else {
            throw QueryInputError("empty --action pattern: use an action such as user.login, a glob such as app.*, "
                                  + "or !user.login to leave one out")
        }
        self.text = trimmed
    }

    public var description: String { (isNegated ? "!" : "") + text }

    /// Whether the pattern has wildcards; without, it is compared with `=` (and can use the action index).
    public var isGlob: Bool { text.contains("*") || text.contains("?") }

    /// The pattern for SQLite's `GLOB` operator: `[` becomes `[[]` so that only `*` and `?` are wildcards.
    /// (`]` outside a bracket expression is already literal in SQLite's GLOB.)
    public var sqliteGlob: String {
        var out = ""
        for character in text {
            if character == "[" { out += "[[]" } else { out.append(character) }
        }
        return out
    }

    /// The pattern for PostgreSQL's `LIKE … ESCAPE '\\'`: `*` becomes `%`, `?` becomes `_`, and the
    /// characters LIKE itself treats specially (`%`, `_`, `\\`) are escaped.
    public var likePattern: String {
        var out = ""
        for character in text {
            switch character {
            case "*": out += "%"
            case "?": out += "_"
            case "%", "_", "\\": out += "\\" + String(character)
            default: out.append(character)
            }
        }
        return out
    }

    /// Whether `action` matches the whole pattern (case-sensitive, like the server's action names).
    public func matches(_ action: String) -> Bool {
        let pattern = Array(text.unicodeScalars), subject = Array(action.unicodeScalars)
        // Iterative glob matching with single-star backtracking: linear in practice, never exponential.
        var p = 0, s = 0
        var starPattern = -1, starSubject = 0
        while s < subject.count {
            if p < pattern.count, pattern[p] == "?" || (pattern[p] != "*" && pattern[p] == subject[s]) {
                p += 1; s += 1
            } else if p < pattern.count, pattern[p] == "*" {
                starPattern = p; starSubject = s; p += 1
            } else if starPattern >= 0 {
                p = starPattern + 1; starSubject += 1; s = starSubject
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}

/// `--order newest|oldest`.
public enum ResultOrder: String, Sendable, CaseIterable {
    case newest
    case oldest

    /// - Throws: `QueryInputError` naming both values.
    public init(parsing text: String) throws {
        guard let order = ResultOrder(rawValue: text.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw QueryInputError("invalid order \(TimeExpression.quoted(text)): use newest or oldest")
        }
        self = order
    }
}

/// The filters every listing command shares (`events`, `search`, `report`, `notifications`, `tasks`).
///
/// A plain value: the CLI fills it from options (times through `TimeExpression`), a library user
/// fills it directly. `validate()` rejects contradictions before any SQL runs, so a mistake is an
/// error message and never an empty result.
public struct EventFilter: Sendable, Hashable {
    /// Any of these (OR). Empty means every action.
    public var actions: [ActionPattern]
    /// Inclusive lower bound, epoch seconds.
    public var since: Int64?
    /// Exclusive upper bound, epoch seconds: `--since 2026-11-20 --until 2026-11-21` is exactly one day.
    public var until: Int64?
    /// A username or a user id, matched in `source` (the actor) or `data` (the subject).
    public var user: String?
    /// An app id, subdomain or fqdn.
    public var app: String?
    /// The client IP as recorded in `source.ip`.
    public var ip: String?
    /// The archive's instance name (several Cloudron servers can share one archive).
    public var instance: String?
    /// At most this many rows (>= 1); nil for all.
    public var limit: Int?
    public var order: ResultOrder

    public init(actions: [ActionPattern] = [], since: Int64? = nil, until: Int64? = nil, user: String? = nil,
                app: String? = nil, ip: String? = nil, instance: String? = nil, limit: Int? = nil,
                order: ResultOrder = .newest) {
        self.actions = actions
        self.since = since
        self.until = until
        self.user = user
        self.app = app
        self.ip = ip
        self.instance = instance
        self.limit = limit
        self.order = order
    }

    /// Checks the combination of values.
    /// - Throws: `QueryInputError` (one line) for `since >= until`, `limit < 1` or an empty text filter.
    public func validate() throws {
        if let since, let until, since >= until {
            var formatter = TimestampFormatter()
            throw QueryInputError("--since (\(formatter.string(from: since))) must be earlier than --until "
                                  + "(\(formatter.string(from: until))); --until is exclusive")
        }
        if let limit, limit < 1 {
            throw QueryInputError("invalid --limit \(limit): use a whole number of at least 1")
        }
        for (name, value) in [("--user", user), ("--app", app), ("--ip", ip), ("--instance", instance)] {
            if let value, value.trimmingCharacters(in: .whitespaces).isEmpty {
                throw QueryInputError("empty \(name) value: give a value or leave the option out")
            }
        }
        for pattern in actions where pattern.text.trimmingCharacters(in: .whitespaces).isEmpty {
            throw QueryInputError("empty --action pattern: use an action such as user.login or a glob such as app.*")
        }
    }

    /// Parses a `--limit` value.
    /// - Throws: `QueryInputError` unless it is a whole number >= 1.
    public static func parseLimit(_ text: String) throws -> Int {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 1 else {
            throw QueryInputError("invalid --limit \(TimeExpression.quoted(text)): use a whole number of at least 1")
        }
        return value
    }
}
