internal import CCurl

/// Why an upstream exchange failed, in the terms a caller acts on: connect failures may be
/// retried, timeouts become 504, anything after the head can only cut the stream.
public enum HTTPClientError: Error, Equatable, Sendable {
    /// No connection within the connect timeout (includes name resolution).
    case connectTimeout(String)
    /// The transfer received nothing for the stall (read) timeout.
    case stalled(String)
    /// The peer could not be reached: connection refused, unknown host, TLS handshake.
    case connectFailed(String)
    /// The connection broke or the peer spoke bad HTTP (reset, truncated body, ...).
    case transport(String)
    /// The peer's reply contradicts itself (conflicting Content-Length fields, RFC 9112):
    /// never forwarded, its connection closed.
    case invalidResponse(String)
    /// libcurl could not be set up or was misused (a bug or resource exhaustion).
    case setup(String)

    /// Whether nothing reached the peer's application, so an idempotent request can be
    /// sent again without risk.
    public var isConnectFailure: Bool {
        if case .connectFailed = self { return true }
        return false
    }

    /// Maps a finished transfer's `CURLcode`. A timeout before a connection existed is a
    /// connect timeout; after it, the stall timer (`CURLOPT_LOW_SPEED_TIME`) fired.
    static func from(_ code: CURLcode, connected: Bool, detail: String) -> HTTPClientError {
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return connected ? .stalled(text) : .connectTimeout(text)
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT,
             CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION:
            return .connectFailed(text)
        case CURLE_UNSUPPORTED_PROTOCOL:
            // Once connected, this is libcurl refusing a reply that is not HTTP ("Received
            // HTTP/0.9 when not allowed"): the peer's fault, a 502, not ours.
            return connected ? .transport(text) : .setup(text)
        case CURLE_OUT_OF_MEMORY, CURLE_FAILED_INIT, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_UNKNOWN_OPTION,
             CURLE_URL_MALFORMAT:
            return .setup(text)
        default:
            return .transport(text)
        }
    }
}
