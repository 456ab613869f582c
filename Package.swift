// swift-tools-version:6.0
import PackageDescription

// Module boundaries are compiler-enforced: with internal imports by default, a public
// signature that mentions a C type cannot compile outside its wrapper module.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "x2s3",
    products: [
        .executable(name: "x2s3", targets: ["x2s3"]),
        // For Fuzz/ (a separate package, so plain builds never need the fuzzer runtime).
        .library(name: "X2S3Core", targets: ["X2S3Core", "S3Protocol", "Storage", "Auth", "Browser"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C shims: each imported by exactly one Swift wrapper module below.
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CYaml", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .target(name: "CPosix", cSettings: [.define("_GNU_SOURCE")]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // Percent-encoding and hex digits, written once for every module that needs them.
        .target(name: "Escaping", swiftSettings: strict),
        .target(name: "FastCGI", dependencies: ["CFastCGI", "Posix", "Escaping"], swiftSettings: strict),
        .target(name: "YAML", dependencies: ["CYaml"], swiftSettings: strict),
        .target(name: "Posix", dependencies: ["CPosix"], swiftSettings: strict),
        .target(name: "HTTPClient", dependencies: ["CCurl", "Posix"], swiftSettings: strict),
        // gzip for the documents x2s3 generates (never for objects).
        .target(name: "Deflate", dependencies: ["CZlib"], swiftSettings: strict),
        // MD5 and SHA-256 digests and HMAC, computed by OpenSSL's libcrypto.
        .target(name: "Hashing", dependencies: ["CCrypto"], swiftSettings: strict),
        // The supervised pool's scoreboard, its pure grow/shrink/replace/shed policy, and the
        // pool-wide counters the workers answer /_x2s3/metrics from.
        .target(name: "WorkerPool", dependencies: ["Posix"], swiftSettings: strict),

        // x2s3's own code, in the order of its imports (docs/architecture.md draws them):
        // the S3 protocol (requests, errors, wire formats, the response writer, the storage
        // seam); storage (file and S3 backends, listing, delivery); request authentication;
        // the browser pages; and the application (config, routing, dispatch).
        .target(name: "S3Protocol", dependencies: ["Posix", "Escaping", "Hashing", "WorkerPool"], swiftSettings: strict),
        .target(name: "Storage", dependencies: ["S3Protocol", "Posix", "HTTPClient", "WorkerPool"], swiftSettings: strict),
        .target(name: "Auth", dependencies: ["S3Protocol", "Escaping", "Hashing"], swiftSettings: strict),
        .target(name: "Browser", dependencies: ["S3Protocol", "Storage"], swiftSettings: strict),
        .target(
            name: "X2S3Core",
            dependencies: ["S3Protocol", "Storage", "Auth", "Browser", "YAML", "Posix", "HTTPClient", "Deflate", "WorkerPool", "Escaping",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "x2s3",
            dependencies: [
                "X2S3Core", "S3Protocol", "Storage", "Auth", "FastCGI", "Posix", "WorkerPool", "Escaping",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        .testTarget(name: "X2S3CoreTests", dependencies: ["X2S3Core", "S3Protocol", "Storage", "Auth", "Browser", "Posix", "HTTPClient", "WorkerPool", "Hashing"], swiftSettings: strict),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "CCurl"], swiftSettings: strict),
        .testTarget(name: "YAMLTests", dependencies: ["YAML"], swiftSettings: strict),
        .testTarget(name: "FastCGITests", dependencies: ["FastCGI"], swiftSettings: strict),
        .testTarget(name: "WorkerPoolTests", dependencies: ["WorkerPool"], swiftSettings: strict),
        // The executable's own parts (its log handler).
        .testTarget(name: "x2s3Tests", dependencies: ["x2s3", "X2S3Core", .product(name: "Logging", package: "swift-log")],
                    swiftSettings: strict),
    ]
)
