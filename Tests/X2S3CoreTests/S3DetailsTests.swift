import Logging
import Posix
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// Issue 13's S3 details: response-* overrides, ListBuckets paging, the key length limit.
@Suite struct S3DetailsTests {
    func dispatcher(names: [String] = ["mem"]) -> Dispatcher {
        var c = Config()
        c.targets = names.map { Target(name: $0, kind: .s3(S3Options(bucket: $0))) }
        c.targets.append(Target(name: "hidden", browseable: false, kind: .s3(S3Options(bucket: "h"))))
        var d = Dispatcher(config: c, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        d.backends["mem"] = MemoryBackend(["a.txt": Array("hello world".utf8), "blob": [1, 2, 3],
                                           String(repeating: "k", count: 1024): [7]])
        return d
    }

    func run(_ p: [String: String], names: [String] = ["mem"]) -> RecordingSink {
        var d = dispatcher(names: names)
        var sink = RecordingSink()
        d.handle(params: p, sink: &sink)
        return sink
    }

    // MARK: response-* overrides

    @Test func overridesSetTheirHeadersOnGetAndHead() {
        let q = "response-content-type=text/csv&response-content-disposition=attachment%3B%20filename%3D%22x.csv%22"
            + "&response-content-language=de&response-content-encoding=gzip&response-cache-control=no-store"
            + "&response-expires=Thu%2C%2001%20Dec%202094%2016%3A00%3A00%20GMT"
        for method in ["GET", "HEAD"] {
            let r = run(params("/mem/a.txt?" + q, method: method))
            #expect(r.status == 200)
            #expect(r.header("Content-Type") == "text/csv")
            #expect(r.header("Content-Disposition") == "attachment; filename=\"x.csv\"")
            #expect(r.header("Content-Language") == "de")
            #expect(r.header("Content-Encoding") == "gzip")
            #expect(r.header("Cache-Control") == "no-store")
            #expect(r.header("Expires") == "Thu, 01 Dec 2094 16:00:00 GMT")
            #expect(r.parsed.headers.filter { $0.0 == "Content-Type" }.count == 1)
        }
        #expect(run(params("/mem/a.txt?" + q)).bodyText == "hello world")
    }

    @Test func withoutOverridesNothingChanges() {
        let r = run(params("/mem/a.txt?response-unknown=1&response-content-type="))
        #expect(r.header("Content-Type") == "text/plain")
        #expect(r.header("Content-Disposition") == nil && r.header("Content-Language") == nil && r.header("Expires") == nil)
    }

    /// An unknown type is a download (`attachment; filename=`) unless the client names the
    /// disposition, or replaces the type with a known one.
    @Test func dispositionRuleFollowsTheTypeSent() {
        #expect(run(params("/mem/blob")).header("Content-Disposition") == "attachment; filename=\"blob\"")
        #expect(run(params("/mem/blob?response-content-disposition=inline")).header("Content-Disposition") == "inline")
        let viewed = run(params("/mem/blob?response-content-type=text/plain"))
        #expect(viewed.header("Content-Type") == "text/plain" && viewed.header("Content-Disposition") == nil)
        let named = run(params("/mem/a.txt?response-content-disposition=attachment"))
        #expect(named.header("Content-Type") == "text/plain" && named.header("Content-Disposition") == "attachment")
    }

    @Test func overridesApplyToRangesAnd304ButNotToErrors() {
        let r = run(params("/mem/a.txt?response-content-type=x/y", headers: ["HTTP_RANGE": "bytes=0-4"]))
        #expect(r.status == 206 && r.header("Content-Type") == "x/y" && r.bodyText == "hello")
        let etag = run(params("/mem/a.txt")).header("ETag") ?? ""
        let n = run(params("/mem/a.txt?response-cache-control=max-age%3D5&response-expires=never&response-content-type=x/y",
                           headers: ["HTTP_IF_NONE_MATCH": etag]))
        #expect(n.status == 304 && n.header("Cache-Control") == "max-age=5" && n.header("Expires") == "never")
        #expect(n.header("Content-Type") == nil)
        let e = run(params("/mem/nope?response-content-type=x/y"))
        #expect(e.status == 404 && e.header("Content-Type") == "application/xml")
    }

    @Test(arguments: ["a%0D%0AX-Evil:%201", "a%0Ab", "a%00b", "a%7Fb"])
    func overridesThatCouldSplitTheHeadAre400(value: String) {
        let r = run(params("/mem/a.txt?response-content-type=" + value))
        #expect(r.status == 400)
        #expect(r.bodyText.contains("<Code>InvalidArgument</Code>") && r.bodyText.contains("<ArgumentName>response-content-type</ArgumentName>"))
        #expect(r.header("X-Evil") == nil)
    }

    // MARK: key length

    @Test func keysOver1024BytesAreKeyTooLong() {
        #expect(run(params("/mem/" + String(repeating: "k", count: 1024))).status == 200)
        let long = String(repeating: "é", count: 513)  // 1,026 bytes, 513 characters
        for key in [String(repeating: "k", count: 1025), long] {
            let path = "/mem/" + key.utf8.map { $0 < 0x80 ? String(UnicodeScalar($0)) : "%" + String($0, radix: 16, uppercase: true) }.joined()
            let g = run(params(path))
            #expect(g.status == 400 && g.bodyText.contains("<Code>KeyTooLongError</Code>"))
            let h = run(params(path, method: "HEAD"))
            #expect(h.status == 400 && h.parsed.body.isEmpty)
        }
    }

    @Test func keysOver1024BytesAreNotListed() throws {
        let t = TempTree()
        let dir = Array(repeating: String(repeating: "d", count: 250), count: 4).joined(separator: "/")  // 1,003 bytes
        let deep = dir + "/" + String(repeating: "z", count: 21) + "/x"  // a directory path of 1,026 bytes
        for k in [dir + "/" + String(repeating: "e", count: 20), dir + "/" + String(repeating: "f", count: 21), deep, "a", "z"] {
            _ = t.file(k)
        }
        let lister = FileLister(root: t.root(), bucket: "b") { st, _ in "\"\(st.size)\"" }
        var q = ListQuery(version: .v2)
        #expect(try lister.list(q).objects.map(\.key) == ["a", dir + "/" + String(repeating: "e", count: 20), "z"])
        q.maxKeys = 1
        var keys: [String] = []
        for _ in 0..<10 {
            let page = try lister.list(q)
            keys += page.objects.map(\.key)
            guard let next = page.nextContinuationToken else { break }
            q.continuationToken = next
        }
        #expect(keys.count == 3 && keys.allSatisfy { $0.utf8.count <= 1024 })
    }

    // MARK: ListBuckets

    func names(_ r: RecordingSink) -> [String] {
        r.bodyText.split(separator: "<Name>", omittingEmptySubsequences: false).dropFirst().map { String($0.prefix { $0 != "<" }) }
    }

    func element(_ name: String, _ r: RecordingSink) -> String? {
        guard let start = r.bodyText.firstRange(of: "<\(name)>"), let end = r.bodyText.firstRange(of: "</\(name)>") else { return nil }
        return String(r.bodyText[start.upperBound..<end.lowerBound])
    }

    @Test func listBucketsPagesWithMaxBucketsAndTokens() {
        let all = ["b1", "a2", "b3", "x4", "b5"]
        #expect(names(run(params("/"), names: all)) == all)
        var seen: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let t = token.map { "&continuation-token=" + $0 } ?? ""
            let r = run(params("/?max-buckets=2" + t), names: all)
            #expect(r.status == 200)
            seen += names(r)
            token = element("ContinuationToken", r)
            #expect(element("Prefix", r) == nil)
            pages += 1
        } while token != nil && pages < 10
        #expect(seen == all && pages == 3)
    }

    @Test func listBucketsPrefixFiltersAndIsEchoedAfterTheToken() {
        let all = ["b1", "a2", "b3", "x4", "b5"]
        let r = run(params("/?prefix=b&max-buckets=2"), names: all)
        #expect(names(r) == ["b1", "b3"])
        let token = element("ContinuationToken", r) ?? ""
        #expect(r.bodyText.hasSuffix("</Buckets><ContinuationToken>\(token)</ContinuationToken><Prefix>b</Prefix></ListAllMyBucketsResult>"))
        let next = run(params("/?prefix=b&max-buckets=2&continuation-token=" + token), names: all)
        #expect(names(next) == ["b5"] && element("ContinuationToken", next) == nil && element("Prefix", next) == "b")
        // The token is bound to its prefix.
        let other = run(params("/?prefix=x&continuation-token=" + token), names: all)
        #expect(other.status == 400 && other.bodyText.contains("<ArgumentName>continuation-token</ArgumentName>"))
        #expect(names(run(params("/?prefix=zz"), names: all)) == [])
        #expect(element("Prefix", run(params("/?prefix="), names: all)) == "")
    }

    @Test(arguments: ["max-buckets=0", "max-buckets=10001", "max-buckets=-1", "max-buckets=abc", "max-buckets=",
                      "max-buckets=1.5", "continuation-token=bm90LWEtdG9rZW4", "continuation-token="])
    func listBucketsRefusesBadParameters(query: String) {
        let r = run(params("/?" + query))
        #expect(r.status == 400)
        #expect(r.bodyText.contains("<Code>InvalidArgument</Code>"))
    }

    @Test func listBucketsTokenSurvivesARemovedBucket() throws {
        let first = run(params("/?max-buckets=2"), names: ["a", "b", "c", "d"])
        let token = try #require(element("ContinuationToken", first))
        // "b" (the page's last) is gone after a reload: resume by position.
        #expect(names(run(params("/?continuation-token=" + token), names: ["a", "c", "d"])) == ["c", "d"])
        #expect(names(run(params("/?continuation-token=" + token), names: ["a", "B", "c", "d"])) == ["c", "d"])
        #expect(names(run(params("/?max-buckets=10000"), names: ["a"])) == ["a"])
    }
}
