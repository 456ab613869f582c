/// What a target's kind of backend implies, each fact decided in one exhaustive switch: a new
/// backend kind does not compile until every fact is decided for it.
extension Target {
    /// Whether answering for this target calls an upstream server, so that the first byte may
    /// be long in coming.
    public var callsUpstream: Bool {
        switch kind {
        case .file: false
        case .s3: true
        }
    }

    /// The region GetBucketLocation names.
    public var region: String {
        switch kind {
        case .file: "us-east-1"
        case .s3(let options): options.region
        }
    }

    /// The kind as the bucket index shows it.
    public var kindName: String {
        switch kind {
        case .file: "Files"
        case .s3: "S3"
        }
    }

    /// The kind as `/_x2s3/health` reports it.
    public var healthKind: String {
        switch kind {
        case .file: "file"
        case .s3: "s3"
        }
    }
}
