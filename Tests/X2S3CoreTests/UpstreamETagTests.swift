@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// The ETags of S3 targets (decisions: "Upstream ETags"): derived unless proxied, never a bare
/// MD5 when derived, stable, and what the conditionals are evaluated against.
@Suite struct UpstreamETagTests {
    static let md5 = "\"6f5902ac237024bdd0c176cb93063dc4\""

    func derived(_ e: String?) -> String { UpstreamETag.validator(e, proxy: false, size: 12, lastModified: 1_700_000_000) }

    @Test func derivedTagsHaveTheMultipartFormAndAreStable() {
        let d = derived(Self.md5)
        #expect(d.utf8.count == 2 + 32 + 2)
        #expect(d.hasPrefix("\"") && d.hasSuffix("-1\""))
        #expect(d.dropFirst().prefix(32).allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(d != Self.md5)
        // Pinned: workers and restarts must agree, so the derivation may never change silently.
        #expect(d == "\"635e677e3646c50c76a65f45d6247c5e-1\"")
        #expect(d == derived("6f5902ac237024bdd0c176cb93063dc4"))  // bare, as some stores send it
        #expect(d == derived("  \(Self.md5) "))
    }

    @Test func aChangedUpstreamTagChangesTheDerivedOne() {
        #expect(derived(Self.md5) != derived("\"6f5902ac237024bdd0c176cb93063dc5\""))
        #expect(derived("\"abc-2\"") != derived("\"abc-3\""))
        // Size and date do not enter it: listings and HEAD agree even if their dates differ.
        #expect(UpstreamETag.validator(Self.md5, proxy: false, size: 1, lastModified: 5) == derived(Self.md5))
    }

    @Test func weaknessSurvivesDerivation() {
        let w = derived("W/\"abc\"")
        #expect(w.hasPrefix("W/\"") && w.hasSuffix("-1\""))
        #expect(w.dropFirst(2) == derived("\"abc\""))
    }

    @Test func proxiedTagsAreTheUpstreamsQuoted() {
        #expect(UpstreamETag.validator(Self.md5, proxy: true, size: 12, lastModified: 0) == Self.md5)
        #expect(UpstreamETag.validator("abc", proxy: true, size: 12, lastModified: 0) == "\"abc\"")
        #expect(UpstreamETag.validator("W/\"abc\"", proxy: true, size: 12, lastModified: 0) == "W/\"abc\"")
    }

    @Test(arguments: [nil, "", "\"\"", "  "])
    func anUpstreamWithoutATagStillGetsOne(_ upstream: String?) {
        let t = Timestamp(seconds: 1_700_000_000)
        #expect(derived(upstream) == ObjectHeaders.cheapETag(size: 12, mtime: t))
        #expect(UpstreamETag.validator(upstream, proxy: true, size: 12, lastModified: t.seconds) == ObjectHeaders.cheapETag(size: 12, mtime: t))
    }

    // MARK: conditionals against the tag that was sent

    @Test func conditionalsMatchTheDerivedTagNotTheUpstreams() {
        let sent = derived(Self.md5)
        func outcome(_ headers: [String: String]) -> Preconditions.Outcome {
            Preconditions.evaluate(headers: headers, etag: sent, lastModified: 1_700_000_000)
        }
        #expect(outcome(["if-match": sent, "range": "bytes=0-1"]) == .proceed(honourRange: true))
        #expect(outcome(["if-match": Self.md5]) == .failed(condition: "If-Match"))
        #expect(outcome(["if-match": String(sent.dropLast(3)) + "-2\""]) == .failed(condition: "If-Match"))
        #expect(outcome(["if-none-match": sent]) == .notModified)
        #expect(outcome(["if-none-match": "W/\(sent)"]) == .notModified)
        #expect(outcome(["if-none-match": Self.md5]) == .proceed(honourRange: true))
        #expect(outcome(["if-range": sent, "range": "bytes=0-1"]) == .proceed(honourRange: true))
        #expect(outcome(["if-range": Self.md5, "range": "bytes=0-1"]) == .proceed(honourRange: false))
        // Unquoted tags (some clients send them) match too.
        #expect(outcome(["if-match": String(sent.dropFirst().dropLast())]) == .proceed(honourRange: true))
    }
}
