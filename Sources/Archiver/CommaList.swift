/// The grammar of every comma-separated option value (`sync --streams eventlog,tasks`, `search --in
/// events,tasks`, `report --all --formats csv,json`), so that spaces and empty items mean the same
/// everywhere.
public enum CommaList {
    /// Parses each item, trimmed of spaces, in order. An empty item (`a,,b`, a trailing comma) is parsed
    /// like any other, so that the item's parser refuses it by name instead of it vanishing.
    public static func parse<Item>(_ text: String, _ item: (String) throws -> Item) rethrows -> [Item] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map {
            try item($0.trimmingCharacters(in: .whitespaces))
        }
    }
}
