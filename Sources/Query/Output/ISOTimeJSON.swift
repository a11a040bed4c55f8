import Foundation

/// JSON of a value whose times are epoch seconds (`ArchiveStatus`, `StoreStatus`), with those times written
/// as ISO 8601 in a zone, as the text forms show them: `status --format json` reads like `status`.
///
/// The value is encoded as usual, then every integer under one of `timeKeys` becomes a time string; the
/// types keep their epoch seconds, which the archive and the central store compare and store.
public enum ISOTimeJSON {
    /// Pretty, sorted JSON of `value` with the members named in `timeKeys` as ISO 8601 times.
    public static func encode<T: Encodable>(_ value: T, timeKeys: Set<String>, zone: TimeZone? = nil) throws -> Data {
        let tree = try JSONDecoder().decode(JSONTree.self, from: try JSONEncoder().encode(value))
        var times = TimestampFormatter(zone: zone)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(tree.timesAsText(timeKeys, times: &times))
    }
}

/// Any JSON value, decoded and re-encoded without loss of its integers.
enum JSONTree: Codable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONTree])
    case object([String: JSONTree])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONTree].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONTree].self)) }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    func timesAsText(_ keys: Set<String>, times: inout TimestampFormatter) -> JSONTree {
        switch self {
        case .array(let items):
            return .array(items.map { $0.timesAsText(keys, times: &times) })
        case .object(let members):
            var out: [String: JSONTree] = [:]
            for (key, value) in members {
                if keys.contains(key), case .integer(let epoch) = value {
                    out[key] = .string(times.string(from: epoch))
                } else {
                    out[key] = value.timesAsText(keys, times: &times)
                }
            }
            return .object(out)
        default:
            return self
        }
    }
}
