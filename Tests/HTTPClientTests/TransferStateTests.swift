import CCurl
import Testing
@testable import HTTPClient

/// The header collection that decides when `send` may return (the end of the final head).
@Suite struct TransferStateTests {
    func feed(_ lines: [String]) -> TransferState {
        let s = TransferState()
        for l in lines { s.takeHeaderLine(l) }
        return s
    }

    @Test func aHeadEndsAtTheBlankCRLFLine() {
        let s = feed(["HTTP/1.1 206 Partial Content\r\n", "Content-Range: bytes 0-4/12\r\n", "ETag:  \"abc\" \r\n"])
        #expect(!s.headComplete)
        s.takeHeaderLine("\r\n")
        #expect(s.headComplete && s.status == 206)
        #expect(s.headers.map(\.name) == ["Content-Range", "ETag"])
        #expect(s.headers.map(\.value) == ["bytes 0-4/12", "\"abc\""])
    }

    @Test func interimResponsesAreSkipped() {
        let s = feed(["HTTP/1.1 100 Continue\r\n", "X-Interim: 1\r\n", "\r\n"])
        #expect(!s.headComplete)
        s.takeHeaderLine("HTTP/1.1 200 OK\r\n")
        s.takeHeaderLine("Content-Length: 5\r\n")
        s.takeHeaderLine("\r\n")
        #expect(s.headComplete && s.status == 200 && s.headers.count == 1)
    }

    @Test func bareLFLinesWorkToo() {
        let s = feed(["HTTP/1.0 404 Not Found\n", "Content-Length: 0\n", "\n"])
        #expect(s.headComplete && s.status == 404 && s.headers[0].value == "0")
    }

    @Test func resetForgetsTheLastTransfer() {
        let s = feed(["HTTP/1.1 200 OK\r\n", "A: b\r\n", "\r\n"])
        s.paused = true
        s.reset()
        #expect(s.status == 0 && s.headers.isEmpty && !s.headComplete && !s.paused && s.result == nil)
    }

    @Test func timeoutsBeforeAndAfterConnectingAreTold() {
        #expect(HTTPClientError.from(CURLE_OPERATION_TIMEDOUT, connected: false, detail: "x") == .connectTimeout("x"))
        #expect(HTTPClientError.from(CURLE_OPERATION_TIMEDOUT, connected: true, detail: "x") == .stalled("x"))
        #expect(HTTPClientError.connectFailed("x").isConnectFailure && !HTTPClientError.stalled("x").isConnectFailure)
    }

    /// The operator's log and x2s3_upstream_errors_total tell DNS, refused and TLS apart; all
    /// three happen before anything reached the peer's application, so all may be retried.
    @Test func unreachablePeersAreToldByCause() {
        #expect(HTTPClientError.from(CURLE_COULDNT_RESOLVE_HOST, connected: false, detail: "x") == .unresolved("x"))
        #expect(HTTPClientError.from(CURLE_COULDNT_CONNECT, connected: false, detail: "x") == .connectFailed("x"))
        for code in [CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM] {
            #expect(HTTPClientError.from(code, connected: true, detail: "x") == .tlsFailed("x"))
        }
        #expect(HTTPClientError.unresolved("x").isConnectFailure && HTTPClientError.tlsFailed("x").isConnectFailure)
    }

    /// Found by the fault suite: an upstream answering with bytes that are not HTTP made libcurl
    /// report CURLE_UNSUPPORTED_PROTOCOL, which was taken for our own misuse (500 InternalError).
    @Test func aReplyThatIsNotHTTPIsATransportFailure() {
        #expect(HTTPClientError.from(CURLE_UNSUPPORTED_PROTOCOL, connected: true, detail: "x") == .transport("x"))
        #expect(HTTPClientError.from(CURLE_UNSUPPORTED_PROTOCOL, connected: false, detail: "x") == .setup("x"))
    }
}
