import Foundation
import Archiver

/// A piece of SQL with its parameter values, in order. Values are only ever bound, never spliced into
/// the SQL text: a filter value is data, whatever it contains.
public struct SQLFragment: Sendable, Hashable {
    public var sql: String
    public var values: [SQLValue]

    public init(_ sql: String = "", _ values: [SQLValue] = []) {
        self.sql = sql
        self.values = values
    }

    /// `a AND b AND …` of the non-empty fragments; `1` when there are none.
    static func and(_ parts: [SQLFragment]) -> SQLFragment {
        let nonEmpty = parts.filter { !$0.sql.isEmpty }
        guard !nonEmpty.isEmpty else { return SQLFragment("1") }
        return SQLFragment(nonEmpty.map { "(\($0.sql))" }.joined(separator: " AND "), nonEmpty.flatMap(\.values))
    }
}

/// Where in an event's raw JSON the `--user`, `--app` and `--ip` filters look (SQLite JSON paths).
///
/// Cloudron puts the actor in `source` (`username`, `userId`, `mailboxId` for mail logins, or
/// `authType`+`ip` for logins) and the subject in `data` (`userId`, `user.{id,username,email}`; `appId`,
/// `app.{id,subdomain,fqdn}`; older servers call the subdomain `location`); app logins name the app in
/// `source.appId`, clones in `data.oldAppId`. The login reports show a mail user by `mailboxId`, so
/// `--user` accepts what they show.
public enum EventJSONPaths {
    public static let user = ["$.source.username", "$.source.userId", "$.source.mailboxId", "$.data.userId", "$.data.user.id",
                       "$.data.user.username", "$.data.user.email"]
    public static let app = ["$.source.appId", "$.data.appId", "$.data.oldAppId", "$.data.app.id",
                      "$.data.app.subdomain", "$.data.app.location", "$.data.app.fqdn"]
    public static let ip = ["$.source.ip"]
}

extension EventFilter {
    /// The filter as a WHERE condition over `events e` joined with `event_versions v` (the version whose
    /// raw JSON the text filters read) and `instances i`. `timeColumn` is the creation time compared
    /// with `since`/`until` (`e.creation_epoch`, or `v.creation_epoch` for every version).
    ///
    /// The text filters compare exact JSON values; for speed they first narrow the rows through the
    /// `events_fts` index with the value as a phrase (every leaf value of `source` and `data` is indexed),
    /// which cannot drop a matching row. Values without letters or digits skip that step.
    func eventCondition(timeColumn: String = "e.creation_epoch") -> SQLFragment {
        var parts: [SQLFragment] = []
        for negated in [false, true] {
            var sql: [String] = []
            var values: [SQLValue] = []
            for pattern in actions where pattern.isNegated == negated {
                if pattern.isGlob {
                    sql.append("e.action GLOB ?"); values.append(.text(pattern.sqliteGlob))
                } else {
                    sql.append("e.action = ?"); values.append(.text(pattern.text))
                }
            }
            guard !sql.isEmpty else { continue }
            let any = sql.joined(separator: " OR ")
            parts.append(SQLFragment(negated ? "NOT (\(any))" : any, values))
        }
        parts.append(contentsOf: timeConditions(column: timeColumn))
        if let instance { parts.append(SQLFragment("i.name = ?", [.text(instance)])) }
        for (value, paths) in [(user, EventJSONPaths.user), (app, EventJSONPaths.app), (ip, EventJSONPaths.ip)] {
            guard let value else { continue }
            let extracts = paths.map { "json_extract(v.raw, '\($0)')" }.joined(separator: ", ")
            parts.append(SQLFragment("? IN (\(extracts))", [.text(value)]))
            // The index holds each event's current text only: with --history an older version may match
            // where the current one does not, so the index may only narrow current-state queries.
            if FTSQuery.isSearchable(value) && timeColumn == "e.creation_epoch" {
                parts.append(SQLFragment("e.id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)",
                                         [.text(FTSQuery.quoted(value))]))
            }
        }
        return SQLFragment.and(parts)
    }

    /// `since`/`until` on a creation-time column.
    func timeConditions(column: String) -> [SQLFragment] {
        var parts: [SQLFragment] = []
        if let since { parts.append(SQLFragment("\(column) >= ?", [.integer(since)])) }
        if let until { parts.append(SQLFragment("\(column) < ?", [.integer(until)])) }
        return parts
    }

    /// `ORDER BY` for a time column with a stable tie-breaker.
    func orderBy(time: String, tieBreaker: String) -> String {
        let direction = order == .newest ? "DESC" : "ASC"
        return "ORDER BY \(time) \(direction), \(tieBreaker) \(direction)"
    }

    /// `LIMIT ?` or nothing.
    var limitClause: SQLFragment {
        guard let limit else { return SQLFragment() }
        return SQLFragment("LIMIT ?", [.integer(Int64(limit))])
    }

    /// Rejects the event-only filters for listings of notifications and tasks.
    func requireNoEventOnlyFilters(for what: String) throws {
        if !actions.isEmpty || user != nil || app != nil || ip != nil {
            throw QueryInputError("--action, --user, --app and --ip filter events only; \(what) take --since, "
                                  + "--until, --instance, --limit and --order")
        }
    }
}
