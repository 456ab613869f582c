import Glibc
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// A scratch directory with a bucket directory and two credential files, removed in `deinit`.
final class ConfigFixture {
    let root: String
    var data: String { root + "/data" }
    var accessKey: String { root + "/ak" }
    var secretKey: String { root + "/sk" }

    init() {
        var template = Array("/tmp/x2s3-config-XXXXXX".utf8CString)
        root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        mkdir(data, 0o755)
        for file in [accessKey, secretKey] { close(creat(file, 0o600)) }
    }

    deinit {
        for file in [accessKey, secretKey, root + "/config.yaml"] { unlink(file) }
        rmdir(data)
        rmdir(root)
    }

    func write(_ text: String, to path: String) {
        let fd = creat(path, 0o644)
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}

/// Loading `config.yaml` text: every key, its type checks, unknown keys and error positions.
/// Environment overrides and client_options merging are in `ConfigOverrideTests`.
final class ConfigLoaderTests {
    let fx = ConfigFixture()

    func load(_ yaml: String, env: [String: String] = [:]) throws -> Config {
        try ConfigLoader.load(text: yaml, source: "config.yaml", environment: env)
    }

    @Test func emptyFileGivesTheDefaults() throws {
        #expect(try load("") == Config())
        #expect(try load("# nothing\n") == Config())
    }

    @Test func originalTemplateLoadsUnchanged() throws {
        let text = """
        log_level: INFO
        ui: true
        virtual_buckets: false
        #base_url: https://yourdomain.org
        targets:
          - name: local_files
            client: file
            options:
              path: .
          - name: cosem-data
            client: aioboto
            options:
              bucket: janelia-cosem-datasets
          - name: cosem-data-with-prefix
            options:
              bucket: janelia-cosem-datasets
              prefix: aic_desmosome-1
          - name: cosem-data-hidden
            browseable: false
            options:
              bucket: janelia-cosem-datasets
        """
        let config = try load(text)
        #expect(config.targets.map(\.name) == ["local_files", "cosem-data", "cosem-data-with-prefix", "cosem-data-hidden"])
        guard case .file(let file) = config.targets[0].kind else { Issue.record("not a file target"); return }
        #expect(file.path.hasPrefix("/"))
        #expect(file.bufferSize == 65536)
        guard case .s3(let prefixed) = config.targets[2].kind else { Issue.record("default client is not s3"); return }
        #expect(prefixed.bucket == "janelia-cosem-datasets")
        #expect(prefixed.prefix == "aic_desmosome-1")
        #expect(config.targets.map(\.browseable) == [true, true, true, false])
        #expect(config.ignoredKeys.isEmpty && config.warnings.isEmpty)
    }

    @Test func everyTopLevelKeyIsRead() throws {
        let config = try load("""
        log_level: debug
        ui: false
        virtual_buckets: true
        base_url: https://Data.Example.org:8443/s3
        local_path: \(fx.data)
        local_name: scratch
        client_options: {file: {buffer_size: 131072}}
        targets: []
        """)
        #expect(config.logLevel == "DEBUG")
        #expect(config.ui == false)
        #expect(config.virtualBuckets == true)
        #expect(config.baseURL == BaseURL(scheme: "https", host: "data.example.org", port: 8443, path: "/s3/"))
        #expect(config.localPath == fx.data)
        #expect(config.targets.count == 1)
        #expect(config.targets.first?.name == "scratch")
        #expect(config.targets.first?.kind == .file({ var f = FileOptions(path: fx.data); f.bufferSize = 131072; return f }()))
    }

    @Test(arguments: [
        ("true", true), ("True", true), ("yes", true), ("On", true), ("'true'", true), ("\"YES\"", true), ("1", true),
        ("false", false), ("no", false), ("OFF", false), ("\"false\"", false), ("'no'", false), ("0", false),
    ])
    func booleansAcceptYAML11SpellingsQuotedOrNot(spelling: String, value: Bool) throws {
        #expect(try load("ui: \(spelling)").ui == value)
        let target = try load("targets: [{name: a, client: file, browseable: \(spelling), options: {path: /tmp, calculate_etags: \(spelling)}}]").targets[0]
        #expect(target.browseable == value)
        #expect(target.kind == .file({ var f = FileOptions(path: "/tmp"); f.calculateETags = value; return f }()))
    }

    @Test(arguments: [("info", "INFO"), ("Warning", "WARNING"), ("TRACE", "TRACE"), ("error", "ERROR"), ("'debug'", "DEBUG")])
    func logLevelIsCaseInsensitiveAndStoredUpperCase(text: String, stored: String) throws {
        #expect(try load("log_level: \(text)").logLevel == stored)
    }

    @Test(arguments: [
        ("https://data.example.org", BaseURL(scheme: "https", host: "data.example.org", port: nil, path: "/")),
        ("http://localhost:8000/", BaseURL(scheme: "http", host: "localhost", port: 8000, path: "/")),
        ("HTTPS://Example.ORG/a/b", BaseURL(scheme: "https", host: "example.org", port: nil, path: "/a/b/")),
        ("http://[::1]:9000/x/", BaseURL(scheme: "http", host: "[::1]", port: 9000, path: "/x/")),
    ])
    func baseURLIsSplitAndItsPathEndsWithASlash(text: String, url: BaseURL) throws {
        #expect(try load("base_url: \(text)").baseURL == url)
    }

    @Test func nullValuesMeanTheDefault() throws {
        let config = try load("log_level:\nui: ~\nbase_url: null\nlocal_path:\ntargets:\nclient_options:\n")
        #expect(config == Config())
    }

    @Test(arguments: [
        ("ui: maybe", #"config.yaml:1:5: ui: expected a boolean, got "maybe""#),
        ("ui: [true]", "config.yaml:1:5: ui: expected a boolean, got a sequence"),
        ("log_level: verbose", #"config.yaml:1:12: log_level: expected one of TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL, got "verbose""#),
        ("base_url: ftp://x.org", #"config.yaml:1:11: base_url: expected an http(s) URL, got "ftp://x.org""#),
        ("base_url: example.org", #"config.yaml:1:11: base_url: expected an http(s) URL, got "example.org""#),
        ("base_url: http://", #"config.yaml:1:11: base_url: expected an http(s) URL, got "http://""#),
        ("base_url: http://h:99999/", "config.yaml:1:11: base_url: URL has an invalid port"),
        ("base_url: http://u:p@h/", "config.yaml:1:11: base_url: URL must not contain credentials"),
        ("base_url: http://h/?q=1", "config.yaml:1:11: base_url: URL must not have a query or fragment"),
        ("local_name: a/b", #"config.yaml:1:13: local_name: must not contain "/", got "a/b""#),
        ("targets: {name: a}", "config.yaml:1:10: targets: expected a list, got a mapping"),
        ("targets: [a]", #"config.yaml:1:11: targets[0]: expected a mapping, got "a""#),
        ("targets: [{client: file}]", "config.yaml:1:11: targets[0]: missing required key name"),
        ("targets: [{name: ''}]", "config.yaml:1:18: targets[0].name: must not be empty"),
        ("targets: [{name: a/b}]", #"config.yaml:1:18: targets[0].name: must not contain "/", got "a/b""#),
        ("targets: [{name: a, client: gcs}]", #"config.yaml:1:29: targets[0].client: unknown client "gcs" (expected file, s3 or aioboto)"#),
        ("targets: [{name: a, client: file}]", "config.yaml:1:11: targets[0].options: missing required option path"),
        ("targets: [{name: a, options: {}}]", "config.yaml:1:30: targets[0].options: missing required option bucket"),
        ("targets: [{name: a, options: [x]}]", "config.yaml:1:30: targets[0].options: expected a mapping, got a sequence"),
        ("targets: [{name: a, browseable: nope, options: {bucket: b}}]", #"config.yaml:1:33: targets[0].browseable: expected a boolean, got "nope""#),
    ])
    func wrongValuesAreNamedByFileLineColumnAndKeyPath(yaml: String, message: String) {
        #expect(configFailure(yaml) == message)
    }

    @Test(arguments: [
        ("buffer_size: abc", #"targets[0].options.buffer_size: expected an integer, got "abc""#),
        ("buffer_size: 64.5", #"targets[0].options.buffer_size: expected an integer, got "64.5""#),
        ("buffer_size: 512", "targets[0].options.buffer_size: must be between 1024 and 16777216, got 512"),
        ("buffer_size: 33554432", "targets[0].options.buffer_size: must be between 1024 and 16777216, got 33554432"),
        ("calculate_etags: sometimes", #"targets[0].options.calculate_etags: expected a boolean, got "sometimes""#),
        ("offload: {}", "targets[0].options.offload: expected a boolean, got a mapping"),
        ("path: /nonexistent-x2s3", "targets[0].options.path: directory /nonexistent-x2s3 does not exist"),
        ("path: /etc/hostname", "targets[0].options.path: /etc/hostname is not a directory"),
        ("path: ''", "targets[0].options.path: must not be empty"),
    ])
    func fileOptionErrorsNameTheOption(option: String, message: String) throws {
        var options = "path: /tmp\n      " + option
        if option.hasPrefix("path:") { options = option }
        let yaml = "targets:\n  - name: a\n    client: file\n    options:\n      \(options)\n"
        let got = try #require(configFailure(yaml))
        #expect(got.hasPrefix("config.yaml:"))
        #expect(got.hasSuffix(message))
    }

    @Test func errorPositionPointsAtTheValue() {
        let yaml = "targets:\n  - name: a\n    client: file\n    options:\n      path: /nonexistent-x2s3\n"
        #expect(configFailure(yaml) == "config.yaml:5:13: targets[0].options.path: directory /nonexistent-x2s3 does not exist")
    }

    @Test func quotedIntegersAreCoerced() throws {
        let config = try load(#"targets: [{name: a, client: file, options: {path: /tmp, buffer_size: "131072"}}]"#)
        #expect(config.targets[0].kind == .file({ var f = FileOptions(path: "/tmp"); f.bufferSize = 131072; return f }()))
    }

    @Test func filePathIsStoredResolved() throws {
        let config = try load("targets: [{name: a, client: file, options: {path: '\(fx.data)/../data/.'}}]")
        guard case .file(let f) = config.targets[0].kind else { Issue.record("not a file target"); return }
        #expect(f.path == fx.data)
    }

    @Test(arguments: [
        ("lgo_level: INFO", "config.yaml:1:1: lgo_level: unknown key (expected one of: log_level, log_format, ui, virtual_buckets, base_url, local_path, local_name, client_options, targets, pool, listing_cache, viewers, metrics_file, credentials)"),
        ("targets: [{name: a, brwseable: false}]", "config.yaml:1:21: targets[0].brwseable: unknown key (expected one of: name, browseable, private, client, options)"),
        ("targets: [{name: a, client: file, options: {pth: /tmp}}]", "config.yaml:1:45: targets[0].options.pth: unknown file option (expected one of: path, buffer_size, calculate_etags, offload, virtual_prefix)"),
        ("targets: [{name: a, options: {bucekt: b}}]", "config.yaml:1:31: targets[0].options.bucekt: unknown s3 option (expected one of: bucket, prefix, endpoint, access_key_path, secret_key_path, region, proxy_etag, ca_bundle, config, max_pool_connections)"),
        ("client_options: {fiel: {}}", "config.yaml:1:18: client_options.fiel: unknown key (expected one of: file, s3, aioboto)"),
        ("client_options: {file: {buffer_sz: 1}}", "config.yaml:1:25: client_options.file.buffer_sz: unknown file option (expected one of: path, buffer_size, calculate_etags, offload, virtual_prefix)"),
    ])
    func unknownKeysAreErrorsNamingTheKey(yaml: String, message: String) {
        #expect(configFailure(yaml) == message)
    }

    @Test(arguments: ["max_pool_conections: 5", "retries: {max_attempt: 3}", "s3: {adressing_style: path}"])
    func unknownBotocoreKeysAreErrors(config: String) throws {
        let got = try #require(configFailure("targets: [{name: a, options: {bucket: b, config: {\(config)}}}]"))
        #expect(got.contains("unknown key"))
        #expect(got.contains("targets[0].options.config."))
    }

    @Test func yamlSyntaxErrorsKeepTheirPosition() {
        #expect(configFailure("ui: true\n\tlog_level: INFO\n") == "config.yaml:2:1: found a tab character that violates indentation (while scanning a plain scalar started at 1:5)")
        #expect(configFailure("ui: true\nui: false\n") == #"config.yaml:2:1: duplicate key "ui" (first defined at 1:1)"#)
    }

    @Test func rootMustBeAMapping() {
        #expect(configFailure("- a\n") == "config.yaml:1:1: expected a mapping, got a sequence")
    }

    @Test func errorsStayOnOneLine() {
        let got = configFailure("ui: \"a\\nb\"") ?? ""
        #expect(!got.contains("\n"))
    }

    @Test func virtualBucketsWithoutBaseURLLoadsWithAWarning() throws {
        let config = try load("virtual_buckets: true")
        #expect(config.virtualBuckets)
        #expect(config.warnings.count == 1)
        #expect(config.warnings.first?.contains("base_url") == true)
    }

    @Test func duplicateNamesAreKeptAndTheLastOneRoutes() throws {
        let config = try load("targets: [{name: data, options: {bucket: one}}, {name: data, options: {bucket: two}}]")
        #expect(config.targets.count == 2)
        #expect(config.target(named: "DATA")?.kind == .s3(S3Options(bucket: "two")))
        #expect(config.warnings.count == 1)
    }

    @Test func namesDifferingOnlyInCaseAreAnErrorNamingBoth() {
        let yaml = "targets:\n  - name: Data\n    options: {bucket: one}\n  - name: x\n    options: {bucket: x}\n  - name: data\n    options: {bucket: two}\n"
        #expect(configFailure(yaml) == #"config.yaml:6:5: targets[2]: target names "Data" (config.yaml:2:5) and "data" (config.yaml:6:5) differ only in case, and bucket names ignore case: rename one"#)
        let env = configFailure("", env: ["X2S3_TARGETS": "[{name: A, options: {bucket: a}}, {name: a, options: {bucket: b}}]"]) ?? ""
        #expect(env.hasPrefix("X2S3_TARGETS:1:35: targets[1]: target names \"A\" (X2S3_TARGETS:1:2) and \"a\" (X2S3_TARGETS:1:35)"))
    }

    @Test func logFormatIsTextOrJSON() throws {
        #expect(try load("").logFormat == .text)
        #expect(try load("log_format: json").logFormat == .json)
        #expect(try load("log_format: JSON").logFormat == .json)
        #expect(try load("log_format: json", env: ["X2S3_LOG_FORMAT": "text"]).logFormat == .text)
        #expect(try load("", env: ["x2s3_log_format": "json"]).logFormat == .json)
        #expect(configFailure("log_format: xml") == #"config.yaml:1:13: log_format: expected one of text, json, got "xml""#)
        #expect(configFailure("", env: ["X2S3_LOG_FORMAT": "yaml"]) == #"X2S3_LOG_FORMAT: expected one of text, json, got "yaml""#)
    }

    @Test func missingImplicitFileGivesDefaults() throws {
        #expect(try ConfigLoader.load(file: fx.root + "/config.yaml", explicit: false, environment: [:]) == Config())
    }

    @Test func missingExplicitFileIsAnError() {
        let path = fx.root + "/nope.yaml"
        #expect(throws: ConfigError(source: path, message: "config file not found")) {
            try ConfigLoader.load(path: path, environment: [:])
        }
        #expect(throws: ConfigError(source: path, message: "config file not found")) {
            try ConfigLoader.load(path: nil, environment: ["X2S3_CONFIG": path])
        }
    }

    @Test func fileOnDiskIsReadAndNamedInErrors() throws {
        let path = fx.root + "/config.yaml"
        fx.write("ui: false\nlocal_path: \(fx.data)\n", to: path)
        let config = try ConfigLoader.load(path: path, environment: [:])
        #expect(config.ui == false && config.targets.first?.name == "local")
        fx.write("ui: perhaps\n", to: path)
        #expect(throws: ConfigError(source: path, line: 1, column: 5, keyPath: "ui", message: #"expected a boolean, got "perhaps""#)) {
            try ConfigLoader.load(path: nil, environment: ["x2s3_config": path])
        }
    }

    @Test(arguments: [
        (String?("a.yaml"), ["X2S3_CONFIG": "b.yaml"], "a.yaml", true),
        (nil, ["X2S3_CONFIG": "b.yaml"], "b.yaml", true),
        (nil, ["x2s3_Config": "c.yaml"], "c.yaml", true),
        (nil, ["X2S3_CONFIG": ""], "config.yaml", false),
        (nil, [:], "config.yaml", false),
    ])
    func configPathComesFromArgumentThenEnvironmentThenDefault(argument: String?, env: [String: String], path: String, explicit: Bool) {
        let resolved = ConfigLoader.resolvePath(argument: argument, environment: env)
        #expect(resolved.path == path)
        #expect(resolved.explicit == explicit)
    }
}
