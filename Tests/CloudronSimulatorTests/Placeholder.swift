import Testing
@testable import CloudronSimulator

@Test func placeholder() { #expect(1 + 1 == 2) }
