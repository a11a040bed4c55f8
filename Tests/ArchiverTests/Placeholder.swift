import Testing
@testable import Archiver

@Test func placeholder() { #expect(1 + 1 == 2) }
