import Auth
import Glibc
import Testing
@testable import Storage
@testable import X2S3Core

/// `private: true` and `credentials:`: secrets from files, every mistake one line naming the
/// key path, and the secret never in an error or a description.
final class CredentialsConfigTests {
    let fx = ConfigFixture()
    var secretFile: String { fx.root + "/alice.secret" }

    init() { fx.write("s3cr3t/With+Odd=Chars\n", to: fx.root + "/alice.secret") }
    deinit { unlink(fx.root + "/alice.secret") }

    func yaml(_ credentials: String, private isPrivate: String = "true") -> String {
        """
        targets:
          - {name: Lab, private: \(isPrivate), client: file, options: {path: \(fx.data)}}
          - {name: public, client: file, options: {path: \(fx.data)}}
        credentials:
        \(credentials)
        """
    }

    @Test func credentialsLoadWithTheirSecretsAndBuckets() throws {
        let c = try ConfigLoader.load(text: yaml("""
              - {access_key: AKALICE, secret_key_path: \(secretFile), buckets: [lab]}
              - {access_key: AKROOT, secret_key_path: \(secretFile), buckets: ["*"]}
            """), source: "config.yaml", environment: [:])
        #expect(c.targets.map(\.isPrivate) == [true, false])
        #expect(c.credentials.map(\.accessKey) == ["AKALICE", "AKROOT"])
        #expect(c.credentials[0].secretKey == "s3cr3t/With+Odd=Chars")
        #expect(c.credentials[0].allows(bucket: "LAB") && !c.credentials[0].allows(bucket: "public"))
        #expect(c.credentials[1].buckets == nil && c.credentials[1].allows(bucket: "anything"))
        #expect(c.credential(accessKey: "AKALICE")?.secretKeyPath == secretFile)
        #expect(c.credential(accessKey: "akalice") == nil)
        #expect(!"\(c.credentials[0])".contains("s3cr3t") && !"\(c)".contains("s3cr3t"))
        #expect(c.warnings.isEmpty)
    }

    @Test func aPrivateTargetNoCredentialMayReadIsWarnedAbout() throws {
        let c = try ConfigLoader.load(text: yaml("  []"), source: "config.yaml", environment: [:])
        #expect(c.warnings == ["target \"Lab\" is private but no credential is allowed on it: every request to it is refused"])
    }

    @Test func errorsNameTheKeyPathAndNeverTheSecret() {
        let cases: [(String, String)] = [
            ("  - {access_key: AK, secret_key_path: /nope/x.secret, buckets: [lab]}",
             "credentials[0].secret_key_path: file /nope/x.secret does not exist"),
            ("  - {access_key: AK, secret_key_path: \(fx.data), buckets: [lab]}", "credentials[0].secret_key_path: cannot read file \(fx.data)"),
            ("  - {access_key: AK, secret_key_path: \(fx.secretKey), buckets: [lab]}", "credentials[0].secret_key_path: file \(fx.secretKey) is empty"),
            ("  - {access_key: AK, secret_key_path: \(secretFile), buckets: [lab, nope]}", "credentials[0].buckets[1]: no target is named \"nope\""),
            ("  - {access_key: AK, secret_key_path: \(secretFile), buckets: [lab]}\n  - {access_key: AK, secret_key_path: \(secretFile), buckets: [lab]}",
             "credentials[1].access_key: access key AK is listed twice (first at credentials[0].access_key)"),
            ("  - {access_key: A/K, secret_key_path: \(secretFile), buckets: [lab]}", "credentials[0].access_key: must be printable ASCII"),
            ("  - {access_key: AK, secret_key_path: \(secretFile)}", "credentials[0]: missing required key buckets"),
            ("  - {secret_key_path: \(secretFile), buckets: [lab]}", "credentials[0]: missing required key access_key"),
            ("  - {access_key: AK, buckets: [lab]}", "credentials[0]: missing required key secret_key_path"),
            ("  - {access_key: AK, secret_key_path: \(secretFile), buckets: [lab], secret: x}", "credentials[0].secret: unknown key"),
        ]
        for (text, message) in cases {
            let got = configFailure(yaml(text)) ?? "loaded"
            #expect(got.contains(message), "\(got)")
            #expect(!got.contains("s3cr3t"))
        }
        #expect(configFailure(yaml("  []", private: "maybe"))?.contains("targets[0].private: expected a boolean") == true)
    }

    /// SIGHUP re-runs the loader: a rotated secret file is what the new config holds.
    @Test func reloadingReadsTheSecretFileAgain() throws {
        let text = yaml("  - {access_key: AK, secret_key_path: \(secretFile), buckets: [\"*\"]}")
        #expect(try ConfigLoader.load(text: text, source: "c", environment: [:]).credentials[0].secretKey == "s3cr3t/With+Odd=Chars")
        fx.write("  rotated \n", to: secretFile)
        #expect(try ConfigLoader.load(text: text, source: "c", environment: [:]).credentials[0].secretKey == "rotated")
    }
}
