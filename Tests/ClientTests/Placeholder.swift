import Testing
@testable import Client

@Test func placeholder() { #expect(1 + 1 == 2) }
