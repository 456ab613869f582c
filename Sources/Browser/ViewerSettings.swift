/// Where the "Open in …" links of dataset folders lead (`viewers:` in the config): sites run
/// their own viewer deployments. Each value is the viewer's page URL (http or https, no query
/// or fragment); x2s3 appends what the viewer reads.
public struct ViewerSettings: Sendable, Equatable {
    /// Neuroglancer; the viewer state follows as `#!<URL-encoded JSON>`.
    public var neuroglancer = "https://neuroglancer-demo.appspot.com/"
    /// vizarr, for OME-Zarr; the image follows as `?source=<URL>`.
    public var vizarr = "https://hms-dbmi.github.io/vizarr/"

    public init() {}

    package static let keys = ["neuroglancer", "vizarr"]
}
