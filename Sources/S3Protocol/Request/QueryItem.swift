/// One `name=value` item of a request's query, form-decoded. A struct, not a tuple: an array
/// of tuples is destroyed through the runtime's generic tuple metadata, looked up on every
/// request (about 1 µs for a presigned URL's query).
public struct QueryItem: Sendable, Equatable {
    public var name: String
    /// Nil for a bare `?acl`.
    public var value: String?

    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }
}
