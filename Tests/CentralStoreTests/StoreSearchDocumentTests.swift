@testable import CentralStore
import Foundation
import ScratchPostgres
import Testing

/// The tsvector text a push writes per object, read back by PostgreSQL itself (through psql): every token
/// one lexeme with its positions and column weights, a quote or backslash inside a token kept as it is.
@Suite struct StoreSearchDocumentTests {
    @Test func postgreSQLReadsEveryTokenWithItsPositionsAndWeights() async throws {
        let cluster = try await offThePool { try PostgresCluster.shared() }
        let uri = try await offThePool { try cluster.makeDatabase() }
        // FTS5's unicode61 never makes a token with a quote or a backslash; the encoding must still hold one.
        let columns = [["it's", "a\\b", "plain", "plain", "é"], [], ["x'\\'y", "plain"]]
        var bytes: [UInt8] = []
        StoreSearchDocuments.appendDocument(columns, to: &bytes)
        let document = String(decoding: bytes, as: UTF8.self)
        // Positions by hand: column 1 holds 1-5, column 2 (empty) none, column 3 starts after two gaps at 8.
        let expected: Set<String> = ["it's 1 A", "a\\b 2 A", "plain 3,4,9 A,A,C", "é 5 A", "x'\\'y 8 C"]
        let found = try await offThePool {
            try cluster.psql(uri, """
                SELECT lexeme || ' ' || array_to_string(positions, ',') || ' ' || array_to_string(weights, ',')
                FROM unnest($doc$\(document)$doc$::tsvector)
                """)
        }
        #expect(Set(found.split(separator: "\n").map(String.init)) == expected, "\(document)")
        // The same lexeme text in a query matches (a search turns its tokens into lexemes alike).
        for token in ["it's", "a\\b", "x'\\'y", "é"] {
            let query = StoreSearchDocuments.lexeme(token)
            let matches = try await offThePool {
                try cluster.psql(uri, "SELECT $doc$\(document)$doc$::tsvector @@ $q$\(query)$q$::tsquery")
            }
            #expect(matches == "t", "\(token): \(query)")
        }
    }
}
