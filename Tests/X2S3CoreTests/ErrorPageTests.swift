@testable import Browser
import Logging
import S3Protocol
import Testing
@testable import X2S3Core

/// Errors for people: the same facts as the S3 XML (one `S3Error.Wire`), as a page, when the
/// UI is on and the Accept header prefers HTML; XML for everyone else; HEAD unchanged.
@Suite struct ErrorPageTests {
    static let html = BrowseTests.html
    static let rid = "REQ0123456789ABC"

    func dispatcher(ui: Bool = true, hidden: Bool = false) -> Dispatcher {
        var d = BrowseTests().dispatcher(ListingMemoryBackend(["a/b c/x.txt": [1], "top.txt": [2]]), hidden: hidden)
        if !ui {
            var c = d.config
            c.ui = false
            let backends = d.backends
            d = Dispatcher(config: c, logger: d.logger)
            d.backends = backends
        }
        return d
    }

    func get(_ d: inout Dispatcher, _ uri: String, method: String = "GET", headers: [String: String] = html) -> RecordingSink {
        BrowseTests().get(&d, uri, method: method, headers: headers)
    }

    /// The text between `<a class="btn primary back" href="` and its closing quote, as a browser follows it.
    func backLink(_ body: String) -> String? {
        guard let r = body.firstRange(of: "class=\"btn primary back\" href=\"") else { return nil }
        return String(body[r.upperBound...].prefix { $0 != "\"" }).replacing("&amp;", with: "&")
    }

    @Test(arguments: S3ErrorTests.rows)
    func everyErrorRendersItsWireFactsEscaped(row: ErrorRow) {
        let w = row.error.wire
        let page = HTMLPages.error(w, resource: "/bkt/<b>&\"", requestID: Self.rid,
                                   back: HTMLPages.Back(href: "/bkt/a%20b/", label: "a b/"), context: HTMLPagesTests.pathStyle)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("<span class=\"badge err\">\(w.status)</span>"))
        #expect(page.contains("<code>\(htmlEscape(w.code))</code>"))
        #expect(page.contains("<h1>\(htmlEscape(w.message))</h1>"))
        #expect(page.contains("<code class=\"rid\">\(Self.rid)</code>"))
        #expect(page.contains("href=\"/bkt/a%20b/\">") && page.contains("Back to a b/</a>"))
        #expect(page.contains("<code>/bkt/&lt;b&gt;&amp;&quot;</code>") == w.namesResource)
        #expect(!page.contains("<b>&\""), "the resource is escaped")
        for f in w.fields where !f.value.isEmpty { #expect(page.contains("<code>\(htmlEscape(f.value))</code>")) }
    }

    @Test func aMissingFileIsAPageWithTheStatusCodeRequestIDAndItsFolder() {
        var d = dispatcher()
        let r = get(&d, "/mem/a/b%20c/nope.txt")
        #expect(r.status == 404)
        #expect(r.header("Content-Type") == "text/html; charset=utf-8")
        #expect(r.header("Vary") == "Accept, Accept-Encoding")
        let rid = r.header("x-amz-request-id") ?? "?"
        #expect(r.bodyText.contains("<code class=\"rid\">\(rid)</code>"))
        #expect(r.bodyText.contains("<code>NoSuchKey</code>"))
        #expect(r.bodyText.contains("<code>a/b c/nope.txt</code>"), "the Key field")
        #expect(backLink(r.bodyText) == "/mem/a/b%20c/")
        #expect(get(&d, backLink(r.bodyText)!).status == 200, "the way back works")
        #expect(r.bodyText.contains("Back to b c/</a>"))
    }

    @Test func waysBackLeadToTheNearestFolderOrTheBucketList() {
        var d = dispatcher()
        #expect(backLink(get(&d, "/mem/nope.txt").bodyText) == "/mem/")
        #expect(backLink(get(&d, "/nobucket/x").bodyText) == "/", "no such bucket")
        #expect(backLink(get(&d, "/mem/top.txt", method: "POST").bodyText) == "/", "405 is decided before the bucket")
        var hidden = dispatcher(hidden: true)
        let denied = get(&hidden, "/secret/a/")
        #expect(denied.status == 403 && denied.bodyText.contains("<code>AccessDenied</code>"))
        #expect(backLink(denied.bodyText) == "/", "a hidden bucket has no folder to go back to")
        #expect(backLink(get(&hidden, "/secret/nope").bodyText) == "/")
    }

    @Test func aRangeErrorKeepsItsStatusAndHeaders() {
        var d = dispatcher()
        var headers = Self.html
        headers["HTTP_RANGE"] = "bytes=100-200"
        let r = get(&d, "/mem/top.txt", headers: headers)
        #expect(r.status == 416 && r.header("Content-Range") == "bytes */1")
        #expect(r.header("Content-Type") == "text/html; charset=utf-8")
    }

    @Test func programsAndHEADAndUIOffGetXML() {
        var d = dispatcher()
        for accept in [[:], ["HTTP_ACCEPT": "*/*"], ["HTTP_ACCEPT": "application/xml,text/html"]] {
            let r = get(&d, "/mem/nope.txt", headers: accept)
            #expect(r.status == 404 && r.header("Content-Type") == "application/xml")
            #expect(r.bodyText.contains("<Code>NoSuchKey</Code>"))
            #expect(r.header("Vary") == "Accept", "the same URL answers HTML to browsers")
        }
        let head = get(&d, "/mem/nope.txt", method: "HEAD")
        #expect(head.status == 404 && head.header("Content-Type") == "application/xml" && head.parsed.body.isEmpty)
        var off = dispatcher(ui: false)
        let r = get(&off, "/mem/nope.txt")
        #expect(r.header("Content-Type") == "application/xml" && r.header("Vary") == nil)
    }

    @Test func anUnparseableRequestIsAPageToo() {
        var d = dispatcher()
        let r = get(&d, "/mem/%zz")
        #expect(r.status == 400 && r.header("Content-Type") == "text/html; charset=utf-8")
        #expect(backLink(r.bodyText) == "/")
    }

    @Test func parentPrefixIsTheContainingFolder() {
        #expect(Dispatcher.parentPrefix("a/b/c") == "a/b/")
        #expect(Dispatcher.parentPrefix("a/b/c/") == "a/b/")
        #expect(Dispatcher.parentPrefix("c") == "")
        #expect(Dispatcher.parentPrefix("c/") == "")
    }
}
