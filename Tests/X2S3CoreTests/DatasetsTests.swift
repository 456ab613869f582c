@testable import Browser
@testable import S3Protocol
import Testing
@testable import X2S3Core

/// Sample metadata as the writers (zarr-python, ome-zarr-py, n5-java/zarr, neuroglancer's
/// precomputed tools) produce it.
enum Samples {
    static let zarray = #"{"chunks":[64,64,64],"compressor":{"blocksize":0,"clevel":5,"cname":"lz4","id":"blosc","shuffle":1},"dtype":"<u2","fill_value":0,"filters":null,"order":"C","shape":[128,256,256],"zarr_format":2}"#
    static let zgroup = #"{"zarr_format":2}"#
    static let omeZattrs = #"""
    {"multiscales":[{"version":"0.4","name":"cells","axes":[{"name":"c","type":"channel"},
     {"name":"z","type":"space","unit":"micrometer"},{"name":"y","type":"space","unit":"micrometer"},
     {"name":"x","type":"space","unit":"micrometer"}],
     "datasets":[{"path":"0","coordinateTransformations":[{"type":"scale","scale":[1,0.5,0.25,0.25]}]},
                 {"path":"1","coordinateTransformations":[{"type":"scale","scale":[1,1,0.5,0.5]}]},
                 {"path":"2","coordinateTransformations":[{"type":"scale","scale":[1,2,1,1]}]}]}],
     "omero":{"channels":[{"label":"DAPI","color":"0000FF"},{"label":"GFP","color":"00FF00"}]}}
    """#
    static let omeScale0 = #"{"chunks":[1,32,256,256],"compressor":{"id":"zstd","level":3},"dtype":"|u1","shape":[2,64,1024,1024],"zarr_format":2,"order":"C","fill_value":0}"#
    static let v3Array = #"""
    {"zarr_format":3,"node_type":"array","shape":[100,200],"data_type":"float32",
     "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[50,100]}},"chunk_key_encoding":{"name":"default"},
     "codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":0}}],
     "dimension_names":["y","x"],"fill_value":0,"attributes":{}}
    """#
    static let v3Sharded = #"""
    {"zarr_format":3,"node_type":"array","shape":[4096,4096],"data_type":"uint16",
     "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[1024,1024]}},
     "codecs":[{"name":"sharding_indexed","configuration":{"chunk_shape":[128,128],
       "codecs":[{"name":"bytes"},{"name":"blosc"}],"index_codecs":[{"name":"bytes"},{"name":"crc32c"}]}}],"fill_value":0}
    """#
    static let v3Group = #"{"zarr_format":3,"node_type":"group","attributes":{"note":"plain"}}"#
    static let ome05 = #"""
    {"zarr_format":3,"node_type":"group","attributes":{"ome":{"version":"0.5","multiscales":[{
     "axes":[{"name":"z","type":"space","unit":"nanometer"},{"name":"y","type":"space","unit":"nanometer"},
             {"name":"x","type":"space","unit":"nanometer"}],
     "datasets":[{"path":"s0","coordinateTransformations":[{"type":"scale","scale":[40,4,4]}]},
                 {"path":"s1","coordinateTransformations":[{"type":"scale","scale":[40,8,8]}]}]}]}}}
    """#
    static let n5Array = #"{"dimensions":[512,512,64],"blockSize":[64,64,64],"dataType":"uint8","compression":{"type":"gzip","level":-1}}"#
    static let n5Multiscale = #"{"n5":"2.5.1","resolution":[4,4,40],"units":["nm","nm","nm"],"downsamplingFactors":[[1,1,1],[2,2,1]]}"#
    static let n5Group = #"{"n5":"2.0.0"}"#
    static let precomputedInfo = #"""
    {"@type":"neuroglancer_multiscale_volume","type":"segmentation","data_type":"uint64","num_channels":1,"mesh":"mesh",
     "scales":[{"key":"8_8_8","size":[1024,1024,512],"resolution":[8,8,8],"chunk_sizes":[[64,64,64]],
                "encoding":"compressed_segmentation","voxel_offset":[0,0,0]},
               {"key":"16_16_16","size":[512,512,256],"resolution":[16,16,16],"chunk_sizes":[[64,64,64]],"encoding":"raw"}]}
    """#
}

@Suite struct DatasetsTests {
    func detect(_ docs: [String: String], folders: [String] = []) -> Dataset? {
        let names = Set(docs.keys)
        let toRead = Datasets.documentsToRead(names: names)
        var bytes: [String: [UInt8]] = [:]
        for n in toRead { bytes[n] = Array(docs[n]!.utf8) }
        return Datasets.detect(names: names, documents: bytes, folders: folders)
    }

    func fact(_ d: Dataset?, _ name: String) -> String? { d?.facts.first { $0.name == name }?.value }

    @Test func zarrV2ArrayShowsShapeChunksTypeAndCompressor() {
        let d = detect([".zarray": Samples.zarray, ".zattrs": "{}"])
        #expect(d?.label == "Zarr v2 array" && d?.format == .zarr2 && d?.neuroglancerCanOpen == true)
        #expect(fact(d, "Shape") == "128 × 256 × 256")
        #expect(fact(d, "Chunks") == "64 × 64 × 64")
        #expect(fact(d, "Data type") == "uint16")
        #expect(fact(d, "Compressor") == "blosc (lz4)")
        #expect(d?.neuroglancerScheme == "zarr2")
    }

    @Test func zarrV2GroupIsLabelledButNotOfferedToNeuroglancer() {
        let d = detect([".zgroup": Samples.zgroup])
        #expect(d?.label == "Zarr v2 group" && d?.neuroglancerCanOpen == false && d?.isOME == false)
    }

    @Test func omeZarr04FromZattrsCountsScalesAndReadsScaleZero() {
        var d = detect([".zgroup": Samples.zgroup, ".zattrs": Samples.omeZattrs])
        #expect(d?.label == "OME-Zarr 0.4 image" && d?.isOME == true && d?.format == .zarr2)
        #expect(fact(d, "Scales") == "3 (0, 1, 2)")
        #expect(fact(d, "Axes") == "c, z, y, x")
        #expect(fact(d, "Voxel size") == "0.5 × 0.25 × 0.25 µm")
        #expect(fact(d, "Channels") == "2 (DAPI, GFP)")
        #expect(fact(d, "Name") == "cells")
        #expect(d?.scaleMetadataKey == "0/.zarray")
        d = d.map { Datasets.addingScaleFacts($0, document: Array(Samples.omeScale0.utf8)) }
        #expect(fact(d, "Shape (scale 0)") == "2 × 64 × 1024 × 1024 (c, z, y, x)")
        #expect(fact(d, "Data type (scale 0)") == "uint8")
    }

    @Test func zarrV3ArrayShowsDimensionNamesAndCodecs() {
        let d = detect(["zarr.json": Samples.v3Array])
        #expect(d?.label == "Zarr v3 array" && d?.neuroglancerScheme == "zarr")
        #expect(fact(d, "Shape") == "100 × 200 (y, x)")
        #expect(fact(d, "Chunks") == "50 × 100")
        #expect(fact(d, "Data type") == "float32")
        #expect(fact(d, "Codecs") == "bytes, zstd")
    }

    @Test func zarrV3ShardedArrayShowsShardsAndInnerChunks() {
        let d = detect(["zarr.json": Samples.v3Sharded])
        #expect(fact(d, "Shards") == "1024 × 1024")
        #expect(fact(d, "Chunks") == "128 × 128")
        #expect(fact(d, "Codecs") == "sharding_indexed, bytes, blosc")
    }

    @Test func zarrV3GroupIsLabelled() {
        let d = detect(["zarr.json": Samples.v3Group])
        #expect(d?.label == "Zarr v3 group" && d?.neuroglancerCanOpen == false)
    }

    @Test func omeZarr05FromZarrJSONAttributes() {
        var d = detect(["zarr.json": Samples.ome05])
        #expect(d?.label == "OME-Zarr 0.5 image" && d?.format == .zarr3 && d?.isOME == true)
        #expect(fact(d, "Scales") == "2 (s0, s1)")
        #expect(fact(d, "Voxel size") == "40 × 4 × 4 nm")
        #expect(d?.scaleMetadataKey == "s0/zarr.json")
        d = d.map { Datasets.addingScaleFacts($0, document: Array(Samples.v3Array.utf8)) }
        #expect(fact(d, "Shape (scale 0)") == "100 × 200 (y, x)")
    }

    @Test func n5ArrayFromAttributes() {
        let d = detect(["attributes.json": Samples.n5Array])
        #expect(d?.label == "N5 array" && d?.neuroglancerScheme == "n5")
        #expect(fact(d, "Shape") == "512 × 512 × 64 (x, y, z… order)")
        #expect(fact(d, "Blocks") == "64 × 64 × 64")
        #expect(fact(d, "Data type") == "uint8")
        #expect(fact(d, "Compression") == "gzip")
    }

    @Test func n5MultiscaleGroupCountsScaleFolders() {
        let d = detect(["attributes.json": Samples.n5Multiscale], folders: ["s1", "s0", "s10", "other"])
        #expect(d?.label == "N5 multiscale group" && d?.neuroglancerCanOpen == true)
        #expect(fact(d, "Scales") == "3 (s0, s1, s10)")
        #expect(fact(d, "Resolution") == "4 × 4 × 40 nm")
        #expect(d?.scaleMetadataKey == "s0/attributes.json")
        let plain = detect(["attributes.json": Samples.n5Group])
        #expect(plain?.label == "N5 group" && plain?.neuroglancerCanOpen == false)
    }

    @Test func precomputedInfoShowsTypeScalesAndEncoding() {
        let d = detect(["info": Samples.precomputedInfo])
        #expect(d?.label == "Neuroglancer precomputed volume" && d?.layerType == "segmentation")
        #expect(fact(d, "Scales") == "2")
        #expect(fact(d, "Size (scale 0)") == "1024 × 1024 × 512")
        #expect(fact(d, "Resolution (scale 0)") == "8 × 8 × 8 nm")
        #expect(fact(d, "Encoding") == "compressed_segmentation")
        #expect(fact(d, "Also") == "meshes")
    }

    @Test(arguments: [["info": "{\"hello\": 1}"], ["info": "not json"], ["attributes.json": "{\"x\": 1}"],
                      ["readme.txt": "x"], ["zarr.json": "[1]"]])
    func ordinaryFilesAreNotDatasets(docs: [String: String]) {
        #expect(detect(docs) == nil)
    }

    @Test func brokenMetadataStillLabelsTheFormat() {
        let d = Datasets.detect(names: [".zarray"], documents: [".zarray": Array("{oops".utf8)], folders: [])
        #expect(d?.label == "Zarr v2 array" && d?.facts.isEmpty == true)
    }

    @Test func onlyMetadataDocumentsAreRead() {
        #expect(Datasets.documentsToRead(names: [".zarray", ".zattrs", "0.0.0"]) == [".zarray", ".zattrs"])
        #expect(Datasets.documentsToRead(names: ["zarr.json", ".zattrs"]) == ["zarr.json"])
        #expect(Datasets.documentsToRead(names: ["a.txt"]).isEmpty)
    }

    @Test func scaleMetadataPathsCannotEscapeTheFolder() {
        let evil = #"{"multiscales":[{"version":"0.4","datasets":[{"path":"../../secret"}],"axes":["y","x"]}]}"#
        let d = detect([".zgroup": Samples.zgroup, ".zattrs": evil])
        #expect(d?.isOME == true && d?.scaleMetadataKey == nil)
    }

    @Test func folderNameHints() {
        #expect(Datasets.hint(folderName: "a.ome.zarr") == "OME-Zarr")
        #expect(Datasets.hint(folderName: "B.ZARR") == "Zarr")
        #expect(Datasets.hint(folderName: "x.n5") == "N5")
        #expect(Datasets.hint(folderName: "zarr") == nil)
    }

    @Test func neuroglancerLinkIsURLEncodedStateWithTheSourceOnThisServer() throws {
        let d = try #require(detect([".zarray": Samples.zarray]))
        let url = ViewerLinks.neuroglancer(dataset: d, url: "https://h.example/x2s3/bkt/a b.zarr", name: "a \"b\".zarr")
        #expect(url.hasPrefix("https://neuroglancer-demo.appspot.com/#!%7B"))
        let encoded = url.dropFirst(ViewerLinks.neuroglancerBase.count)
        #expect(encoded.allSatisfy { $0.isLetter || $0.isNumber || "-._~%".contains($0) })
        let state = try #require(percentDecode(encoded, plusIsSpace: false).flatMap { JSON.parse($0) })
        let layer = state["layers"]?.array?.first
        #expect(layer?["source"]?.string == "zarr2://https://h.example/x2s3/bkt/a b.zarr")
        #expect(layer?["type"]?.string == "image")
        #expect(layer?["name"]?.string == "a \"b\".zarr")
    }

    @Test func vizarrLinkEncodesTheSource() {
        #expect(ViewerLinks.vizarr(url: "https://h/b/a&b.zarr")
            == "https://hms-dbmi.github.io/vizarr/?source=https%3A%2F%2Fh%2Fb%2Fa%26b.zarr")
    }

    @Test func datasetPanelOffersViewersAndTrimmedURLs() throws {
        let d = try #require(detect([".zgroup": Samples.zgroup, ".zattrs": Samples.omeZattrs]))
        let html = HTMLPages.browse(bucket: "bkt", prefix: "img.ome.zarr/", page: ListPage(), trail: PageTrail(),
                                    dataset: d, context: HTMLPagesTests.mounted)
        #expect(html.contains("<strong class=\"ds-kind\">OME-Zarr 0.4 image</strong>"))
        #expect(html.contains("<dt>Scales</dt><dd>3 (0, 1, 2)</dd>"))
        #expect(html.contains("class=\"btn primary ng\" href=\"https://neuroglancer-demo.appspot.com/#!%7B"))
        #expect(html.contains("zarr2%3A%2F%2Fhttps%3A%2F%2Fhost.example%2Fx2s3%2Fbkt%2Fimg.ome.zarr%22"))
        #expect(html.contains("href=\"https://hms-dbmi.github.io/vizarr/?source=https%3A%2F%2Fhost.example%2Fx2s3%2Fbkt%2Fimg.ome.zarr\""))
        #expect(html.contains("<code id=\"u-s3\">s3://bkt/img.ome.zarr</code>"))
        #expect(html.contains("<code id=\"u-https\">https://host.example/x2s3/bkt/img.ome.zarr</code>"))
    }
}
