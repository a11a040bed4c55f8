/// One archived object version as read back for `events|notifications|tasks --format ndjson`.
public struct ArchivedObject: Sendable, Equatable {
    /// The instance's name.
    public var instance: String
    public var apiID: String
    /// 1, 2, ...; the current state is the highest.
    public var version: Int
    public var isCurrent: Bool
    /// Creation time (epoch seconds) of this version.
    public var creationEpoch: Int64
    /// When cloudron-audit first saw this content (epoch seconds).
    public var firstSeenAt: Int64
    /// The object's JSON exactly as the server sent it.
    public var raw: [UInt8]
}

extension Archive {
    /// Calls `body` for each archived object, oldest creation first (ties by API id), with only the
    /// current version or, with `history`, every version (oldest version first).
    /// `instance` restricts to one instance by name.
    public func forEachObject(_ kind: ObjectKind, history: Bool = false, instance: String? = nil,
                              _ body: (ArchivedObject) throws -> Void) throws {
        let sql = """
            SELECT i.name, c.api_id, v.version, v.version = c.version, v.creation_epoch, v.first_seen_at, v.raw
            FROM \(kind.currentTable) c
            JOIN instances i ON i.id = c.instance_id
            JOIN \(kind.versionTable) v ON v.\(kind.parentColumn) = c.id \(history ? "" : "AND v.version = c.version")
            WHERE ?1 IS NULL OR i.name = ?1
            ORDER BY c.creation_epoch, c.api_id, i.name, v.version
            """
        let statement = try database.prepare(sql)
        try database.serialized {
            try statement.bind(instance, at: 1)
            while try statement.step() {
                try body(ArchivedObject(instance: statement.string(at: 0), apiID: statement.string(at: 1),
                                        version: statement.int(at: 2), isCurrent: statement.bool(at: 3),
                                        creationEpoch: statement.int64(at: 4), firstSeenAt: statement.int64(at: 5),
                                        raw: statement.bytes(at: 6)))
            }
        }
    }
}
