import Testing
@testable import Query

@Suite struct ActionPatternTests {
    private static let actions = [
        "app.up", "app.update", "app.update.finish", "app.down", "app.install", "apps", "app", "app.",
        "user.login", "user.login.ghost", "user.logout", "backup.finish", "app.backup.finish", "a[b]", "a*b",
        "a?b", "axb", "",
    ]

    @Test func exactPatternsMatchWholeActionsOnly() throws {
        let pattern = try ActionPattern("app.up")
        #expect(!pattern.isGlob)
        #expect(pattern.matches("app.up"))
        #expect(!pattern.matches("app.update"))            // the server's substring filter would match
        #expect(!pattern.matches("app.update.finish"))
        #expect(!pattern.matches("xapp.up"))
        #expect(!pattern.matches("APP.UP"))
    }

    @Test func globSemantics() throws {
        let star = try ActionPattern("app.*")
        #expect(star.isGlob)
        #expect(star.matches("app.update.finish"))         // `*` crosses dots
        #expect(star.matches("app."))                      // and matches nothing
        #expect(!star.matches("apps"))
        #expect(!star.matches("app"))
        let question = try ActionPattern("app.?p")
        #expect(question.matches("app.up"))
        #expect(!question.matches("app.update"))
        #expect(!question.matches("app.p"))
        #expect(try ActionPattern("*.finish").matches("app.backup.finish"))
        #expect(try ActionPattern("user.login?ghost").matches("user.login.ghost"))
        #expect(try ActionPattern("*").matches(""))
        #expect(try ActionPattern("a[b]").matches("a[b]"))
        #expect(!(try ActionPattern("a[b]").matches("ab")))
    }

    /// The Swift matcher and SQLite's GLOB (which runs the SQL filters) agree on every pair.
    @Test func swiftMatcherAgreesWithSQLiteGlob() throws {
        let database = try TestSQLite()
        let patterns = ["app.up", "app.*", "app.?p", "*.finish", "user.login*", "user.login?ghost", "*", "?",
                        "a[b]", "a*b", "a?b", "*app*", "app.*.finish", "**", "a[", "]"]
        for text in patterns {
            let pattern = try ActionPattern(text)
            for action in Self.actions {
                let sqlite = try database.column("SELECT ? GLOB ?", [action, pattern.sqliteGlob])
                let expected = sqlite.first == "1"
                #expect(pattern.matches(action) == expected, "\(text) vs \(action)")
            }
        }
    }

    @Test(arguments: ["", "   "])
    func emptyPatternsAreRejected(text: String) {
        #expect(throws: QueryInputError.self) { try ActionPattern(text) }
    }
}

@Suite struct EventFilterTests {
    @Test func validFilterPasses() throws {
        let filter = EventFilter(actions: [try ActionPattern("user.*")], since: 100, until: 200, user: "alice",
                                 limit: 10, order: .oldest)
        try filter.validate()
    }

    @Test func sinceNotBeforeUntilIsRejected() {
        for (since, until) in [(Int64(200), Int64(100)), (100, 100)] {
            let error = #expect(throws: QueryInputError.self) {
                try EventFilter(since: since, until: until).validate()
            }
            #expect(error?.message.contains("--since") == true)
            #expect(error?.message.contains("\n") == false)
        }
    }

    @Test func limitBelowOneIsRejected() {
        #expect(throws: QueryInputError.self) { try EventFilter(limit: 0).validate() }
        #expect(throws: QueryInputError.self) { try EventFilter(limit: -5).validate() }
        #expect(throws: QueryInputError.self) { try EventFilter.parseLimit("0") }
        #expect(throws: QueryInputError.self) { try EventFilter.parseLimit("ten") }
        #expect(throws: QueryInputError.self) { try EventFilter.parseLimit("") }
        #expect((try? EventFilter.parseLimit("25")) == 25)
    }

    @Test func emptyTextFiltersAreRejected() {
        #expect(throws: QueryInputError.self) { try EventFilter(user: " ").validate() }
        #expect(throws: QueryInputError.self) { try EventFilter(app: "").validate() }
        #expect(throws: QueryInputError.self) { try EventFilter(ip: "").validate() }
        #expect(throws: QueryInputError.self) { try EventFilter(instance: "").validate() }
    }

    @Test func orderParsing() throws {
        #expect(try ResultOrder(parsing: "newest") == .newest)
        #expect(try ResultOrder(parsing: "OLDEST") == .oldest)
        let error = #expect(throws: QueryInputError.self) { try ResultOrder(parsing: "random") }
        #expect(error?.message == "invalid order \"random\": use newest or oldest")
    }
}
