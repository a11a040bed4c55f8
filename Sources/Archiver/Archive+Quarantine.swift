import Client
import Foundation

/// A list element kept in quarantine: the server sent it, but it is no usable object.
public struct QuarantinedObject: Sendable, Codable, Equatable {
    public var reason: String
    public var firstSeen: Int64
    public var lastSeen: Int64
    /// The element exactly as received.
    public var raw: String
}

/// One quarantine row, as the chain hashes it.
struct QuarantineRecord {
    var id: Int64
    var instanceID: Int64
    var stream: String
    var apiID: String?
    var reason: String
    var raw: [UInt8]
    var contentHash: [UInt8]
    var placeEpoch: Int64?
    var firstSeenAt: Int64
    var runID: Int64

    var canonical: CanonicalRecord {
        var record = CanonicalRecord(table: ChainTable.quarantine.name)
        record.append(id)
        record.append(instanceID)
        record.append(stream)
        if let apiID { record.append(apiID) } else { record.appendNull() }
        record.append(reason)
        record.appendText(bytes: raw)
        record.appendBlob(contentHash)
        record.append(placeEpoch)
        record.append(firstSeenAt)
        record.append(runID)
        return record
    }
}

extension Archive {
    /// Keeps malformed list elements of one stream: a new element becomes a chain record, one seen before
    /// only moves its `last_seen_at`.
    public func quarantine(_ objects: [MalformedObject], stream: String, instance: Int64, run: Int64, seenAt: Int64) throws {
        guard !objects.isEmpty else { return }
        try transaction {
            var head = try chainHead()
            for object in objects {
                let hash = ContentHash.of(object.raw)
                try database.run("""
                    UPDATE quarantine SET last_seen_at = ? WHERE instance_id = ? AND stream = ? AND content_hash = ?
                    """, [.integer(seenAt), .integer(instance), .text(stream), .blob(hash)])
                guard database.changes == 0 else { continue }
                let record = QuarantineRecord(id: head.length + 1, instanceID: instance, stream: stream, apiID: object.id,
                                              reason: object.reason.replacingNewlines(), raw: object.raw,
                                              contentHash: hash, placeEpoch: object.epochSeconds, firstSeenAt: seenAt,
                                              runID: run)
                let link = head.append(record.canonical)
                try database.run("""
                    INSERT INTO quarantine(id, instance_id, stream, api_id, reason, raw, content_hash, place_epoch,
                                           first_seen_at, run_id, chain_link, last_seen_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.integer(link.sequence), .integer(instance), .text(stream), object.id.map { .text($0) } ?? .null,
                          .text(record.reason), .textBytes(object.raw), .blob(hash),
                          object.epochSeconds.map { .integer($0) } ?? .null, .integer(seenAt), .integer(run),
                          .blob(link.link), .integer(seenAt)])
            }
        }
    }

    /// Marks quarantined elements resolved once an object of their id arrived well-formed.
    public func resolveQuarantine(ids: some Sequence<String>, stream: String, instance: Int64, at time: Int64) throws {
        var waiting = Set<String>()
        try database.forEachRow("""
            SELECT api_id FROM quarantine WHERE instance_id = ? AND stream = ? AND resolved_at IS NULL AND api_id IS NOT NULL
            """, [.integer(instance), .text(stream)]) { waiting.insert($0.string(at: 0)) }
        guard !waiting.isEmpty else { return }
        for id in ids where waiting.contains(id) {
            try database.run("""
                UPDATE quarantine SET resolved_at = ? WHERE instance_id = ? AND stream = ? AND api_id = ? AND resolved_at IS NULL
                """, [.integer(time), .integer(instance), .text(stream), .text(id)])
        }
    }

    /// The oldest place (in time) of an unresolved quarantined element of the stream placed after
    /// `since`: a walk must reach it for the element to be met again, and resolved once well-formed.
    func oldestQuarantinedPlace(instance: Int64, stream: String, since: Int64) throws -> Int64? {
        try database.scalarInt("""
            SELECT min(place_epoch) FROM quarantine
            WHERE instance_id = ? AND stream = ? AND resolved_at IS NULL AND place_epoch > ?
            """, [.integer(instance), .text(stream), .integer(since)])
    }

    /// The stream's elements still in quarantine (not resolved), oldest first.
    func quarantined(instance: Int64, stream: String) throws -> [QuarantinedObject] {
        var objects: [QuarantinedObject] = []
        try database.forEachRow("""
            SELECT reason, first_seen_at, last_seen_at, raw FROM quarantine
            WHERE instance_id = ? AND stream = ? AND resolved_at IS NULL ORDER BY id
            """, [.integer(instance), .text(stream)]) { row in
            objects.append(QuarantinedObject(reason: row.string(at: 0), firstSeen: row.int64(at: 1),
                                             lastSeen: row.int64(at: 2), raw: row.string(at: 3)))
        }
        return objects
    }
}

extension Archive {
    /// Archives a page's objects with `ingest`, quarantines its malformed elements, and resolves the
    /// quarantined ones whose id now arrived well-formed, in one transaction.
    func archive<Item: ListedObject>(_ page: ListPage<Item>, of kind: ObjectKind, instance: Int64, run: Int64,
                                     seenAt: Int64, ingest: ([Item]) throws -> IngestCounts) throws -> IngestCounts {
        try transaction {
            let counts = try ingest(page.items)
            try quarantine(page.malformed, stream: kind.streamName, instance: instance, run: run, seenAt: seenAt)
            try resolveQuarantine(ids: page.items.lazy.map(\.id), stream: kind.streamName, instance: instance, at: seenAt)
            return counts
        }
    }
}
