@testable import Browser
@testable import S3Protocol
import Testing
@testable import X2S3Core

@Suite struct PageTrailTests {
    /// Tokens as S3 and x2s3 write them: base64 (`+/=`) and worse.
    static let tokens = ["1/abc+def==", "a&b=c", "x y+z%2F", "☃/=&+#?"]

    /// What the server sees when the browser follows `folder + query`.
    static func follow(_ query: String) throws -> PageTrail {
        let request = try S3Request.parse(params: ["REQUEST_METHOD": "GET", "REQUEST_URI": "/bkt/dir/" + query])
        return PageTrail(query: request.query)
    }

    @Test func firstPageHasNoPreviousPage() {
        let t = PageTrail(query: [])
        #expect(t == PageTrail())
        #expect(t.previousQuery == nil && t.isComplete)
    }

    @Test(arguments: tokens)
    func nextLinkCarriesTheTokenExactly(token: String) throws {
        let q = PageTrail().nextQuery(nextToken: token)
        #expect(!q.dropFirst().contains("+") && !q.contains("/") && !q.contains("#"))
        let second = try Self.follow(q)
        #expect(second == PageTrail(token: token, previous: [], number: 2))
        #expect(second.previousQuery == "", "page 2 goes back to the bare folder URL")
    }

    @Test func walkingForwardThenBackReturnsThroughEveryPage() throws {
        var pages = [PageTrail()]
        for token in Self.tokens { pages.append(try Self.follow(pages.last!.nextQuery(nextToken: token))) }
        #expect(pages.map(\.number) == [1, 2, 3, 4, 5])
        #expect(pages.last!.previous == Array(Self.tokens.dropLast()))
        var back = pages.last!
        for expected in pages.dropLast().reversed() {
            guard let q = back.previousQuery else { Issue.record("no previous page at \(back.number)"); return }
            back = q.isEmpty ? PageTrail() : try Self.follow(q)
            #expect(back == expected)
        }
        #expect(back.previousQuery == nil)
    }

    @Test func longTrailsAreCutFromTheOldestEnd() throws {
        let big = (0..<40).map { String(repeating: "t\($0)&", count: 50) }
        var t = PageTrail()
        for token in big { t = try Self.follow(t.nextQuery(nextToken: token, budget: 2000)) }
        #expect(t.number == 41)
        #expect(!t.isComplete)
        #expect(t.previous.last == big[big.count - 2], "the page just before is still reachable")
        #expect(t.nextQuery(nextToken: "n", budget: 2000).utf8.count < 2000 + 200)
        // Stepping back until the trail runs out: previous stops, the page number stays honest.
        while let q = t.previousQuery { t = try Self.follow(q) }
        #expect(t.number > 2 && t.previous.isEmpty)
    }

    @Test func tamperedPageNumbersAreClamped() throws {
        let t = try Self.follow("?continuation-token=T&page=-5&prev=A&prev=B")
        #expect(t.number == 4)
        #expect(try Self.follow("?page=9").number == 1)
        #expect(try Self.follow("?continuation-token=&prev=A") == PageTrail())
    }

    @Test func pagerLinksAreEscapedForTheAttribute() {
        var page = ListPage()
        page.isTruncated = true
        page.nextContinuationToken = "a&b+c/d=e"
        let html = HTMLPages.browse(bucket: "bkt", prefix: "d/", page: page,
                                    trail: PageTrail(token: "p+1/=", previous: ["p0&"], number: 3),
                                    dataset: nil, context: HTMLPagesTests.pathStyle)
        #expect(html.contains("<a class=\"btn next\" rel=\"next\" href=\"/bkt/d/?continuation-token=a%26b%2Bc%2Fd%3De&amp;page=4&amp;prev=p0%26&amp;prev=p%2B1%2F%3D\">"))
        #expect(html.contains("<a class=\"btn prev\" rel=\"prev\" href=\"/bkt/d/?continuation-token=p0%26&amp;page=2\">"))
        #expect(html.contains("<a class=\"btn first\" href=\"/bkt/d/\">First page</a>"))
        #expect(html.contains("Page 3"))
        #expect(html.contains("&amp;continuation-token=p%2B1%2F%3D\">this page as S3 XML"))
    }

    @Test func singlePageFoldersHaveNoPager() {
        #expect(!HTMLPagesTests.page(["dir/a"]).contains("class=\"pager\""))
    }
}
