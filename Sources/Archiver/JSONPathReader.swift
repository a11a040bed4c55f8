import Client

/// A member path into an object's JSON, such as `data.app.fqdn`.
struct JSONPath: Hashable, Sendable, CustomStringConvertible {
    let keys: [String]

    init(_ dotted: String) { keys = dotted.split(separator: ".").map(String.init) }

    var description: String { keys.joined(separator: ".") }
}

/// Reads a fixed set of member paths from objects, each object level in one pass: the paths are merged
/// into a tree (`data` → `app` → `fqdn`, `id`, …) and every object on the way is scanned once for all of
/// its wanted keys, so that a dozen fields of a 3 KB app event cost about one pass over it, not a dozen.
struct JSONPathReader: Sendable {
    /// One level of the tree: the keys wanted from the object at this level, and what is wanted below each.
    private final class Node: Sendable {
        let keys: [String]
        let children: [Node?]
        /// For each key, the index of the path that ends there (nil for a key only passed through).
        let pathIndex: [Int?]

        init(paths: [(keys: ArraySlice<String>, index: Int)]) {
            var order: [String] = []
            var grouped: [String: [(keys: ArraySlice<String>, index: Int)]] = [:]
            for path in paths {
                guard let first = path.keys.first else { continue }
                if grouped[first] == nil { order.append(first) }
                grouped[first, default: []].append((path.keys.dropFirst(), path.index))
            }
            keys = order
            children = order.map { key in
                let deeper = grouped[key, default: []].filter { !$0.keys.isEmpty }
                return deeper.isEmpty ? nil : Node(paths: deeper)
            }
            pathIndex = order.map { key in grouped[key, default: []].first { $0.keys.isEmpty }?.index }
        }
    }

    let paths: [JSONPath]
    private let root: Node

    init(paths: [JSONPath]) {
        self.paths = paths
        root = Node(paths: paths.enumerated().map { (ArraySlice($0.element.keys), $0.offset) })
    }

    /// The value of every path in `json` (nil where a member is missing or an object on the way is not an
    /// object), in the order of `paths`.
    func values(in json: [UInt8]) -> [ArraySlice<UInt8>?] {
        var found = [ArraySlice<UInt8>?](repeating: nil, count: paths.count)
        Self.read(root, in: json, into: &found)
        return found
    }

    private static func read(_ node: Node, in object: [UInt8], into found: inout [ArraySlice<UInt8>?]) {
        guard let members = try? RawJSON.values(forKeys: node.keys, in: object) else { return }
        for (position, member) in members.enumerated() {
            guard let member else { continue }
            if let index = node.pathIndex[position] { found[index] = member }
            if let child = node.children[position], member.first == UInt8(ascii: "{") {
                read(child, in: Array(member), into: &found)
            }
        }
    }
}

/// How an extracted column's stored value follows from a JSON member, the way `json_extract` reads it
/// and the column's type keeps it.
enum ExtractedValue {
    static func read(_ member: ArraySlice<UInt8>, as reading: ExtractedColumn.Reading) -> SQLValue {
        switch reading {
        case .text: text(member)
        case .flag: flag(member)
        case .adminFlagAsRole:
            switch flag(member) {
            case .integer(1): .text("admin")
            case .integer(0): .text("user")
            default: .null
            }
        case .isObject: member.first == UInt8(ascii: "{") ? .integer(1) : .null
        }
    }

    /// A string's text, a boolean as "1" or "0" (json_extract's 1 and 0 in a text column), a number,
    /// object or array as written; NULL for JSON null.
    static func text(_ member: ArraySlice<UInt8>) -> SQLValue {
        switch member.first {
        case UInt8(ascii: "\""): .text(RawJSON.scalarValues(in: member).first ?? "")
        case UInt8(ascii: "n"), nil: .null
        case UInt8(ascii: "t"): .text("1")
        case UInt8(ascii: "f"): .text("0")
        default: .text(String(decoding: member, as: UTF8.self))
        }
    }

    /// 1 for true, 0 for false, NULL for anything else.
    static func flag(_ member: ArraySlice<UInt8>) -> SQLValue {
        switch member.first {
        case UInt8(ascii: "t"): .integer(1)
        case UInt8(ascii: "f"): .integer(0)
        default: .null
        }
    }
}
