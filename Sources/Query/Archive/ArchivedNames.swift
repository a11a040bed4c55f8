import Archiver

/// The names an archive knows (instances, actions, users, apps), to tell a mistyped filter value from
/// an honest empty answer: an unknown `--instance` is refused, and an action, user or app that no
/// archived event has is named on stderr with the nearest names the archive does have.
public enum ArchivedNames {
    /// - Throws: `QueryInputError` listing the archive's instances when `filter.instance` is none of them.
    static func requireKnownInstance(_ filter: EventFilter, in session: ReadSession) throws {
        guard filter.instance != nil else { return }
        var names: [String] = []
        try session.forEachRow("SELECT name FROM instances ORDER BY name") { names.append($0.string(at: 0)) }
        try requireKnownInstance(filter, among: names)
    }

    /// - Throws: `QueryInputError` listing `names` (the instances archived, sorted) when `filter.instance` is none of them.
    public static func requireKnownInstance(_ filter: EventFilter, among names: [String]) throws {
        guard let instance = filter.instance, !names.contains(instance) else { return }
        throw QueryInputError("unknown instance \(TimeExpression.quoted(instance)): "
                              + (names.isEmpty ? "the archive holds no server yet" : "the archive holds " + names.joined(separator: ", ")))
    }

    /// One line per `--action`, `--user` or `--app` value that no archived event matches at all (so an
    /// empty answer is a typo's, not the archive's), with the nearest archived names.
    public static func unmatchedValueNotes(_ filter: EventFilter, in session: ReadSession) throws -> [String] {
        var notes: [String] = []
        if !filter.actions.isEmpty {
            var actions: [String] = []
            try session.forEachRow("SELECT DISTINCT action FROM events ORDER BY action") { actions.append($0.string(at: 0)) }
            for pattern in filter.actions where !pattern.isNegated && !actions.contains(where: pattern.matches) {
                notes.append("no archived event has the action \(TimeExpression.quoted(pattern.text))"
                             + nearest(pattern.text, among: actions))
            }
        }
        for (option, value, paths, names) in [("--user", filter.user, EventJSONPaths.user, userNames),
                                              ("--app", filter.app, EventJSONPaths.app, appNames)] {
            guard let value, try !isArchived(value, paths: paths, in: session) else { continue }
            var candidates: [String] = []
            try session.forEachRow(names) { row in
                if !row.isNull(at: 0) { candidates.append(row.string(at: 0)) }
            }
            notes.append("no archived event names \(TimeExpression.quoted(value)) (\(option))" + nearest(value, among: candidates))
        }
        return notes
    }

    /// Whether any version of any event has `value` at one of `paths`; through the full-text index
    /// when the value has words, which every leaf value of `source` and `data` is indexed under.
    private static func isArchived(_ value: String, paths: [String], in session: ReadSession) throws -> Bool {
        let extracts = paths.map { "json_extract(v.raw, '\($0)')" }.joined(separator: ", ")
        let narrowing = FTSQuery.isSearchable(value)
            ? "AND v.event_id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?2)" : ""
        var found = false
        try session.forEachRow("SELECT 1 FROM event_versions v WHERE ?1 IN (\(extracts)) \(narrowing) LIMIT 1",
                               [.text(value)] + (narrowing.isEmpty ? [] : [.text(FTSQuery.quoted(value))])) { _ in found = true }
        if found || narrowing.isEmpty { return found }
        // The index holds each event's current text only: an older version may still name the value.
        try session.forEachRow("SELECT 1 FROM event_versions v WHERE ?1 IN (\(extracts)) LIMIT 1",
                               [.text(value)]) { _ in found = true }
        return found
    }

    /// The user names that user and login events carry (reading every event's JSON would be slow).
    private static let userNames = """
        SELECT DISTINCT COALESCE(json_extract(v.raw, '$.data.user.username'), json_extract(v.raw, '$.source.username'),
                                 json_extract(v.raw, '$.source.mailboxId'))
        FROM events e JOIN event_versions v ON v.event_id = e.id AND v.version = e.version
        WHERE e.action GLOB 'user.*'
        """

    /// The app names (fqdn) that app events carry.
    private static let appNames = """
        SELECT DISTINCT json_extract(v.raw, '$.data.app.fqdn')
        FROM events e JOIN event_versions v ON v.event_id = e.id AND v.version = e.version
        WHERE e.action GLOB 'app.*'
        """

    /// `; nearest: a, b, c` (at most three, closest first), or nothing when no name is close.
    static func nearest(_ value: String, among names: [String]) -> String {
        let target = Array(value.lowercased())
        let limit = max(2, target.count / 3)
        let close = Set(names).map { ($0, editDistance(target, Array($0.lowercased()))) }
            .filter { $0.1 <= limit }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }
            .prefix(3)
        return close.isEmpty ? "" : "; nearest: " + close.map(\.0).joined(separator: ", ")
    }

    /// Levenshtein distance.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
