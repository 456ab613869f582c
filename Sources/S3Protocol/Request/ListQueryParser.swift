/// Query parameters of a bucket GET → a validated `ListQuery`, the way S3 validates them.
/// Pure: no I/O. `list-type` is the router's business.
public enum ListQueryParser {
    /// `query`: items already percent/form-decoded, in request order (a repeated parameter:
    /// the last one wins). Throws 400 InvalidArgument for a bad `max-keys`, `encoding-type` or
    /// `fetch-owner`. Parameters of the other version (`marker` on V2, `start-after` and
    /// `continuation-token` on V1) are ignored, as S3 ignores them.
    public static func parse(_ query: [QueryItem], version: ListQuery.Version) throws(S3Error) -> ListQuery {
        var q = ListQuery(version: version)
        for item in query {
            let (name, value) = (item.name, item.value)
            switch (name, version) {
            case ("prefix", _): q.prefix = value ?? ""
            case ("delimiter", _): q.delimiter = value ?? ""
            case ("max-keys", _): q.maxKeys = try maxKeys(value)
            case ("encoding-type", _):
                guard value == "url" else {
                    throw .invalidArgument("Invalid Encoding Method specified in Request",
                                           argumentName: "encoding-type", argumentValue: value ?? "")
                }
                q.encodeURL = true
            case ("start-after", .v2): q.startAfter = value ?? ""
            case ("continuation-token", .v2): q.continuationToken = value ?? ""
            case ("fetch-owner", .v2): q.fetchOwner = try bool(value, name: name)
            case ("marker", .v1): q.marker = value ?? ""
            default: break
            }
        }
        return q
    }

    /// S3's rules: digits only (an optional leading `-` is recognised to be refused), within
    /// 32-bit range; values above 1000 are served as 1000.
    static func maxKeys(_ value: String?) throws(S3Error) -> Int {
        let text = value ?? ""
        let negative = text.hasPrefix("-")
        let digits = negative ? text.utf8.dropFirst() : text.utf8[...]
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let n = Int32(String(decoding: digits, as: UTF8.self))
        else {
            throw .invalidArgument("Provided max-keys not an integer or within integer range",
                                   argumentName: "max-keys", argumentValue: text)
        }
        if negative && n != 0 {
            throw .invalidArgument("Argument maxKeys must be an integer between 0 and 2147483647",
                                   argumentName: "max-keys", argumentValue: text)
        }
        return min(Int(n), 1000)
    }

    private static func bool(_ value: String?, name: String) throws(S3Error) -> Bool {
        switch value?.lowercased() {
        case "true": return true
        case "false": return false
        default:
            throw .invalidArgument("Invalid Argument", argumentName: name, argumentValue: value ?? "")
        }
    }
}
