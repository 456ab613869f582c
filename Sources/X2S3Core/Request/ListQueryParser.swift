// TEMPORARY stand-in until the listing branch lands (its version replaces this file).
enum ListQueryParser {
    static func parse(_ query: [(name: String, value: String?)], version: ListQuery.Version) throws(S3Error) -> ListQuery {
        var q = ListQuery(version: version)
        for (n, v) in query {
            switch n {
            case "prefix": q.prefix = v ?? ""
            case "delimiter": q.delimiter = v ?? ""
            case "max-keys":
                guard let v, let m = Int(v), m >= 0 else { throw .invalidArgument("Provided max-keys not an integer or within integer range", argumentName: "max-keys", argumentValue: v ?? "") }
                q.maxKeys = min(m, 1000)
            default: break
            }
        }
        return q
    }
}
