public import S3Protocol
public import Storage

/// Everything x2s3 can answer, as a closed set: the dispatcher switches over it with no
/// `default`, so a new route forces a decision everywhere.
public enum Route: Sendable, Equatable {
    /// `/robots.txt`
    case robots
    /// `/favicon.ico` and the bundled `/static/…` assets
    case asset(name: String)
    /// OPTIONS with Origin and Access-Control-Request-Method
    case preflight
    /// `/`: ListBuckets, or the HTML index
    case listBuckets(html: Bool)
    /// A bucket listing (V1 or V2). `bucket` is the name as the client wrote it.
    case listObjects(target: Target, bucket: String, query: ListQuery)
    /// The HTML folder page (prefix ends with `/` or is empty).
    case browse(target: Target, bucket: String, prefix: String)
    /// `?acl` on a bucket or key
    case acl(target: Target)
    /// `?location`
    case location(target: Target)
    /// GetObject/HeadObject
    case object(target: Target, bucket: String, key: String)
    /// `<object URL>?preview` with the UI on: an HTML page showing the object (operation `Preview`).
    case preview(target: Target, bucket: String, key: String)
    /// `/_x2s3/health` on the base host: the pool's status as JSON.
    case health
    /// `/_x2s3/metrics` on the base host: the pool-wide counters, Prometheus text format.
    case metrics
    /// An error decided before any backend is touched.
    case error(S3Error)
}

/// What the router decided plus the facts the dispatcher needs around it.
public struct RoutedRequest: Sendable, Equatable {
    public var route: Route
    /// The response depends on `Accept` (HTML vs XML), so caches must key on it.
    public var varyAccept: Bool
    /// The resource named in error bodies (the request path).
    public var resource: String
    /// The bucket as addressed (virtual host or first segment), for links and errors.
    public var bucket: String?
    /// True when the bucket came from the Host header.
    public var virtualHost: Bool
    /// The token of a capability link (`/_x2s3/c/<token>/bucket/key`), unverified: the
    /// dispatcher checks it before any storage access.
    public var capability: String? = nil
    /// The request names a key inside the bucket (what an error's operation is counted as).
    public var hasKey = false
    /// Why access control replaced the route with its refusal, if it did (an error page for a
    /// person then says how to get in).
    public var refusal: Refusal? = nil
}

/// What access control refused: a private bucket's request without a good signature, or a
/// capability link that has expired or does not cover the request.
public enum Refusal: Sendable, Equatable {
    case privateBucket, capability
}
