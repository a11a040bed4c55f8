/// Why an object's JSON, read back from an archive, does not decode.
public struct ObjectJSONError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

// Decoding one object's JSON outside a response: the archive re-reads the stored versions with the very
// decoder that read them off the wire, so that what it derives from an object (its current-state
// columns) is the same when `verify` recomputes it as when the object arrived.

extension Event {
    /// Decodes one event-log object, as a row of an event-log page is decoded.
    public init(json: [UInt8]) throws {
        self = try ObjectJSON.decode(json, ModelDecoding.event)
    }
}

extension Notification {
    /// Decodes one notification object, as a row of a notifications page is decoded.
    public init(json: [UInt8]) throws {
        self = try ObjectJSON.decode(json, ModelDecoding.notification)
    }
}

extension CloudronTask {
    /// Decodes one task object, as a row of a tasks page is decoded.
    public init(json: [UInt8]) throws {
        self = try ObjectJSON.decode(json, ModelDecoding.task)
    }
}

private enum ObjectJSON {
    /// The model decoders read validated input only (a response body is validated whole first).
    static func decode<T>(_ json: [UInt8], _ decoder: (ArraySlice<UInt8>) throws -> T) throws -> T {
        do {
            try RawJSON.validate(json)
        } catch let error as RawJSONError {
            throw ObjectJSONError(reason: "not JSON: \(error)")
        }
        guard json.first(where: { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }) == 0x7B else {
            throw ObjectJSONError(reason: "not a JSON object")
        }
        do {
            return try decoder(json[...])
        } catch let error as ObjectShapeError {
            throw ObjectJSONError(reason: error.reason)
        }
    }
}
