@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

@Suite struct RouterTests {
    var config: Config = {
        var c = Config()
        c.targets = [
            Target(name: "Data", kind: .file(FileOptions(path: "/tmp"))),
            Target(name: "hidden", browseable: false, kind: .file(FileOptions(path: "/tmp"))),
        ]
        c.baseURL = BaseURL(scheme: "https", host: "example.org", port: nil, path: "/")
        return c
    }()

    func route(_ uri: String, method: String = "GET", accept: String? = nil, host: String = "localhost") -> RoutedRequest {
        var p = params(uri, method: method)
        p["HTTP_HOST"] = host
        if let accept { p["HTTP_ACCEPT"] = accept }
        return Router.route(try! S3Request.parse(params: p), config: config)
    }

    @Test func bucketNamesAreCaseInsensitive() {
        guard case .object(let t, let b, let k) = route("/DATA/a.txt").route else { Issue.record("not an object route"); return }
        #expect(t.name == "Data" && b == "DATA" && k == "a.txt")
    }

    @Test func keysKeepPlusAndDoubleSlashes() {
        guard case .object(_, _, let k) = route("/data/a+b//c%20d.txt").route else { Issue.record("not an object"); return }
        #expect(k == "a+b//c d.txt")
    }

    @Test func rootIsNegotiatedListBuckets() {
        #expect(route("/").route == .listBuckets(html: false))
        #expect(route("/", accept: "text/html,application/xhtml+xml,application/xml;q=0.9").route == .listBuckets(html: true))
        #expect(route("/").varyAccept)
    }

    @Test func bucketGetWithoutListTypeIsListObjectsV1() {
        guard case .listObjects(_, _, let q) = route("/data?prefix=a").route else { Issue.record("not a listing"); return }
        #expect(q.version == .v1 && q.prefix == "a")
        #expect(route("/data").varyAccept)
    }

    @Test func listTypeOtherThanTwoIsInvalidArgument() {
        guard case .error(let e) = route("/data?list-type=3").route else { Issue.record("not an error"); return }
        #expect(e.wire.code == "InvalidArgument")
    }

    @Test func hiddenBucketListingsAndACLAreDenied() {
        #expect(route("/hidden?list-type=2").route == .error(.accessDenied))
        #expect(route("/hidden/").route == .error(.accessDenied))
        #expect(route("/hidden/dir/", accept: "text/html").route == .error(.accessDenied))
    }

    @Test func folderURLForXMLClientsIsGetObject() {
        guard case .object(_, _, let k) = route("/data/dir/").route else { Issue.record("not an object"); return }
        #expect(k == "dir/")
        #expect(route("/data/dir/").varyAccept)
    }

    @Test func folderURLForBrowsersIsBrowse() {
        guard case .browse(_, _, let p) = route("/data/dir/", accept: "text/html").route else { Issue.record("not browse"); return }
        #expect(p == "dir/")
    }

    @Test(arguments: ["versioning", "uploads", "tagging", "policy", "cors"])
    func unsupportedSubresourcesAre501(sub: String) {
        guard case .error(let e) = route("/data?\(sub)").route else { Issue.record("not an error"); return }
        #expect(e.wire.status == 501)
    }

    @Test func everyUnsupportedSubresourceIsLowercaseInitialAndAnswered501() {
        for sub in Router.unsupportedSubresources {
            #expect(Router.isLowercaseInitial(sub), "\(sub) would be skipped by the router's first-byte filter")
            guard case .error(let e) = route("/data?X-Amz-Date=1&\(sub)=").route else { Issue.record("\(sub): not an error"); continue }
            #expect(e.wire.status == 501)
        }
    }

    @Test(arguments: ["PUT", "POST", "DELETE", "PATCH", "PROPFIND"])
    func writesAreMethodNotAllowed(method: String) {
        #expect(route("/data/a", method: method).route == .error(.methodNotAllowed(method: method)))
    }

    @Test func unknownBucketIsNoSuchBucket() {
        #expect(route("/nope/a").route == .error(.noSuchBucket(bucket: "nope")))
    }

    @Test mutating func virtualHostsOnlyUnderTheBaseHost() {
        config.virtualBuckets = true
        guard case .object(_, let b, let k) = route("/a.txt", host: "data.example.org:443").route else { Issue.record("not virtual"); return }
        #expect(b == "data" && k == "a.txt")
        guard case .object(_, let b2, _) = route("/data/a.txt", host: "www.example.org").route else { Issue.record("www not path-style"); return }
        #expect(b2 == "data")
        guard case .object(_, let b3, _) = route("/data/a.txt", host: "10.0.0.1").route else { Issue.record("ip not path-style"); return }
        #expect(b3 == "data")
    }

    @Test(arguments: [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true), ("application/xml, text/html", false),
        ("*/*", false), ("application/xhtml+xml", false), ("text/html", true),
    ])
    func negotiationIsPositionalLikeTheOriginal(accept: String, html: Bool) {
        #expect(Router.prefersHTML(accept) == html)
    }

    @Test func badPercentEncodingIsInvalidURI() {
        #expect(throws: S3Error.self) { try S3Request.parse(params: params("/data/%zz")) }
        #expect(throws: S3Error.self) { try S3Request.parse(params: params("/data/%ff%fe")) }
        #expect(throws: S3Error.self) { try S3Request.parse(params: params("/data/a%00b")) }
    }

    @Test(arguments: [
        "/b/k", "/b", "/", "", "/b/", "/b/k/", "//k", "/b/\u{301}k", "/\u{301}b/k", "/b\u{301}/k", "/b/k\u{600}/",
        "/b\u{600}/k", "/b\r\n/k", "/\r\n/k", "x/y", "é/k", "/日本/キー/", "/b/k\u{200D}/", "/b/k/\u{301}",
    ])
    func bucketSplitKeepsCharacterSemantics(path: String) {
        let rest = path.dropFirst()
        let expected: (Substring, Substring?) = rest.firstIndex(of: "/").map { (rest[..<$0], rest[rest.index(after: $0)...]) } ?? (rest, nil)
        let split = Router.splitBucket(path)
        #expect(split.bucket == expected.0 && split.key == expected.1)
        #expect(Router.endsWithSlash(Substring(path)) == path.hasSuffix("/"))
    }

    @Test func targetNamesCompareCaseInsensitively() {
        var c = Config()
        let file = Target.Kind.file(FileOptions(path: "/tmp"))
        c.targets = [Target(name: "Data", kind: file), Target(name: "k", kind: file), Target(name: "DATA", browseable: false, kind: file),
                     Target(name: "Straße", kind: file), Target(name: "a.b-c", kind: file)]
        #expect(c.target(named: "data")?.browseable == false)  // the last duplicate wins
        #expect(c.target(named: "\u{212A}")?.name == "k")  // Kelvin sign lower-cases to "k"
        #expect(c.target(named: "STRASSE") == nil && c.target(named: "straße")?.name == "Straße")
        #expect(c.target(named: "A.B-C")?.name == "a.b-c" && c.target(named: "a.b_c") == nil && c.target(named: "a@b-c") == nil)
        #expect(c.target(named: "") == nil && c.target(named: "dat") == nil)
    }

    @Test func offsetFindsTheFirstOccurrence() {
        #expect(Router.offset(of: "text/html", in: "a, text/html, text/html") == 3)
        #expect(Router.offset(of: "text/html", in: "text/htm") == nil)
        #expect(Router.offset(of: "ab", in: "aab") == 1)
    }
}
