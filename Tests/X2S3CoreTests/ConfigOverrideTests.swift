import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// S3 options, client_options merging, local_path and the `X2S3_*` environment overrides.
final class ConfigOverrideTests {
    let fx = ConfigFixture()

    func load(_ yaml: String, env: [String: String] = [:]) throws -> Config {
        try ConfigLoader.load(text: yaml, source: "config.yaml", environment: env)
    }

    func failure(_ yaml: String, env: [String: String] = [:]) -> String? {
        do {
            _ = try load(yaml, env: env)
            return nil
        } catch {
            return "\(error)"
        }
    }

    func s3(_ config: Config, _ index: Int = 0) -> S3Options? {
        if case .s3(let options) = config.targets[index].kind { return options }
        return nil
    }

    @Test func s3OptionsAreAllRead() throws {
        let config = try load("""
        targets:
          - name: private
            client: s3
            options:
              bucket: multifish
              prefix: /a/b/
              endpoint: https://s3.us-east-1.lyvecloud.seagate.com/
              access_key_path: \(fx.accessKey)
              secret_key_path: \(fx.secretKey)
              region: eu-west-1
              proxy_etag: 'true'
              config:
                connect_timeout: 5
                read_timeout: 2.5
                retries: {max_attempts: 4}
                s3: {addressing_style: virtual}
        """)
        var expected = S3Options(bucket: "multifish")
        expected.prefix = "a/b"
        expected.endpoint = "https://s3.us-east-1.lyvecloud.seagate.com"
        expected.accessKeyPath = fx.accessKey
        expected.secretKeyPath = fx.secretKey
        expected.region = "eu-west-1"
        expected.proxyETag = true
        expected.connectTimeout = 5
        expected.readTimeout = 2.5
        expected.maxAttempts = 5
        expected.addressingStyle = "virtual"
        #expect(s3(config) == expected)
        #expect(config.ignoredKeys.isEmpty)
    }

    @Test func regionNameInConfigSetsTheRegionUnlessRegionIsGiven() throws {
        #expect(s3(try load("targets: [{name: a, options: {bucket: b, config: {region_name: ap-south-1}}}]"))?.region == "ap-south-1")
        #expect(s3(try load("targets: [{name: a, options: {bucket: b, region: us-west-2, config: {region_name: ap-south-1}}}]"))?.region == "us-west-2")
    }

    @Test func totalMaxAttemptsCountsTheFirstTry() throws {
        #expect(s3(try load("targets: [{name: a, options: {bucket: b, config: {retries: {total_max_attempts: 2}}}}]"))?.maxAttempts == 2)
    }

    @Test func botocoreKeysWithoutMeaningHereAreRecordedOnce() throws {
        let config = try load("""
        client_options:
          aioboto:
            max_pool_connections: 50
            config: {max_pool_connections: 50, signature_version: s3v4, retries: {mode: adaptive}, s3: {use_accelerate_endpoint: false}}
        targets:
          - {name: a, options: {bucket: b}}
          - {name: c, options: {bucket: d}}
        """)
        #expect(config.ignoredKeys == [
            "client_options.aioboto.max_pool_connections",
            "client_options.aioboto.config.max_pool_connections",
            "client_options.aioboto.config.signature_version",
            "client_options.aioboto.config.retries.mode",
            "client_options.aioboto.config.s3.use_accelerate_endpoint",
        ])
    }

    @Test(arguments: [
        ("access_key_path: \(ConfigFixture.placeholder)", "access_key_path: secret_key_path is required with access_key_path"),
        ("secret_key_path: \(ConfigFixture.placeholder)", "secret_key_path: access_key_path is required with secret_key_path"),
        ("access_key_path: /nonexistent-ak, secret_key_path: /nonexistent-sk", "access_key_path: file /nonexistent-ak does not exist"),
        ("access_key_path: /tmp, secret_key_path: /tmp", "access_key_path: /tmp is not a regular file"),
        ("endpoint: s3.amazonaws.com", #"endpoint: expected an http(s) URL, got "s3.amazonaws.com""#),
        ("config: {connect_timeout: soon}", #"config.connect_timeout: expected a number, got "soon""#),
        ("config: {read_timeout: -1}", "config.read_timeout: must be greater than 0, got -1"),
        ("config: {retries: {max_attempts: many}}", #"config.retries.max_attempts: expected an integer, got "many""#),
        ("config: {retries: {mode: turbo}}", #"config.retries.mode: expected legacy, standard or adaptive, got "turbo""#),
        ("config: {s3: {addressing_style: sideways}}", #"config.s3.addressing_style: expected auto, path or virtual, got "sideways""#),
        ("proxy_etag: perhaps", #"proxy_etag: expected a boolean, got "perhaps""#),
        ("bucket: ''", "bucket: must not be empty"),
    ])
    func s3OptionErrorsNameTheOption(options: String, message: String) throws {
        let fixed = options.replacing(ConfigFixture.placeholder, with: fx.accessKey)
        var body = "bucket: b, " + fixed
        if fixed.hasPrefix("bucket:") { body = fixed }
        let got = try #require(failure("targets: [{name: a, options: {\(body)}}]"))
        #expect(got.hasSuffix("targets[0].options." + message))
    }

    @Test func clientOptionsAreMergedUnderTargetOptionsAndTheTargetWins() throws {
        let config = try load("""
        client_options:
          file: {buffer_size: 131072, calculate_etags: true}
          aioboto: {proxy_etag: true, config: {connect_timeout: 7, read_timeout: 9}}
          s3: {region: eu-central-1}
        targets:
          - {name: f, client: file, options: {path: /tmp, calculate_etags: false}}
          - {name: s, client: aioboto, options: {bucket: b, config: {read_timeout: 3}}}
        """)
        var file = FileOptions(path: "/tmp")
        file.bufferSize = 131072
        #expect(config.targets[0].kind == .file(file))
        var s = S3Options(bucket: "b")
        s.proxyETag = true
        s.region = "eu-central-1"
        s.readTimeout = 3  // the target's config replaces the default config whole, as the original
        #expect(s3(config, 1) == s)
    }

    @Test func clientOptionErrorsPointAtTheDefault() {
        #expect(failure("client_options: {file: {buffer_size: big}}\ntargets: [{name: a, client: file, options: {path: /tmp}}]")
                == #"config.yaml:1:38: client_options.file.buffer_size: expected an integer, got "big""#)
    }

    @Test func localPathAppendsABrowseableFileTargetLast() throws {
        let config = try load("local_path: \(fx.data)\nclient_options: {file: {offload: yes}}\ntargets: [{name: a, options: {bucket: b}}]")
        #expect(config.targets.map(\.name) == ["a", "local"])
        var file = FileOptions(path: fx.data)
        file.offload = true
        #expect(config.targets[1] == Target(name: "local", browseable: true, kind: .file(file)))
    }

    @Test func localPathReplacesATargetOfTheSameNameIgnoringCase() throws {
        let config = try load("""
        local_path: \(fx.data)
        local_name: Shared
        targets: [{name: shared, options: {bucket: b}}, {name: other, options: {bucket: c}}]
        """)
        #expect(config.targets.map(\.name) == ["other", "Shared"])
    }

    @Test func localPathMustBeADirectory() {
        #expect(failure("local_path: /nonexistent-x2s3") == "config.yaml:1:13: local_path: directory /nonexistent-x2s3 does not exist")
    }

    @Test(arguments: [
        ("X2S3_LOG_LEVEL", "debug"), ("x2s3_ui", "false"), ("X2S3_VIRTUAL_BUCKETS", "on"),
        ("X2S3_BASE_URL", "https://override.example.org"), ("X2S3_LOCAL_NAME", "mine"), ("X2s3_Local_Path", "/tmp"),
    ])
    func scalarEnvironmentVariablesOverrideTheFile(name: String, value: String) throws {
        let config = try load("log_level: INFO\nui: true\nvirtual_buckets: no\nbase_url: https://file.example.org\nlocal_path: /tmp\n",
                              env: [name: value])
        switch name.uppercased() {
        case "X2S3_LOG_LEVEL": #expect(config.logLevel == "DEBUG")
        case "X2S3_UI": #expect(config.ui == false)
        case "X2S3_VIRTUAL_BUCKETS": #expect(config.virtualBuckets)
        case "X2S3_BASE_URL": #expect(config.baseURL?.host == "override.example.org")
        case "X2S3_LOCAL_NAME": #expect(config.targets.last?.name == "mine")
        default: #expect(config.localPath == "/tmp")
        }
    }

    @Test(arguments: [
        ("X2S3_UI", "maybe", #"X2S3_UI: expected a boolean, got "maybe""#),
        ("X2S3_LOG_LEVEL", "loud", #"X2S3_LOG_LEVEL: expected one of TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL, got "loud""#),
        ("X2S3_BASE_URL", "nope", #"X2S3_BASE_URL: expected an http(s) URL, got "nope""#),
        ("X2S3_LOCAL_PATH", "/nonexistent-x2s3", "X2S3_LOCAL_PATH: directory /nonexistent-x2s3 does not exist"),
        ("X2S3_CLIENT_OPTIONS__file__buffer_size", "abc", #"X2S3_CLIENT_OPTIONS__file__buffer_size: expected an integer, got "abc""#),
        ("X2S3_CLIENT_OPTIONS__fiel__path", "/tmp", "X2S3_CLIENT_OPTIONS__fiel__path: expected X2S3_CLIENT_OPTIONS__<file|s3|aioboto>__<option>"),
        ("X2S3_CLIENT_OPTIONS__file__buffer", "1", "X2S3_CLIENT_OPTIONS__file__buffer: unknown file option (expected one of: path, buffer_size, calculate_etags, offload, virtual_prefix)"),
        ("X2S3_TARGETS", #"[{"name": "a", "client": "file", "options": {"path": "/nonexistent-x2s3"}}]"#,
         "X2S3_TARGETS:1:54: targets[0].options.path: directory /nonexistent-x2s3 does not exist"),
        ("X2S3_TARGETS", "[{name: a", "X2S3_TARGETS:2:1: targets: did not find expected ',' or '}' (while parsing a flow mapping started at 1:2)"),
    ])
    func environmentErrorsNameTheVariable(name: String, value: String, message: String) {
        #expect(failure("targets: [{name: f, client: file, options: {path: /tmp}}]", env: [name: value]) == message)
    }

    @Test func deepClientOptionVariablesAreRefusedWithAHint() throws {
        let got = try #require(failure("", env: ["X2S3_CLIENT_OPTIONS__aioboto__config__connect_timeout": "5"]))
        #expect(got.hasPrefix("X2S3_CLIENT_OPTIONS__aioboto__config__connect_timeout: set the whole config mapping instead"))
    }

    @Test func targetsVariableReplacesTheList() throws {
        let config = try load("targets: [{name: old, options: {bucket: b}}]",
                              env: ["X2S3_TARGETS": #"[{"name": "new", "client": "file", "options": {"path": "/tmp"}}]"#])
        #expect(config.targets == [Target(name: "new", kind: .file(FileOptions(path: "/tmp")))])
    }

    @Test func clientOptionVariablesAreCoercedAndMerged() throws {
        let config = try load(
            "client_options: {file: {calculate_etags: true}}\ntargets: [{name: f, client: file, options: {path: /tmp}}, {name: s, options: {bucket: b}}]",
            env: ["X2S3_CLIENT_OPTIONS__FILE__BUFFER_SIZE": "131072",
                  "X2S3_CLIENT_OPTIONS__aioboto__config": "{connect_timeout: 5}"])
        var file = FileOptions(path: "/tmp")
        file.bufferSize = 131072
        file.calculateETags = true
        #expect(config.targets[0].kind == .file(file))
        #expect(s3(config, 1)?.connectTimeout == 5)
    }

    @Test func clientOptionsVariableReplacesTheFileDefaults() throws {
        let config = try load("client_options: {file: {calculate_etags: true}}\ntargets: [{name: f, client: file, options: {path: /tmp}}]",
                              env: ["X2S3_CLIENT_OPTIONS": #"{"file": {"buffer_size": 2048}}"#])
        var file = FileOptions(path: "/tmp")
        file.bufferSize = 2048
        #expect(config.targets[0].kind == .file(file))
    }

    @Test func emptyAndUnrelatedVariablesAreIgnored() throws {
        let config = try load("ui: false", env: ["X2S3_UI": "", "X2S3_LOCAL_PATH": "", "X2S3_CONFIG": "x.yaml",
                                                 "X2S3_SOCKET": "unix:/run/x.sock", "HOME": "/root"])
        #expect(config.ui == false && config.targets.isEmpty)
    }
}

extension ConfigFixture {
    /// Stands for the fixture's access-key path in static test tables.
    static let placeholder = "@AK@"
}

/// The shipped `config.template.yaml` must load and document every key the loader knows.
struct ConfigTemplateTests {
    static let templatePath: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/X2S3CoreTests/<this file>
        return parts.joined(separator: "/") + "/config.template.yaml"
    }()

    @Test func templateLoadsAndMatchesTheDefaults() throws {
        let config = try ConfigLoader.load(path: Self.templatePath, environment: [:])
        var defaults = Config()
        defaults.targets = config.targets
        #expect(config == defaults)
        #expect(config.targets.map(\.name) == ["local-files", "janelia-data-examples", "with-prefix", "hidden-examples"])
        #expect(config.targets[0].kind == .file(FileOptions(path: "/tmp")))
        var s3 = S3Options(bucket: "janelia-data-examples")
        s3.endpoint = "https://s3.amazonaws.com"
        #expect(config.targets[1].kind == .s3(s3))
    }

    @Test func templateMentionsEveryKey() throws {
        let fd = ConfigFiles.read(Self.templatePath)
        guard case .success(let text) = fd else { Issue.record("cannot read the template"); return }
        let keys = RawSettings.topKeys + ClientKind.file.optionKeys + ClientKind.s3.optionKeys
            + ["name", "browseable", "private", "client", "connect_timeout", "read_timeout", "retries", "max_attempts",
               "total_max_attempts", "addressing_style", "region_name"] + RawSettings.credentialKeys
        for key in keys {
            #expect(text.contains(key), "config.template.yaml does not mention \(key)")
        }
    }
}
