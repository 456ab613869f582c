@testable import Browser
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// Every percent-encoding, percent-decoding and hex variant x2s3 writes, pinned on hostile
/// strings (expected values from Python's urllib.parse.quote/quote_plus, upper-case hex, with
/// `~` unreserved): the helpers behind them may change, their bytes may not.
@Suite struct EncodingVariantTests {
    /// (raw, every byte but unreserved encoded, `/` kept too, form style with `/` kept, `%` escaped only)
    static let hostile: [(String, String, String, String, String)] = [
        ("", "", "", "", ""),
        ("plain/key-1_2.3~x", "plain%2Fkey-1_2.3~x", "plain/key-1_2.3~x", "plain/key-1_2.3~x", "plain/key-1_2.3~x"),
        ("a b+c", "a%20b%2Bc", "a%20b%2Bc", "a+b%2Bc", "a b+c"),
        ("100%", "100%25", "100%25", "100%25", "100%25"),
        ("%", "%25", "%25", "%25", "%25"),
        ("%2F", "%252F", "%252F", "%252F", "%252F"),
        ("a//b/", "a%2F%2Fb%2F", "a//b/", "a//b/", "a//b/"),
        ("/lead", "%2Flead", "/lead", "/lead", "/lead"),
        ("q#?&<b>=;,:@!$'()*[]{}|^`\"\\.txt", "q%23%3F%26%3Cb%3E%3D%3B%2C%3A%40%21%24%27%28%29%2A%5B%5D%7B%7D%7C%5E%60%22%5C.txt", "q%23%3F%26%3Cb%3E%3D%3B%2C%3A%40%21%24%27%28%29%2A%5B%5D%7B%7D%7C%5E%60%22%5C.txt", "q%23%3F%26%3Cb%3E%3D%3B%2C%3A%40%21%24%27%28%29%2A%5B%5D%7B%7D%7C%5E%60%22%5C.txt", "q#?&<b>=;,:@!$'()*[]{}|^`\"\\.txt"),
        ("caf\u{E9}/\u{65E5}\u{672C}\u{8A9E}", "caf%C3%A9%2F%E6%97%A5%E6%9C%AC%E8%AA%9E", "caf%C3%A9/%E6%97%A5%E6%9C%AC%E8%AA%9E", "caf%C3%A9/%E6%97%A5%E6%9C%AC%E8%AA%9E", "caf\u{E9}/\u{65E5}\u{672C}\u{8A9E}"),
        ("\u{1F600}", "%F0%9F%98%80", "%F0%9F%98%80", "%F0%9F%98%80", "\u{1F600}"),
        ("\u{0}\u{1}\u{9}\u{D}\u{A}\u{1F}\u{7F}", "%00%01%09%0D%0A%1F%7F", "%00%01%09%0D%0A%1F%7F", "%00%01%09%0D%0A%1F%7F", "\u{0}\u{1}\u{9}\u{D}\u{A}\u{1F}\u{7F}"),
        ("~._-", "~._-", "~._-", "~._-", "~._-"),
        ("x\u{2028}y\u{2029}", "x%E2%80%A8y%E2%80%A9", "x%E2%80%A8y%E2%80%A9", "x%E2%80%A8y%E2%80%A9", "x\u{2028}y\u{2029}"),
        ("\u{FFFD}", "%EF%BF%BD", "%EF%BF%BD", "%EF%BF%BD", "\u{FFFD}"),
        (" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~", "%20%21%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F0123456789%3A%3B%3C%3D%3E%3F%40ABCDEFGHIJKLMNOPQRSTUVWXYZ%5B%5C%5D%5E_%60abcdefghijklmnopqrstuvwxyz%7B%7C%7D~", "%20%21%22%23%24%25%26%27%28%29%2A%2B%2C-./0123456789%3A%3B%3C%3D%3E%3F%40ABCDEFGHIJKLMNOPQRSTUVWXYZ%5B%5C%5D%5E_%60abcdefghijklmnopqrstuvwxyz%7B%7C%7D~", "+%21%22%23%24%25%26%27%28%29%2A%2B%2C-./0123456789%3A%3B%3C%3D%3E%3F%40ABCDEFGHIJKLMNOPQRSTUVWXYZ%5B%5C%5D%5E_%60abcdefghijklmnopqrstuvwxyz%7B%7C%7D~", " !\"#$%25&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"),
    ]

    @Test func everythingButUnreservedIsEncoded() {
        for (raw, encoded, _, _, _) in Self.hostile {
            #expect(URLEncoding.uriEncode(raw) == encoded, "\(raw)")
            #expect(SigV4.encode(raw, keepSlash: false) == encoded, "\(raw)")
            #expect(HTMLPages.urlSegment(raw) == encoded, "\(raw)")
            #expect(HTMLPages.urlSegment(Substring(raw)) == encoded, "\(raw)")
        }
    }

    @Test func slashIsKeptWhereAPathIsEncoded() {
        for (raw, _, path, _, _) in Self.hostile {
            #expect(URLEncoding.uriEncode(raw, encodeSlash: false) == path, "\(raw)")
            #expect(SigV4.encode(raw, keepSlash: true) == path, "\(raw)")
            #expect(SigV4.encodePath(raw) == (raw.isEmpty ? "/" : path), "\(raw)")
            #expect(HTMLPages.urlPath(raw) == path, "\(raw)")
            #expect(Offload.percentEncodePath(raw) == path, "\(raw)")
        }
    }

    @Test func listValuesAreFormEncodedWithSlashKept() {
        for (raw, _, _, form, _) in Self.hostile {
            #expect(URLEncoding.listValue(raw) == form, "\(raw)")
        }
    }

    @Test func decodingUndoesEachEncoding() {
        for (raw, encoded, path, form, _) in Self.hostile {
            #expect(percentDecode(encoded, plusIsSpace: false) == raw, "\(raw)")
            #expect(percentDecode(Substring(path), plusIsSpace: false) == raw, "\(raw)")
            #expect(percentDecode(form, plusIsSpace: true) == raw, "\(raw)")
        }
    }

    @Test(arguments: ["%", "%4", "%zz", "%%41", "a%4g", "%C3", "%FF%FE", "%C0%AE"])
    func malformedOrNonUTF8EscapesAreRefused(text: String) {
        #expect(percentDecode(text, plusIsSpace: false) == nil)
        #expect(percentDecode(text, plusIsSpace: true) == nil)
    }

    @Test func decodingDetails() {
        #expect(percentDecode("a+b%2b%2B", plusIsSpace: false) == "a+b++")
        #expect(percentDecode("a+b%2b%2B", plusIsSpace: true) == "a b++")
        #expect(percentDecode("%c3%A9", plusIsSpace: false) == "\u{E9}")
        #expect(percentDecode("%00", plusIsSpace: false) == "\u{0}")
        #expect(percentDecode("", plusIsSpace: true) == "")
        #expect(percentDecode("a+b%2b", plusIsSpace: true) == "a b+")
    }

    /// Without REQUEST_URI the path is SCRIPT_NAME + PATH_INFO, already decoded: only `%` is
    /// escaped again, so one decoding gives it back.
    @Test func decodedCGIPathEscapesOnlyPercent() throws {
        for (raw, _, _, _, percentOnly) in Self.hostile where !raw.contains("?") && !raw.contains("#") && !raw.isEmpty {
            let params = ["REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/b/" + raw]
            guard let request = try? S3Request.parse(params: params) else { continue }
            #expect(request.rawPath == "/b/" + percentOnly, "\(raw)")
        }
        let request = try S3Request.parse(params: ["REQUEST_METHOD": "GET", "SCRIPT_NAME": "/b", "PATH_INFO": "/100% é+x"])
        #expect(request.rawPath == "/b/100%25 é+x")
        #expect(request.path == "/b/100% é+x")
    }

    @Test func hexIsLowerCaseTwoDigitsPerByte() {
        let bytes: [UInt8] = [0x00, 0x01, 0x0F, 0x10, 0x7F, 0x80, 0xAB, 0xFF]
        #expect(MD5.hex(bytes) == "00010f107f80abff")
        #expect(SHA256.hex(bytes) == "00010f107f80abff")
        #expect(SHA256.hex(bytes[2...]) == "0f107f80abff")
        #expect(SigV4.hex(bytes) == "00010f107f80abff")
        #expect(MD5.hex([]) == "")
    }

    @Test func cheapETagWritesNumbersWithoutLeadingZeros() {
        #expect(ObjectHeaders.cheapETag(size: 0, mtime: Timestamp(seconds: 0, nanoseconds: 0)) == "\"0-0\"")
        #expect(ObjectHeaders.cheapETag(size: 0xABCDEF, mtime: Timestamp(seconds: 1, nanoseconds: 15)) == "\"3b9aca0f-abcdef\"")
        #expect(ObjectHeaders.cheapETag(size: UInt64.max, mtime: Timestamp(seconds: -1, nanoseconds: 0))
            == "\"ffffffffc4653600-ffffffffffffffff\"")
    }

    /// RFC 8187 `filename*`: attr-char stays, every other byte is `%XX`; the quoted fallback
    /// has `_` for what it cannot hold.
    @Test func attachmentNameIsEncodedAsRFC8187() {
        let name = "caf\u{E9} \"q\"\\\\b%;,+!#$&^`|~()*\u{1}.txt"
        #expect(MediaType.attachmentDisposition(forName: Substring(name))
            == "attachment; filename=\"caf_ _q___b%;,+!#$&^`|~()*_.txt\"; filename*=UTF-8''caf%C3%A9%20%22q%22%5C%5Cb%25%3B%2C+!#$&^`|~%28%29%2A%01.txt")
    }

    @Test func jsonEscapesControlCharactersAsFourLowerCaseDigits() {
        #expect(JSON.quote("\u{0}\u{1}\u{1F}\u{7F}\u{2028}") == "\"\\u0000\\u0001\\u001f\u{7F}\u{2028}\"")
    }
}
