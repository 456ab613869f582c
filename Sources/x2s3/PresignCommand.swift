import ArgumentParser
import Auth
import FastCGI
import Posix
import Storage
import X2S3Core

/// `x2s3 presign s3://bucket/key`: a presigned URL for one object (or, with `--capability`, a
/// capability link for a prefix) under the config's `base_url`, signed with one of its
/// `credentials`.
struct Presign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "x2s3 presign",
        abstract: "Print a presigned URL for an object, or a capability link for a prefix (--capability).",
        discussion: """
            The URL is under the config's base_url and signed with a credential of its \
            `credentials:` list that may read the bucket (--access-key chooses one when several may).
            """
    )

    @Argument(help: "s3://bucket/key, or s3://bucket/prefix/ with --capability.")
    var url: String

    @Option(help: "Lifetime: seconds, or a number with s, m, h or d (at most 7d).")
    var expires = "600"

    @Option(help: "Config file (default: $X2S3_CONFIG, else ./config.yaml).")
    var config: String?

    @Option(help: "The access key to sign with (needed when several credentials may read the bucket).")
    var accessKey: String?

    @Flag(help: "Print a capability link: every GET, HEAD and listing under the prefix until it expires.")
    var capability = false

    func run() throws {
        do {
            print(try presign())
        } catch {
            ProcessControl.printError("x2s3 presign: \(error)")
            throw ExitCode(1)
        }
    }

    private func presign() throws(StartupError) -> String {
        guard let lifetime = Presigner.parseExpires(expires) else {
            throw StartupError("--expires must be seconds or a number with s, m, h or d, from 1 s to 7d (got \(expires))")
        }
        guard let (bucket, key) = Presigner.parseS3URL(url) else {
            throw StartupError("expected s3://bucket/key, got \(url)")
        }
        if !capability && key.isEmpty { throw StartupError("\(url) names no key (a prefix needs --capability)") }
        let startup = Startup(configArgument: config, environment: CGI.environment())
        // Without a file the defaults load, which have no base_url or credentials: say why.
        guard startup.configFile != nil else { throw StartupError(Startup.noConfigFile) }
        let loaded = try startup.loadConfig()
        guard let base = loaded.baseURL else {
            throw StartupError("base_url is not set in the config: presigned URLs are made under base_url")
        }
        guard let target = loaded.target(named: bucket) else { throw StartupError("targets: no target is named \(bucket)") }
        guard target.isPrivate else {
            throw StartupError("bucket \(target.name) is public and checks no signature: "
                               + "its URL is \(Presigner.plainURL(base: base, bucket: target.name, key: key))")
        }
        let allowed = loaded.credentials.filter { $0.allows(bucket: target.name) }
        let credential: Credential
        if let accessKey {
            guard let c = loaded.credential(accessKey: accessKey) else { throw StartupError("credentials: no access_key \(accessKey)") }
            guard c.allows(bucket: target.name) else { throw StartupError("credentials: \(accessKey) may not read bucket \(target.name)") }
            credential = c
        } else if allowed.count == 1 {
            credential = allowed[0]
        } else if allowed.isEmpty {
            throw StartupError("credentials: no credential may read bucket \(target.name)")
        } else {
            throw StartupError("several credentials may read bucket \(target.name); choose one with --access-key (\(allowed.map(\.accessKey).joined(separator: ", ")))")
        }
        if capability && !key.isEmpty && !key.hasSuffix("/") {
            ProcessControl.printError("x2s3 presign: warning: the prefix \(key) does not end in /, so the link also opens "
                                      + "every key that merely starts with it (\(key)x/, \(key).zarr/, …)")
        }
        let now = WallClock.now()
        return capability
            ? Presigner.capabilityURL(base: base, bucket: target.name, prefix: key, credential: credential, now: now, expires: lifetime)
            : Presigner.objectURL(base: base, bucket: target.name, key: key, credential: credential, now: now, expires: lifetime)
    }
}
