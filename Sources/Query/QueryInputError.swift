/// A value given by the user (a time, a filter, a search query, a format name) that cannot be used.
///
/// Every case is reported as one line that names the accepted forms, so a caller can print it as is.
/// The CLI maps this type to exit status 64 (EX_USAGE): a bad value must never look like an empty result.
public struct QueryInputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The one-line message, without a trailing newline.
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
