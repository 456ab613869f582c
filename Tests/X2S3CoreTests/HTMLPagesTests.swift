@testable import Browser
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

@Suite struct HTMLPagesTests {
    static let pathStyle = HTMLPages.Context(scheme: "http", host: "localhost:8080", virtualHost: false, basePath: "/", baseURL: nil)
    static let virtual = HTMLPages.Context(scheme: "https", host: "bkt.data.example.org", virtualHost: true, basePath: "/",
                                           baseURL: "https://data.example.org/")
    static let mounted = HTMLPages.Context(scheme: "https", host: "host.example", virtualHost: false, basePath: "/x2s3/",
                                           baseURL: "https://host.example/x2s3/")

    static func listing(_ keys: [String], prefixes: [String] = [], size: UInt64 = 1536) -> ListPage {
        var p = ListPage()
        p.objects = keys.map { ListedObject(key: $0, size: size, lastModified: Timestamp(seconds: 1_764_064_800), etag: nil) }
        p.commonPrefixes = prefixes
        return p
    }

    static func page(_ keys: [String], prefixes: [String] = [], prefix: String = "dir/", context: HTMLPages.Context = pathStyle,
                     trail: PageTrail = PageTrail(), dataset: Dataset? = nil) -> String {
        HTMLPages.browse(bucket: "bkt", prefix: prefix, page: listing(keys, prefixes: prefixes), trail: trail,
                         dataset: dataset, context: context)
    }

    /// Hostile names: (name, how its href segment must look, how its text must look).
    static let hostile: [(String, String, String)] = [
        ("q#?&<b>.txt", "q%23%3F%26%3Cb%3E.txt", "q#?&amp;&lt;b&gt;.txt"),
        ("a b.txt", "a%20b.txt", "a b.txt"),
        ("a+b.txt", "a%2Bb.txt", "a+b.txt"),
        ("100%.txt", "100%25.txt", "100%.txt"),
        ("☃ ünï.txt", "%E2%98%83%20%C3%BCn%C3%AF.txt", "☃ ünï.txt"),
        ("\"quo'te\".txt", "%22quo%27te%22.txt", "&quot;quo&#39;te&quot;.txt"),
        ("<img src=x onerror=alert(1)>", "%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E", "&lt;img src=x onerror=alert(1)&gt;"),
        ("semi;colon=eq,comma", "semi%3Bcolon%3Deq%2Ccomma", "semi;colon=eq,comma"),
    ]

    @Test(arguments: hostile)
    func hostileFileNamesAreEncodedInHrefsAndEscapedInText(name: String, href: String, text: String) {
        let html = Self.page(["dir/" + name])
        #expect(html.contains("href=\"/bkt/dir/\(href)\""))
        #expect(html.contains(">\(text)</a>"))
        if name.contains("<") { #expect(!html.contains(name)) }
    }

    @Test(arguments: hostile)
    func hostileFolderNamesAreEncodedInHrefsBreadcrumbsAndTitles(name: String, href: String, text: String) {
        let folder = HTMLPages.browse(bucket: "bkt", prefix: "dir/" + name + "/", page: ListPage(), trail: PageTrail(),
                                      dataset: nil, context: Self.pathStyle)
        #expect(folder.contains("<span aria-current=\"page\">\(text)</span>"))
        #expect(folder.contains("<h1>\(text)/</h1>"))
        let parent = Self.page([], prefixes: ["dir/" + name + "/"])
        #expect(parent.contains("href=\"/bkt/dir/\(href)/\""))
    }

    @Test func controlCharactersNeverReachTheHTML() {
        #expect(htmlEscape("a\u{01}b\u{7F}c\td") == "a\u{FFFD}b\u{FFFD}c\td")
    }

    @Test func urlSegmentKeepsOnlyUnreservedCharacters() {
        #expect(HTMLPages.urlSegment("AZaz09-._~") == "AZaz09-._~")
        #expect(HTMLPages.urlSegment("/ ?#[]@!$&'()*+,;=%") == "%2F%20%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%25")
        #expect(HTMLPages.urlPath("a b/c#d/") == "a%20b/c%23d/")
        #expect(HTMLPages.urlPath("a//b") == "a//b")
    }

    @Test func humanSizesUseBinaryUnitsWithOneDecimal() {
        let table: [(UInt64, String)] = [(0, "0.0 B"), (1023, "1023.0 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
                                         (5 << 30, "5.0 GiB"), (1_048_575, "1.0 MiB")]
        for (n, text) in table { #expect(HTMLPages.humanSize(n) == text) }
    }

    @Test func folderPageListsFoldersThenFilesWithSizesAndUTCDates() {
        let html = Self.page(["dir/", "dir/b.txt", "dir/a.txt"], prefixes: ["dir/sub/", "dir/data.zarr/"])
        let order = ["sub/", "data.zarr/", "b.txt", "a.txt"].map { html.firstRange(of: ">\($0)</a>")?.lowerBound }
        #expect(order.allSatisfy { $0 != nil })
        #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted())
        #expect(!html.contains(">dir/</a>"), "the folder marker is the folder itself")
        #expect(html.contains("<span class=\"badge\">Zarr</span>"))
        #expect(html.contains("title=\"1,536 bytes\">1.5 KiB</td>"))
        #expect(html.contains("<time datetime=\"2025-11-25T10:00:00.000Z\">2025-11-25 10:00</time>"))
        #expect(html.contains("2 folders · 2 files"))
        #expect(html.contains("href=\"/bkt/dir/a.txt\" download"))
        #expect(html.contains("<meta name=\"robots\" content=\"noindex,follow\">"))
    }

    @Test func breadcrumbLinksEveryLevelButTheCurrentOne() {
        let html = HTMLPages.browse(bucket: "bkt", prefix: "a/b c/d/", page: ListPage(), trail: PageTrail(), dataset: nil,
                                    context: Self.pathStyle)
        let crumbs = String(html[html.firstRange(of: "<nav class=\"crumbs\"")!.lowerBound..<html.firstRange(of: "</nav>")!.upperBound])
        #expect(crumbs == "<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><a href=\"/\">Buckets</a><span class=\"sep\">/</span>"
            + "<a href=\"/bkt/\">bkt</a><span class=\"sep\">/</span><a href=\"/bkt/a/\">a</a><span class=\"sep\">/</span>"
            + "<a href=\"/bkt/a/b%20c/\">b c</a><span class=\"sep\">/</span><span aria-current=\"page\">d</span></nav>")
        #expect(html.contains("<tr class=\"up\"><td class=\"name\" colspan=\"4\"><a href=\"/bkt/a/b%20c/\">"))
    }

    @Test func bucketRootParentLinksToTheBucketList() {
        let html = Self.page([], prefix: "")
        #expect(html.contains("<a href=\"/\"><svg class=\"icon i-up\""))
        #expect(html.contains("<span aria-current=\"page\">bkt</span>"))
    }

    @Test func emptyFolderSaysSo() {
        #expect(Self.page([]).contains("This folder is empty."))
    }

    @Test func virtualHostLinksAreRelativeToTheBucketRoot() {
        let html = Self.page(["dir/q#.txt"], prefixes: ["dir/sub/"], context: Self.virtual)
        #expect(html.contains("href=\"/dir/q%23.txt\""))
        #expect(html.contains("href=\"/dir/sub/\""))
        #expect(html.contains("<a href=\"https://data.example.org/\">Buckets</a>"))
        #expect(html.contains("<a href=\"/\">bkt</a>"))
        #expect(html.contains("https://bkt.data.example.org/dir/</code>"))
        #expect(html.contains("S3 endpoint <code>https://data.example.org/</code>"))
    }

    @Test func basePathIsCarriedByEveryLink() {
        let html = Self.page(["dir/f.txt"], prefixes: ["dir/sub/"], context: Self.mounted)
        #expect(html.contains("href=\"/x2s3/bkt/dir/f.txt\""))
        #expect(html.contains("href=\"/x2s3/bkt/dir/sub/\""))
        #expect(html.contains("href=\"/x2s3/static/x2s3.css\""))
        #expect(html.contains("src=\"/x2s3/static/x2s3.js\""))
        #expect(html.contains("href=\"/x2s3/favicon.ico\""))
        #expect(html.contains("<a href=\"/x2s3/\">Buckets</a>"))
        #expect(html.contains("<code id=\"u-https\">https://host.example/x2s3/bkt/dir/</code>"))
        #expect(hrefs(html).allSatisfy { $0.hasPrefix("/x2s3/") || $0.hasPrefix("#") })
    }

    @Test func indexListsTheGivenBucketsWithTheirKind() {
        let targets = [Target(name: "files & more", kind: .file(FileOptions(path: "/d"))),
                       Target(name: "up", kind: .s3(S3Options(bucket: "x")))]
        let html = HTMLPages.index(targets: targets, context: Self.mounted)
        #expect(html.contains("<a href=\"/x2s3/files%20%26%20more/\">files &amp; more</a>"))
        #expect(html.contains("<a href=\"/x2s3/up/\">up</a></td><td><span class=\"kind\">S3</span>"))
        #expect(html.contains("2 buckets"))
        #expect(HTMLPages.index(targets: [], context: Self.pathStyle).contains("No buckets"))
    }

    @Test func copyableURLsWorkWithoutJavaScript() {
        let html = Self.page([], prefix: "a b/")
        #expect(html.contains("<code id=\"u-s3\">s3://bkt/a b/</code>"))
        #expect(html.contains("<code id=\"u-https\">http://localhost:8080/bkt/a%20b/</code>"))
        #expect(html.contains("data-copy=\"u-s3\" hidden>Copy</button>"))
        #expect(html.contains("?list-type=2&amp;delimiter=%2F&amp;prefix=a%20b%2F"))
    }

    /// The script builds each file's s3 URL from the table's prefix and the name shown.
    @Test func theListingCarriesTheS3PrefixForPerFileCopyButtons() {
        #expect(Self.page(["q#&<b>\"/x"], prefix: "q#&<b>\"/").contains("<table class=\"listing\" data-s3-prefix=\"s3://bkt/q#&amp;&lt;b&gt;&quot;/\">"))
        #expect(PageScript.source.contains("table.listing[data-s3-prefix]"))
    }

    @Test func assetsAreServedFromTheBinary() {
        #expect(Assets.named("x2s3.css")?.contentType == "text/css; charset=utf-8")
        #expect(Assets.named("x2s3.js")?.bytes.isEmpty == false)
        #expect(Assets.named("logo.svg")?.contentType == "image/svg+xml")
        #expect(Assets.named("favicon.ico")?.bytes.prefix(4) == [0, 0, 1, 0])
        #expect(Assets.named("nope.css") == nil)
    }
}

/// Every `href="…"` value in a page, as written (still HTML-escaped).
func hrefs(_ html: String) -> [String] {
    html.split(separator: "href=\"", omittingEmptySubsequences: false).dropFirst().map { String($0.prefix { $0 != "\"" }) }
}
