@testable import Browser
import Testing
@testable import X2S3Core

/// `viewers:`: the Neuroglancer and vizarr deployments dataset folders link to.
@Suite struct ViewerSettingsTests {
    func load(_ yaml: String) throws -> Config {
        try ConfigLoader.load(text: yaml, source: "config.yaml", environment: [:])
    }

    @Test func defaultsAreThePublicDeployments() throws {
        let v = try load("ui: true\n").viewers
        #expect(v.neuroglancer == "https://neuroglancer-demo.appspot.com/" && v.vizarr == "https://hms-dbmi.github.io/vizarr/")
        #expect(ViewerLinks.neuroglancerBase == "https://neuroglancer-demo.appspot.com/#!")
        #expect(ViewerLinks.vizarrBase == "https://hms-dbmi.github.io/vizarr/?source=")
        #expect(try load("viewers:\n").viewers == ViewerSettings())
    }

    @Test func sitesSetTheirOwn() throws {
        let v = try load("viewers:\n  neuroglancer: https://ng.example.org/viewer/\n  vizarr: http://localhost:8000/vizarr/index.html\n").viewers
        #expect(v.neuroglancer == "https://ng.example.org/viewer/" && v.vizarr == "http://localhost:8000/vizarr/index.html")
        let only = try load("viewers: {vizarr: 'https://v.example.org'}\n").viewers
        #expect(only.neuroglancer == ViewerSettings().neuroglancer && only.vizarr == "https://v.example.org")
    }

    @Test func theEnvironmentReplacesTheSection() throws {
        let c = try ConfigLoader.load(text: "viewers: {vizarr: 'https://v.example.org/'}\n", source: "config.yaml",
                                      environment: ["X2S3_VIEWERS": "{neuroglancer: 'https://ng.example.org/'}"])
        #expect(c.viewers.neuroglancer == "https://ng.example.org/" && c.viewers.vizarr == ViewerSettings().vizarr)
    }

    @Test(arguments: [
        ("viewers: {neuroglancer: ftp://ng.example.org/}", "config.yaml:1:25: viewers.neuroglancer: expected an http(s) URL, got \"ftp://ng.example.org/\""),
        ("viewers: {vizarr: 'https://v.example.org/?x=1'}", "config.yaml:1:19: viewers.vizarr: URL must not have a query or fragment"),
        ("viewers: {neuroglancer: 'https://ng/#!'}", "config.yaml:1:25: viewers.neuroglancer: URL must not have a query or fragment"),
        ("viewers: {neuroglancer: [a]}", nil),
        ("viewers: {ng: https://x/}", "config.yaml:1:11: viewers.ng: unknown key (expected one of: neuroglancer, vizarr)"),
        ("viewers: https://x/", nil),
    ] as [(String, String?)])
    func badValuesNameTheirKey(yaml: String, message: String?) {
        let error = configFailure(yaml + "\n")
        #expect(error != nil, "\(yaml)")
        if let message { #expect(error == message) } else { #expect(error?.contains("viewers") == true, "\(error ?? "")") }
    }

    @Test func pagesLinkToTheConfiguredViewers() throws {
        var settings = ViewerSettings()
        settings.neuroglancer = "https://ng.example.org/v/"
        settings.vizarr = "https://vz.example.org/"
        let context = HTMLPages.Context(scheme: "https", host: "h.example", virtualHost: false, basePath: "/", baseURL: nil,
                                        viewers: settings)
        let d = try #require(Datasets.detect(names: [".zattrs", ".zgroup"],
                                             documents: [".zattrs": Array(Samples.omeZattrs.utf8), ".zgroup": Array(Samples.zgroup.utf8)],
                                             folders: ["0"]))
        let html = HTMLPages.browse(bucket: "bkt", prefix: "img.zarr/", page: HTMLPagesTests.listing(["img.zarr/.zattrs"]),
                                    trail: PageTrail(), dataset: d, context: context)
        let links = hrefs(html)
        #expect(links.contains { $0.hasPrefix("https://ng.example.org/v/#!%7B%22layers%22") })
        #expect(links.contains("https://vz.example.org/?source=https%3A%2F%2Fh.example%2Fbkt%2Fimg.zarr"))
        #expect(!html.contains("appspot") && !html.contains("hms-dbmi"))
    }
}
