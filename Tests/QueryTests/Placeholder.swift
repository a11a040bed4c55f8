import Testing
@testable import Query

@Test func placeholder() { #expect(1 + 1 == 2) }
