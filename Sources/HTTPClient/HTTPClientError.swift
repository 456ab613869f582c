internal import CCurl

/// Why an upstream exchange failed, in the terms a caller acts on: connect failures may be
/// retried, timeouts become 504, anything after the head can only cut the stream.
public enum HTTPClientError: Error, Equatable, Sendable {
    /// No connection within the connect timeout (includes name resolution).
    case connectTimeout(String)
    /// The transfer received nothing for the stall (read) timeout.
    case stalled(String)
    /// The peer could not be reached: connection refused, host or network unreachable.
    case connectFailed(String)
    /// The endpoint's host name did not resolve.
    case unresolved(String)
    /// The TLS handshake failed, or the peer's certificate did not verify.
    case tlsFailed(String)
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
        switch self {
        case .connectFailed, .unresolved, .tlsFailed: return true
        case .connectTimeout, .stalled, .transport, .invalidResponse, .setup: return false
        }
    }

    /// Maps a finished transfer's `CURLcode`. A timeout before a connection existed is a
    /// connect timeout; after it, the stall timer (`CURLOPT_LOW_SPEED_TIME`) fired.
    static func from(_ code: CURLcode, connected: Bool, detail: String) -> HTTPClientError {
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return connected ? .stalled(text) : .connectTimeout(text)
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .unresolved(text)
        case CURLE_COULDNT_CONNECT:
            return .connectFailed(text)
        // The operator's log says which (an expired certificate, an internal CA not configured,
        // plain HTTP on an https endpoint): they all stop at the handshake.
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE:
            return .tlsFailed(text)
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
