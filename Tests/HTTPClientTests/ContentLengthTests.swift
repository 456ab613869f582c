import Testing
@testable import HTTPClient

/// RFC 9112 §6.3: a head whose Content-Length fields disagree (or beside Transfer-Encoding)
/// is rejected instead of read by libcurl's rule (the last field wins).
@Suite struct ContentLengthTests {
    func length(_ headers: [(String, String)]) throws(HTTPClientError) -> UInt64? {
        try HTTPResponse.contentLength(in: headers.map { (name: $0.0, value: $0.1) })
    }

    @Test func oneFieldIsTheLength() throws {
        #expect(try length([("Content-Length", "12345")]) == 12345)
        #expect(try length([("content-length", " 0 ")]) == 0)
        #expect(try length([("ETag", "\"x\"")]) == nil)
    }

    @Test func repeatedIdenticalValuesAreOneLength() throws {
        #expect(try length([("Content-Length", "10"), ("Content-Length", "10")]) == 10)
        #expect(try length([("Content-Length", "10, 10")]) == 10)
    }

    @Test func conflictingValuesAreAnInvalidResponse() {
        for headers in [[("Content-Length", "10"), ("Content-Length", "5")], [("Content-Length", "10, 5")],
                        [("Content-Length", "5"), ("content-length", "10")]] {
            #expect(throws: HTTPClientError.self) { try length(headers) }
            do { _ = try length(headers) } catch {
                guard case .invalidResponse = error else { Issue.record("\(error)"); return }
            }
        }
    }

    @Test func malformedValuesAreAnInvalidResponse() {
        for value in ["", "+5", "-1", "5 5", "0x10", "10,", "18446744073709551616", "١٢"] {
            #expect(throws: HTTPClientError.self, "\(value)") { try length([("Content-Length", value)]) }
        }
    }

    @Test func contentLengthBesideTransferEncodingIsAnInvalidResponse() throws {
        #expect(throws: HTTPClientError.self) {
            try length([("Transfer-Encoding", "chunked"), ("Content-Length", "10")])
        }
        #expect(try length([("Transfer-Encoding", "chunked")]) == nil)
    }

    /// The head is refused in the header callback, at its blank line, so libcurl aborts the
    /// transfer (and closes the connection) before reading any of the body.
    @Test func theHeaderCallbackRefusesAContradictoryHead() {
        let state = TransferState()
        func line(_ text: String) -> Int {
            var bytes = Array(text.utf8CString.dropLast())
            return bytes.withUnsafeMutableBufferPointer {
                TransferState.headerCallback($0.baseAddress, 1, $0.count, Unmanaged.passUnretained(state).toOpaque())
            }
        }
        #expect(line("HTTP/1.1 200 OK\r\n") == 17)
        #expect(line("Content-Length: 5\r\n") == 19)
        #expect(line("Content-Length: 10\r\n") == 20)
        #expect(line("\r\n") == 0)
        guard case .invalidResponse = state.invalidHead else {
            Issue.record("no invalidHead: \(String(describing: state.invalidHead))")
            return
        }
        state.reset()
        #expect(state.invalidHead == nil)
        for text in ["HTTP/1.1 100 Continue\r\n", "\r\n", "HTTP/1.1 200 OK\r\n", "Content-Length: 7\r\n", "\r\n"] {
            #expect(line(text) == text.utf8.count)
        }
        #expect(state.headComplete && state.contentLength == 7 && state.invalidHead == nil)
    }

    @Test func anInvalidResponseIsNotRetried() {
        #expect(!HTTPClientError.invalidResponse("x").isConnectFailure)
    }
}
