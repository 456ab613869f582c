@testable import Storage
import Testing
@testable import X2S3Core

/// `ca_bundle` and `AWS_CA_BUNDLE`: the CA file S3 targets verify their endpoint with, checked
/// at load so a missing file is a startup error naming its key.
final class CABundleConfigTests {
    let fx = ConfigFixture()

    func load(_ yaml: String, env: [String: String] = [:]) throws -> Config {
        try ConfigLoader.load(text: yaml, source: "config.yaml", environment: env)
    }

    func bundles(_ config: Config) -> [String?] {
        config.targets.map { t in
            if case .s3(let s) = t.kind { return s.caBundle }
            return "not s3"
        }
    }

    @Test func noBundleMeansTheSystemStore() throws {
        #expect(bundles(try load("targets: [{name: a, options: {bucket: b}}]")) == [nil])
    }

    @Test func theTargetOptionAndClientOptionsSetIt() throws {
        let ca = fx.accessKey
        let config = try load("""
            client_options: {s3: {ca_bundle: \(ca)}}
            targets: [{name: a, options: {bucket: b}}, {name: c, options: {bucket: d, ca_bundle: \(fx.secretKey)}},
                      {name: e, client: file, options: {path: \(fx.data)}}]
            """)
        #expect(bundles(config) == [ca, fx.secretKey, "not s3"])
    }

    @Test func awsCABundleIsTheDefaultAndTheOptionWins() throws {
        let env = ["AWS_CA_BUNDLE": fx.accessKey]
        let config = try load("targets: [{name: a, options: {bucket: b}}, {name: c, options: {bucket: d, ca_bundle: \(fx.secretKey)}}]", env: env)
        #expect(bundles(config) == [fx.accessKey, fx.secretKey])
        #expect(bundles(try load("targets: [{name: a, options: {bucket: b}}]", env: ["AWS_CA_BUNDLE": ""])) == [nil])
        // Only S3 targets use it: a file-only config starts whatever it names.
        #expect(try load("targets: [{name: e, client: file, options: {path: \(fx.data)}}]", env: ["AWS_CA_BUNDLE": "/nope"]).targets.count == 1)
    }

    @Test func aMissingBundleIsAnErrorNamingTheKey() {
        #expect(configFailure("targets: [{name: a, options: {bucket: b, ca_bundle: /nope/ca.pem}}]")
                == "config.yaml:1:53: targets[0].options.ca_bundle: file /nope/ca.pem does not exist")
        #expect(configFailure("targets: [{name: a, options: {bucket: b, ca_bundle: \(fx.data)}}]")
                == "config.yaml:1:53: targets[0].options.ca_bundle: \(fx.data) is not a regular file")
        let got = configFailure("targets: [{name: a, options: {bucket: b}}]", env: ["AWS_CA_BUNDLE": "/nope/ca.pem"])
        #expect(got?.hasPrefix("AWS_CA_BUNDLE") == true)
        #expect(got?.contains("file /nope/ca.pem does not exist") == true)
    }
}
