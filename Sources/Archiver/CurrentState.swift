import Client

/// One current-state column and how its value follows from an object.
///
/// Each kind's list (`ArchivableObject.columns`) is the only place a column's derivation is written:
/// ingest stores the values it gives, and `verify` decodes the latest version's raw JSON with the
/// Client's decoder and compares every column of the list. A column added to the list (and to the
/// schema) is therefore stored and verified without further code.
struct CurrentStateColumn<Fields>: Sendable {
    let name: String
    /// Whether the kind's FTS index covers the column; the index's columns are these, in list order.
    let searchable: Bool
    /// Whether the current-state table holds the value. An event's search text is only indexed (schema 11):
    /// it is a third of the raw JSON's size, and whoever needs it again (the FTS 'delete' of a replaced
    /// version, search's snippets, `verify`) recomputes it from the raw JSON with this same derivation.
    let stored: Bool
    let value: @Sendable (Fields) -> SQLValue

    init(_ name: String, searchable: Bool = false, stored: Bool = true, _ value: @escaping @Sendable (Fields) -> SQLValue) {
        self.name = name
        self.searchable = searchable
        self.stored = stored
        self.value = value
    }
}

/// An object of one of the archived kinds, as the Client decodes it.
protocol ArchivableObject: ListedObject {
    /// What the columns read from the object, found once per object: a decoded model's fields are at
    /// hand, but a member of the raw JSON costs a pass over it, which several columns should share.
    associatedtype Fields

    static var kind: ObjectKind { get }
    /// The current-state columns, in table order.
    static var columns: [CurrentStateColumn<Fields>] { get }

    /// Decodes one archived version's JSON exactly as the Client decoded it when it arrived.
    init(json: [UInt8]) throws

    var apiID: String { get }
    /// The object's JSON exactly as received.
    var raw: [UInt8] { get }
    var fields: Fields { get }

    /// Stores what is extracted from each version besides the current state (events: `event_fields`).
    func storeExtractedFields(in database: Database, versionID: Int64, parentID: Int64, version: Int64,
                              instanceID: Int64) throws
}

extension ArchivableObject {
    /// The values of the stored `columns`, in order.
    var currentStateValues: [SQLValue] {
        let fields = fields
        return Self.columns.filter(\.stored).map { $0.value(fields) }
    }

    /// The values the kind's FTS index holds for the object, in the index's column order.
    var searchableValues: [SQLValue] {
        let fields = fields
        return Self.columns.filter(\.searchable).map { $0.value(fields) }
    }

    /// Both, from one reading of the object (what ingest stores and indexes).
    var storedAndSearchableValues: (stored: [SQLValue], searchable: [SQLValue]) {
        let fields = fields
        return (Self.columns.filter(\.stored).map { $0.value(fields) }, Self.columns.filter(\.searchable).map { $0.value(fields) })
    }

    static var currentStateColumns: [String] { columns.filter(\.stored).map(\.name) }
    static var searchableColumns: [String] { columns.filter(\.searchable).map(\.name) }
}

extension ArchivableObject {
    /// Nothing, for all kinds but events.
    func storeExtractedFields(in database: Database, versionID: Int64, parentID: Int64, version: Int64,
                              instanceID: Int64) throws {}
}

extension ArchivableObject where Fields == Self {
    var fields: Self { self }
}

// MARK: The kinds

/// An event's `source` and `data` members, located in one validating pass over its JSON (a body that
/// does not parse has neither, and indexes nothing).
struct EventFields {
    let event: Event
    let source: ArraySlice<UInt8>?
    let data: ArraySlice<UInt8>?

    init(_ event: Event) {
        self.event = event
        let members = (try? RawJSON.values(forKeys: ["source", "data"], in: event.raw)) ?? [nil, nil]
        source = members[0]
        data = members[1]
    }
}

extension Event: ArchivableObject {
    static let kind = ObjectKind.events
    var apiID: String { id }
    var fields: EventFields { EventFields(self) }

    static let columns: [CurrentStateColumn<EventFields>] = [
        .init("action", searchable: true) { .text($0.event.action) },
        .init("creation_epoch") { .integer($0.event.epochSeconds) },
        .init("source_text", searchable: true, stored: false) { .text(SearchText.values(of: $0.source)) },
        .init("data_text", searchable: true, stored: false) { .text(SearchText.values(of: $0.data)) },
    ]

    /// Every version's fields of `event_fields` (the list is `ExtractedColumns.events`).
    func storeExtractedFields(in database: Database, versionID: Int64, parentID: Int64, version: Int64,
                              instanceID: Int64) throws {
        try ExtractedColumns.storeEventFields(database, versionID: versionID, eventID: parentID, version: version,
                                              instanceID: instanceID, action: action, creationEpoch: epochSeconds, raw: raw)
    }
}

extension Client.Notification: ArchivableObject {
    static let kind = ObjectKind.notifications
    var apiID: String { id }

    /// A non-string `title` (a number is kept as its text) is "": the Client reads it so at ingest,
    /// and `verify` decodes with the same reader. `message` is any scalar as text, as ingest has
    /// always stored it.
    static let columns: [CurrentStateColumn<Client.Notification>] = [
        .init("event_api_id") { $0.eventId.map { .text($0) } ?? .null },
        .init("title", searchable: true) { .text($0.title) },
        .init("message", searchable: true) { .text(RawField.scalar("message", in: $0.raw) ?? "") },
        .init("creation_epoch") { .integer($0.epochSeconds) },
        .init("acknowledged") { .integer($0.acknowledged ? 1 : 0) },
    ]
}

extension CloudronTask: ArchivableObject {
    static let kind = ObjectKind.tasks
    var apiID: String { id }

    static let columns: [CurrentStateColumn<CloudronTask>] = [
        .init("type", searchable: true) { .text($0.type) },
        .init("message", searchable: true) { .text($0.message ?? "") },
        .init("error_message", searchable: true) { .text($0.errorMessage ?? "") },
        .init("percent") { .integer(Int64($0.percent)) },
        .init("active") { .integer($0.active ? 1 : 0) },
        .init("pending") { $0.pending.map { .integer($0 ? 1 : 0) } ?? .null },
        .init("success") { $0.success.map { .integer($0 ? 1 : 0) } ?? .null },
        .init("finished") { .integer($0.isFinished ? 1 : 0) },
        .init("creation_epoch") { .integer($0.epochSeconds) },
    ]
}
