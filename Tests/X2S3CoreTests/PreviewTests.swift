@testable import Browser
import Logging
@testable import Storage
import Testing
@testable import X2S3Core

/// Previews (`?preview`), the folder page's search (`find`), and the formats a preview renders.
@Suite struct PreviewTests {
    static let html = BrowseTests.html

    func dispatcher(_ objects: [String: [UInt8]], ui: Bool = true, hidden: Bool = false) -> Dispatcher {
        var c = Config()
        c.ui = ui
        c.targets = [Target(name: "mem", browseable: !hidden, kind: .file(FileOptions(path: "/nonexistent")))]
        var d = Dispatcher(config: c, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        d.backends["mem"] = ListingMemoryBackend(objects)
        return d
    }

    func get(_ d: inout Dispatcher, _ uri: String, method: String = "GET", headers: [String: String] = html) -> RecordingSink {
        var sink = RecordingSink()
        d.handle(params: params(uri, method: method, headers: headers), sink: &sink)
        return sink
    }

    @Test func kindsFollowTheNameThenTheStoredType() {
        #expect(Preview.kind(name: "a.json") == .json)
        #expect(Preview.kind(name: ".zattrs") == .json)
        #expect(Preview.kind(name: "info") == .json)
        #expect(Preview.kind(name: "README.md") == .markdown)
        #expect(Preview.kind(name: "README") == .text)
        #expect(Preview.kind(name: "t.csv") == .table(separator: UInt8(ascii: ",")))
        #expect(Preview.kind(name: "t.tsv") == .table(separator: 9))
        #expect(Preview.kind(name: "p.PNG") == .image)
        #expect(Preview.kind(name: "x.svg") == .image)
        #expect(Preview.kind(name: "v.tif") == .binary)
        #expect(Preview.kind(name: "0.0.1") == .binary, "chunks are never read")
        #expect(Preview.kind(name: "page.html") == .text, "HTML is shown as source, never rendered")
        #expect(Preview.kind(name: "blob") == .sniff)
        #expect(Preview.kind(name: "blob", storedType: "text/plain; charset=utf-8") == .text)
        #expect(Preview.linksToPreview(name: "a.txt") && !Preview.linksToPreview(name: "blob"))
    }

    @Test func jsonIsReindentedWithItsOwnNumbersAndEscaped() {
        let html = JSONPretty.html(Array(#"{"a":[1,2.50,{}],"b<":"</script>","n":12345678901234567890,"e":[],"t":true}"#.utf8))
        #expect(html?.replacing("&quot;", with: "\"") == """
        {
          <span class="k">"a"</span>: [
            <span class="n">1</span>,
            <span class="n">2.50</span>,
            {}
          ],
          <span class="k">"b&lt;"</span>: <span class="s">"&lt;/script&gt;"</span>,
          <span class="k">"n"</span>: <span class="n">12345678901234567890</span>,
          <span class="k">"e"</span>: [],
          <span class="k">"t"</span>: <span class="l">true</span>
        }
        """)
        for bad in ["{", "[1,]", "{\"a\" 1}", "1 2", "{\"a\":01}", "\"\u{01}\"", "nul", ""] {
            #expect(JSONPretty.html(Array(bad.utf8)) == nil, "\(bad)")
        }
        #expect(JSONPretty.html(Array(" 42 ".utf8)) == "<span class=\"n\">42</span>")
    }

    @Test func csvKeepsQuotedSeparatorsAndLineBreaksAndCountsEveryRow() {
        let t = DelimitedText.rows(Array("h1,h2\r\n\"a,b\",\"say \"\"hi\"\"\nthere\"\n<x>,2\n3\n".utf8), separator: UInt8(ascii: ","), maxRows: 3)
        #expect(t.rows == [["h1", "h2"], ["a,b", "say \"hi\"\nthere"], ["<x>", "2"]])
        #expect(t.total == 4)
        let tsv = DelimitedText.rows(Array("a\t\"b\n1\t2".utf8), separator: 9, maxRows: 10)
        #expect(tsv.rows == [["a", "\"b"], ["1", "2"]] && tsv.total == 2)
    }

    @Test func markdownRendersASafeSubsetAndEscapesEverythingElse() {
        let html = Markdown.html("""
        # Title <script>alert(1)</script>

        Some *em* and **strong** and `<code>` and [a link](other%20file.txt) and [bad](javascript:alert(1)).
        <img src=x onerror=alert(1)>

        - one
        - [ext](https://example.org/a b)

        > quoted _text_

        ```
        <b>not bold</b>
        ```
        ![pic](pic.png) ![far](https://example.org/p.png)
        ---
        """)
        #expect(html.contains("<h1>Title &lt;script&gt;alert(1)&lt;/script&gt;</h1>"))
        #expect(html.contains("<em>em</em> and <strong>strong</strong> and <code>&lt;code&gt;</code>"))
        #expect(html.contains("<a href=\"other%20file.txt\">a link</a>"))
        #expect(html.contains(" and bad).") && !html.contains("javascript:"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(html.contains("<ul>\n<li>one</li>\n<li><a href=\"https://example.org/a\" rel=\"nofollow noopener\">ext</a></li>\n</ul>"))
        #expect(html.contains("<blockquote>\n<p>quoted <em>text</em></p>\n</blockquote>"))
        #expect(html.contains("<pre><code>&lt;b&gt;not bold&lt;/b&gt;</code></pre>"))
        #expect(html.contains("<img src=\"pic.png\" alt=\"pic\"> <a href=\"https://example.org/p.png\" rel=\"nofollow noopener\">far</a>"))
        #expect(html.contains("<hr>"))
        #expect(!html.contains("<script") && !html.contains("<img src=x"))
        #expect(Markdown.safeURL("JaVaScRiPt:x") == nil && Markdown.safeURL("data:text/html,x") == nil)
        #expect(Markdown.safeURL("a\"onmouseover=x") == "a%22onmouseover=x")
    }

    @Test func markdownFullOfUnmatchedMarkersStaysLinear() {
        let text = String(repeating: "*a [b `c _d ", count: 20_000)
        let start = ContinuousClock.now
        #expect(!Markdown.html(text).isEmpty)
        #expect(ContinuousClock.now - start < .seconds(20), "only a quadratic scan takes this long")
    }

    @Test func previewPagesShowTheObjectWithRawAndDownloadLinks() {
        var d = dispatcher(["d/q#?&<b>.json": Array(#"{"k":"<script>"}"#.utf8), "d/t.csv": Array("a,b\n<i>,2\n".utf8),
                            "d/p.png": [0x89, 0x50], "d/big.txt": [UInt8](repeating: 65, count: Int(Preview.textLimit) + 1),
                            "d/blob": [0, 1, 2], "d/notes": Array("plain words\n".utf8), "d/e.txt": []])
        let r = get(&d, "/mem/d/q%23%3F%26%3Cb%3E.json?preview")
        #expect(r.status == 200 && r.header("Content-Type") == "text/html; charset=utf-8")
        #expect(r.header("Cache-Control") == "no-cache" && r.header("Vary") == "Accept, Accept-Encoding")
        #expect(r.bodyText.contains("<span class=\"s\">&quot;&lt;script&gt;&quot;</span>"))
        #expect(r.bodyText.contains("<a class=\"btn primary raw\" href=\"/mem/d/q%23%3F%26%3Cb%3E.json\">"))
        #expect(r.bodyText.contains("href=\"/mem/d/q%23%3F%26%3Cb%3E.json?response-content-disposition=attachment%3B%20filename%3D%22q%23%3F%26%3Cb%3E.json%22\""))
        #expect(r.bodyText.contains("<a class=\"btn folder\" href=\"/mem/d/\">"))
        #expect(!r.bodyText.contains("<b>"))
        #expect(get(&d, "/mem/d/t.csv?preview").bodyText.contains("<thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>&lt;i&gt;</td><td>2</td></tr></tbody>"))
        #expect(get(&d, "/mem/d/p.png?preview").bodyText.contains("<img src=\"/mem/d/p.png\" alt=\"p.png\">"))
        #expect(get(&d, "/mem/d/big.txt?preview").bodyText.contains("previews show files up to 1.0 MiB"))
        #expect(get(&d, "/mem/d/blob?preview").bodyText.contains("There is no preview for this type of file (<code>application/octet-stream</code>)"))
        #expect(get(&d, "/mem/d/notes?preview").bodyText.contains("<pre class=\"preview text\"><code>plain words\n</code></pre>"))
        #expect(get(&d, "/mem/d/e.txt?preview").bodyText.contains("This file is empty."))
        // HEAD: the page's headers, no body. The object URL itself answers bytes, whatever Accept says.
        let g = get(&d, "/mem/d/t.csv?preview"), h = get(&d, "/mem/d/t.csv?preview", method: "HEAD")
        #expect(h.status == 200 && h.parsed.body.isEmpty && h.header("Content-Length") == g.header("Content-Length"))
        #expect(get(&d, "/mem/d/t.csv").parsed.body == Array("a,b\n<i>,2\n".utf8))
    }

    @Test func previewErrorsAreNegotiatedAndHiddenBucketsBehaveLikeGet() {
        var d = dispatcher(["d/a.txt": Array("x".utf8)])
        let page = get(&d, "/mem/d/nope.txt?preview")
        #expect(page.status == 404 && page.header("Content-Type") == "text/html; charset=utf-8")
        let xml = get(&d, "/mem/d/nope.txt?preview", headers: [:])
        #expect(xml.status == 404 && xml.header("Content-Type") == "application/xml" && xml.bodyText.contains("NoSuchKey"))
        var hidden = dispatcher(["d/a.txt": Array("x".utf8)], hidden: true)
        #expect(get(&hidden, "/mem/d/nope.txt?preview", headers: [:]).status == 403)
        let shown = get(&hidden, "/mem/d/a.txt?preview")
        #expect(shown.status == 200 && !shown.bodyText.contains("href=\"/mem/d/\""), "no links to folders that answer 403")
        var off = dispatcher(["d/a.txt": Array("x".utf8)], ui: false)
        #expect(get(&off, "/mem/d/a.txt?preview").parsed.body == Array("x".utf8), "without the UI, ?preview means nothing")
    }

    @Test func findListsNamesStartingWithTheTextAndPagesWithIt() {
        var objects: [String: [UInt8]] = ["d/other.txt": [1]]
        for i in 0..<450 { objects["d/f & \(1000 + i).txt"] = [1] }
        var d = dispatcher(objects)
        var uri = "/mem/d/?find=f%20%26%20"
        var names = 0, pages = 0
        while true {
            let r = get(&d, uri)
            #expect(r.status == 200)
            #expect(r.bodyText.contains("value=\"f &amp; \""), "the typed text is shown")
            #expect(r.bodyText.contains("<a class=\"btn clear\" href=\"/mem/d/\">Clear</a>"))
            #expect(!r.bodyText.contains("other.txt"))
            names += r.bodyText.ranges(of: "<tr class=\"file\"").count
            pages += 1
            guard let r0 = r.bodyText.firstRange(of: "rel=\"next\" href=\"") else { break }
            uri = String(r.bodyText[r0.upperBound...].prefix { $0 != "\"" }).replacing("&amp;", with: "&")
            #expect(uri.hasSuffix("&find=f%20%26%20"))
        }
        #expect(names == 450 && pages == 3)
        #expect(get(&d, "/mem/d/?find=zzz").bodyText.contains("No names here start with “zzz”."))
    }
}
