// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for x2s3's parsers, a package of its own so a plain `swift build` of
// x2s3 never needs the fuzzer runtime. Built and run by scripts/fuzz:
//   swift build --package-path Fuzz --sanitize=fuzzer --sanitize=address
// libFuzzer supplies `main`, hence -parse-as-library. One binary holds every target; the
// X2S3_FUZZ_TARGET environment variable picks one (see Entry.swift).
let package = Package(
    name: "x2s3-fuzz",
    dependencies: [.package(name: "x2s3", path: "..")],
    targets: [
        .executableTarget(
            name: "x2s3-fuzz",
            dependencies: [.product(name: "X2S3Core", package: "x2s3")],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
                .enableUpcomingFeature("InternalImportsByDefault"),
                .unsafeFlags(["-parse-as-library"]),
            ]
        ),
    ]
)
