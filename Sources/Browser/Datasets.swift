import S3Protocol

/// A folder recognised as a dataset from its small metadata documents: what it is, a few
/// facts worth showing, and how a viewer should open it.
public struct Dataset: Sendable, Equatable {
    /// The storage formats x2s3 recognises.
    public enum Format: String, Sendable, Equatable {
        case zarr2, zarr3, n5, precomputed
    }

    /// One labelled fact (`Shape` → `64 × 512 × 512 (z, y, x)`).
    public struct Fact: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var format: Format
    /// What it is, for people: `Zarr v2 array`, `OME-Zarr 0.4 image`, `N5 multiscale group`.
    public var label: String
    public var facts: [Fact] = []
    /// An OME-Zarr image or plate (vizarr can show it).
    public var isOME = false
    /// Whether Neuroglancer can open the folder itself (arrays and multiscale images; not plain groups).
    public var neuroglancerCanOpen = true
    /// `image` or `segmentation`, the Neuroglancer layer type.
    public var layerType = "image"
    /// The axis names of a multiscale image, to name the dimensions of its first scale.
    public var axes: [String] = []
    /// One more metadata document worth reading (relative to the folder): the first scale's
    /// array metadata of a multiscale image, for its shape and data type.
    public var scaleMetadataKey: String?

    /// The Neuroglancer data-source scheme (`zarr2://…`, `zarr://…`, `n5://…`, `precomputed://…`).
    public var neuroglancerScheme: String {
        switch format {
        case .zarr2: return "zarr2"
        case .zarr3: return "zarr"
        case .n5: return "n5"
        case .precomputed: return "precomputed"
        }
    }
}

/// Dataset detection: pure functions from the names in one folder listing and the bytes of
/// at most a few small metadata documents (never chunks) to a `Dataset`.
public enum Datasets {
    /// The metadata documents that can mark a folder as a dataset.
    public static let metadataNames: Set<String> = [".zarray", ".zgroup", ".zattrs", "zarr.json", "attributes.json", "info"]
    /// Larger documents are not read (metadata is a few KiB; anything bigger is not metadata).
    public static let maxDocumentBytes: UInt64 = 1 << 20

    /// The documents to read, in order, given the object names directly in the folder.
    public static func documentsToRead(names: Set<String>) -> [String] {
        if names.contains("zarr.json") { return ["zarr.json"] }
        if names.contains(".zarray") || names.contains(".zgroup") {
            return [".zarray", ".zattrs"].filter(names.contains)
        }
        if names.contains("attributes.json") { return ["attributes.json"] }
        if names.contains("info") { return ["info"] }
        return []
    }

    /// The dataset a folder holds, if any. `names` are the objects directly in it, `documents`
    /// the bytes read for `documentsToRead(names:)`, `folders` its child folder names (no `/`).
    public static func detect(names: Set<String>, documents: [String: [UInt8]], folders: [String]) -> Dataset? {
        func doc(_ n: String) -> JSON? { documents[n].flatMap(JSON.parse) }
        if names.contains("zarr.json"), let meta = doc("zarr.json"), meta.isObject {
            return zarr3(meta)
        }
        if names.contains(".zarray") || names.contains(".zgroup") {
            return zarr2(isArray: names.contains(".zarray"), array: doc(".zarray"), attributes: doc(".zattrs"))
        }
        if names.contains("attributes.json"), let attrs = doc("attributes.json"), let d = n5(attrs, folders: folders) {
            return d
        }
        if names.contains("info"), let info = doc("info"), let d = precomputed(info) { return d }
        return nil
    }

    /// Adds the first scale's array facts (shape, chunks, data type) to a multiscale image.
    public static func addingScaleFacts(_ dataset: Dataset, document: [UInt8]) -> Dataset {
        guard let meta = JSON.parse(document) else { return dataset }
        var d = dataset
        let facts: [Dataset.Fact]
        switch d.format {
        case .zarr2: facts = zarr2ArrayFacts(meta, names: d.axes)
        case .zarr3: facts = zarr3ArrayFacts(meta, names: d.axes)
        case .n5: facts = n5ArrayFacts(meta)
        case .precomputed: facts = []
        }
        d.facts += facts.map { Dataset.Fact($0.name + " (scale 0)", $0.value) }
        return d
    }

    /// A hint for a child folder from its name alone (no reads): `.zarr`, `.ome.zarr`, `.n5`.
    public static func hint(folderName: String) -> String? {
        let n = folderName.lowercased()
        if n.hasSuffix(".ome.zarr") { return "OME-Zarr" }
        if n.hasSuffix(".zarr") { return "Zarr" }
        if n.hasSuffix(".n5") { return "N5" }
        return nil
    }

    // MARK: Zarr v2

    static func zarr2(isArray: Bool, array: JSON?, attributes: JSON?) -> Dataset {
        if isArray {
            var d = Dataset(format: .zarr2, label: "Zarr v2 array")
            if let array { d.facts = zarr2ArrayFacts(array) }
            return d
        }
        if let attributes, let ome = omeImage(attributes, version: attributes["multiscales"]?.array?.first?["version"]?.string,
                                                zarrFormat: .zarr2) {
            return ome
        }
        var d = Dataset(format: .zarr2, label: "Zarr v2 group")
        d.neuroglancerCanOpen = false
        return d
    }

    static func zarr2ArrayFacts(_ a: JSON, names: [String] = []) -> [Dataset.Fact] {
        var facts: [Dataset.Fact] = []
        if let shape = a["shape"]?.ints { facts.append(.init("Shape", dims(shape, names: names))) }
        if let chunks = a["chunks"]?.ints { facts.append(.init("Chunks", dims(chunks))) }
        if let dtype = a["dtype"]?.string { facts.append(.init("Data type", numpyType(dtype))) }
        if let c = a["compressor"] {
            if let id = c["id"]?.string {
                facts.append(.init("Compressor", id + (c["cname"]?.string.map { " (\($0))" } ?? "")))
            } else if c == .null {
                facts.append(.init("Compressor", "none"))
            }
        }
        return facts
    }

    /// `<u2` → `uint16`, keeping the original when it is not a simple numeric type.
    static func numpyType(_ t: String) -> String {
        guard t.count >= 3, let size = Int(t.dropFirst(2)) else { return t }
        let kind = t.dropFirst().first
        switch kind {
        case "u": return "uint\(size * 8)"
        case "i": return "int\(size * 8)"
        case "f": return "float\(size * 8)"
        case "c": return "complex\(size * 8)"
        case "b": return "bool"
        default: return t
        }
    }

    // MARK: Zarr v3

    static func zarr3(_ meta: JSON) -> Dataset {
        if meta["node_type"]?.string == "array" {
            var d = Dataset(format: .zarr3, label: "Zarr v3 array")
            d.facts = zarr3ArrayFacts(meta)
            return d
        }
        let attrs = meta["attributes"]
        if let ome = attrs?["ome"], let d = omeImage(ome, version: ome["version"]?.string, zarrFormat: .zarr3) {
            return d
        }
        // OME-Zarr before 0.5 never used zarr.json, but tools wrote v3 groups with top-level multiscales.
        if let attrs, let d = omeImage(attrs, version: attrs["multiscales"]?.array?.first?["version"]?.string, zarrFormat: .zarr3) {
            return d
        }
        var d = Dataset(format: .zarr3, label: "Zarr v3 group")
        d.neuroglancerCanOpen = false
        return d
    }

    static func zarr3ArrayFacts(_ a: JSON, names axes: [String] = []) -> [Dataset.Fact] {
        var facts: [Dataset.Fact] = []
        let names = a["dimension_names"]?.array?.map { $0.string ?? "" } ?? axes
        if let shape = a["shape"]?.ints { facts.append(.init("Shape", dims(shape, names: names))) }
        let codecs = a["codecs"]?.array ?? []
        let chunk = a["chunk_grid"]?["configuration"]?["chunk_shape"]?.ints
        if let shard = codecs.first(where: { $0["name"]?.string == "sharding_indexed" }) {
            if let chunk { facts.append(.init("Shards", dims(chunk))) }
            if let inner = shard["configuration"]?["chunk_shape"]?.ints { facts.append(.init("Chunks", dims(inner))) }
        } else if let chunk {
            facts.append(.init("Chunks", dims(chunk)))
        }
        if let t = a["data_type"]?.string { facts.append(.init("Data type", t)) }
        var codecNames: [String] = []
        for c in codecs {
            guard let n = c["name"]?.string else { continue }
            codecNames.append(n)
            if n == "sharding_indexed" {
                codecNames += (c["configuration"]?["codecs"]?.array ?? []).compactMap { $0["name"]?.string }
            }
        }
        if !codecNames.isEmpty { facts.append(.init("Codecs", codecNames.joined(separator: ", "))) }
        return facts
    }

    // MARK: OME-Zarr

    /// An OME-Zarr image (`multiscales`), plate or bioformats2raw collection in `attrs`.
    static func omeImage(_ attrs: JSON, version: String?, zarrFormat: Dataset.Format) -> Dataset? {
        let v = version.map { " " + $0 } ?? ""
        if let plate = attrs["plate"], plate.isObject {
            var d = Dataset(format: zarrFormat, label: "OME-Zarr\(v) plate")
            d.isOME = true
            d.neuroglancerCanOpen = false
            let rows = plate["rows"]?.array?.count ?? 0, columns = plate["columns"]?.array?.count ?? 0
            d.facts.append(.init("Layout", "\(rows) rows × \(columns) columns"))
            if let wells = plate["wells"]?.array { d.facts.append(.init("Wells", String(wells.count))) }
            if let name = plate["name"]?.string { d.facts.append(.init("Name", name)) }
            return d
        }
        guard let ms = attrs["multiscales"]?.array?.first, ms.isObject else {
            if attrs["bioformats2raw.layout"] != nil {
                var d = Dataset(format: zarrFormat, label: "OME-Zarr image collection (bioformats2raw)")
                d.isOME = true
                d.neuroglancerCanOpen = false
                d.facts.append(.init("Images", "in the numbered folders (0/, 1/, …)"))
                return d
            }
            return nil
        }
        var d = Dataset(format: zarrFormat, label: "OME-Zarr\(v) image")
        d.isOME = true
        if let name = ms["name"]?.string, !name.isEmpty { d.facts.append(.init("Name", name)) }
        let datasets = ms["datasets"]?.array ?? []
        let paths = datasets.compactMap { $0["path"]?.string }
        d.facts.append(.init("Scales", "\(datasets.count)" + (paths.isEmpty ? "" : " (" + abbreviated(paths) + ")")))
        let axes: [(name: String, type: String?, unit: String?)] = (ms["axes"]?.array ?? []).map {
            $0.string.map { ($0, nil, nil) } ?? ($0["name"]?.string ?? "?", $0["type"]?.string, $0["unit"]?.string)
        }
        d.axes = axes.map(\.name)
        if !axes.isEmpty { d.facts.append(.init("Axes", axes.map(\.name).joined(separator: ", "))) }
        if let first = datasets.first, let scale = (first["coordinateTransformations"]?.array ?? [])
            .first(where: { $0["type"]?.string == "scale" })?["scale"]?.array?.compactMap(\.number), scale.count == axes.count {
            // Only the spatial axes: a channel or time "scale" of 1 is noise here.
            let spatial = axes.indices.filter { axes[$0].type == "space" || (axes[$0].type == nil && ["x", "y", "z"].contains(axes[$0].name)) }
            let units = Set(spatial.map { axes[$0].unit ?? "" })
            let text = if units.count == 1, let unit = units.first {
                spatial.map { number(scale[$0]) }.joined(separator: " × ") + (unit.isEmpty ? "" : " " + unitSymbol(unit))
            } else {
                spatial.map { number(scale[$0]) + (axes[$0].unit.map { " " + unitSymbol($0) } ?? "") }.joined(separator: " × ")
            }
            if !spatial.isEmpty { d.facts.append(.init(spatial.count == 3 ? "Voxel size" : "Pixel size", text)) }
        }
        if let channels = attrs["omero"]?["channels"]?.array, !channels.isEmpty {
            let labels = channels.map { $0["label"]?.string ?? "?" }
            d.facts.append(.init("Channels", "\(channels.count) (" + abbreviated(labels) + ")"))
        }
        if let path = paths.first, safeRelative(path) {
            switch zarrFormat {
            case .zarr2: d.scaleMetadataKey = path + "/.zarray"
            default: d.scaleMetadataKey = path + "/zarr.json"
            }
        }
        return d
    }

    static func unitSymbol(_ u: String) -> String {
        switch u {
        case "micrometer": return "µm"
        case "nanometer": return "nm"
        case "millimeter": return "mm"
        case "angstrom": return "Å"
        case "second": return "s"
        case "millisecond": return "ms"
        default: return u
        }
    }

    // MARK: N5

    static func n5(_ attrs: JSON, folders: [String]) -> Dataset? {
        if let shape = attrs["dimensions"]?.ints, attrs["dataType"]?.string != nil {
            var d = Dataset(format: .n5, label: "N5 array")
            d.facts = n5ArrayFacts(attrs)
            if shape.isEmpty { d.neuroglancerCanOpen = false }
            return d
        }
        guard attrs["n5"]?.string != nil || attrs["scales"] != nil || attrs["downsamplingFactors"] != nil else { return nil }
        let scaleFolders = folders.filter { $0.count > 1 && $0.first == "s" && $0.dropFirst().allSatisfy(\.isNumber) }
        var d = Dataset(format: .n5, label: scaleFolders.isEmpty ? "N5 group" : "N5 multiscale group")
        if let v = attrs["n5"]?.string { d.facts.append(.init("N5 version", v)) }
        if scaleFolders.isEmpty {
            d.neuroglancerCanOpen = false
        } else {
            let sorted = scaleFolders.sorted { Int($0.dropFirst()) ?? 0 < Int($1.dropFirst()) ?? 0 }
            d.facts.append(.init("Scales", "\(sorted.count) (" + abbreviated(sorted) + ")"))
            if let res = attrs["resolution"]?.array?.compactMap(\.number), !res.isEmpty {
                let unit = attrs["units"]?.array?.first?.string.map { " " + unitSymbol($0) } ?? ""
                d.facts.append(.init("Resolution", res.map(number).joined(separator: " × ") + unit))
            }
            d.scaleMetadataKey = (sorted.first ?? "s0") + "/attributes.json"
        }
        return d
    }

    static func n5ArrayFacts(_ a: JSON) -> [Dataset.Fact] {
        var facts: [Dataset.Fact] = []
        if let shape = a["dimensions"]?.ints { facts.append(.init("Shape", dims(shape) + " (x, y, z… order)")) }
        if let block = a["blockSize"]?.ints { facts.append(.init("Blocks", dims(block))) }
        if let t = a["dataType"]?.string { facts.append(.init("Data type", t)) }
        if let c = a["compression"]?["type"]?.string ?? a["compressionType"]?.string { facts.append(.init("Compression", c)) }
        return facts
    }

    // MARK: Neuroglancer precomputed

    static func precomputed(_ info: JSON) -> Dataset? {
        let typed = info["@type"]?.string == "neuroglancer_multiscale_volume"
        guard let scales = info["scales"]?.array, typed || (!scales.isEmpty && info["data_type"] != nil) else { return nil }
        var d = Dataset(format: .precomputed, label: "Neuroglancer precomputed volume")
        let type = info["type"]?.string ?? "image"
        d.layerType = type == "segmentation" ? "segmentation" : "image"
        d.facts.append(.init("Type", type))
        if let t = info["data_type"]?.string { d.facts.append(.init("Data type", t)) }
        if let c = info["num_channels"]?.int { d.facts.append(.init("Channels", String(c))) }
        d.facts.append(.init("Scales", String(scales.count)))
        if let s0 = scales.first {
            if let size = s0["size"]?.ints { d.facts.append(.init("Size (scale 0)", dims(size))) }
            if let res = s0["resolution"]?.array?.compactMap(\.number) {
                d.facts.append(.init("Resolution (scale 0)", res.map(number).joined(separator: " × ") + " nm"))
            }
            if let chunk = s0["chunk_sizes"]?.array?.first?.ints { d.facts.append(.init("Chunks", dims(chunk))) }
            if let e = s0["encoding"]?.string { d.facts.append(.init("Encoding", e)) }
        }
        var extras: [String] = []
        if info["mesh"]?.string != nil { extras.append("meshes") }
        if info["skeletons"]?.string != nil { extras.append("skeletons") }
        if !extras.isEmpty { d.facts.append(.init("Also", extras.joined(separator: ", "))) }
        return d
    }

    // MARK: Formatting helpers

    static func dims(_ v: [Int], names: [String]? = nil) -> String {
        let text = v.map(String.init).joined(separator: " × ")
        guard let names, names.count == v.count, names.contains(where: { !$0.isEmpty }) else { return text }
        return text + " (" + names.joined(separator: ", ") + ")"
    }

    /// A number without a pointless `.0`.
    static func number(_ d: Double) -> String {
        if d.rounded() == d, abs(d) < 1e15 { return String(Int(d)) }
        return String(d)
    }

    /// At most five items, then `…`.
    static func abbreviated(_ items: [String]) -> String {
        items.count <= 5 ? items.joined(separator: ", ") : items.prefix(4).joined(separator: ", ") + ", …, " + items[items.count - 1]
    }

    /// A relative path inside the folder: no `..`, no leading `/`, short.
    static func safeRelative(_ p: String) -> Bool {
        !p.isEmpty && p.utf8.count <= 256 && !p.hasPrefix("/")
            && !p.split(separator: "/", omittingEmptySubsequences: false).contains { $0 == ".." || $0 == "." || $0.isEmpty }
    }
}
