// TEMPORARY stand-in until the listing branch lands (its version replaces this file).
enum ListXML {
    static func render(bucket: String, query: ListQuery, page: ListPage) -> String { "" }
}
