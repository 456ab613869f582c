import Testing
import Glibc
@testable import FastCGI

@Suite struct ParamNamesTests {
    /// `copyEnvironment` over a NULL-terminated array built from `entries`.
    func copy(_ entries: [String], only names: ParamNames?) -> [String: String] {
        var storage = entries.map { strdup($0) }
        defer { storage.forEach { free($0) } }
        storage.append(nil)
        var result: [String: String] = [:]
        storage.withUnsafeMutableBufferPointer { copyEnvironment($0.baseAddress!, only: names, into: &result) }
        return result
    }

    let nginx = [
        "REQUEST_URI=/data/a.bin?x=1", "QUERY_STRING=x=1", "REQUEST_METHOD=GET", "SERVER_NAME=localhost",
        "SCRIPT_NAME=", "HTTP_HOST=localhost:8080", "HTTP_ACCEPT=*/*", "HTTP_USER_AGENT=curl", "NO_EQUALS",
        "X=", "=nameless",
    ]

    @Test func onlyListedNamesAreCopied() {
        let names = ParamNames(["REQUEST_URI", "HTTP_ACCEPT", "SCRIPT_NAME", "HTTP_ORIGIN", "X", "MISSING_ONE"])
        #expect(copy(nginx, only: names) == [
            "REQUEST_URI": "/data/a.bin?x=1", "HTTP_ACCEPT": "*/*", "SCRIPT_NAME": "", "X": "",
        ])
    }

    @Test func withoutNamesEverythingWithAnEqualsSignIsCopied() {
        let all = copy(nginx, only: nil)
        #expect(all.count == nginx.count - 1)
        #expect(all["SERVER_NAME"] == "localhost" && all[""] == "nameless" && all["NO_EQUALS"] == nil)
    }

    @Test func sameLengthNamesAreTellApart() {
        // REQUEST_URI, SCRIPT_NAME, SERVER_NAME, HTTP_ACCEPT, HTTP_ORIGIN: all 11 bytes.
        let names = ParamNames(["SCRIPT_NAME", "SCRIPT_NAME", "HTTP_ORIGIN", ""])
        #expect(copy(nginx, only: names) == ["SCRIPT_NAME": ""])
        #expect(copy(["SCRIPT_NAMF=1", "SCRIPT_NAME=2", "SCRIPT_NAMEX=3"], only: names) == ["SCRIPT_NAME": "2"])
    }

    @Test func filteredRequestURIIsStillPercentEncoded() {
        let raw = "REQUEST_URI=/data/\u{FF}.txt"  // U+00FF: valid UTF-8, kept
        #expect(copy([raw], only: ParamNames(["REQUEST_URI"]))["REQUEST_URI"] == "/data/\u{FF}.txt")
        var bytes = Array("REQUEST_URI=/data/".utf8) + [0xFF, 0x00]
        var result: [String: String] = [:]
        bytes.withUnsafeMutableBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { c in
                var envp: [UnsafeMutablePointer<CChar>?] = [c.baseAddress, nil]
                envp.withUnsafeMutableBufferPointer { copyEnvironment($0.baseAddress!, only: ParamNames(["REQUEST_URI"]), into: &result) }
            }
        }
        #expect(result["REQUEST_URI"] == "/data/%FF")
    }
}
