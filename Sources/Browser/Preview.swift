import S3Protocol

/// What a preview page (`<object URL>?preview`) shows for an object, decided from its name
/// (and, for names that say nothing, its stored type or its first bytes). Pure.
public enum Preview {
    /// How an object is shown.
    public enum Kind: Sendable, Equatable {
        case text, json, markdown, image
        /// A table; `separator` is `,` (RFC 4180 quoting) or a tab (no quoting).
        case table(separator: UInt8)
        /// Known not to be previewable (HDF5, TIFF, chunks, archives): facts and links only.
        case binary
        /// The name says nothing: text if the bytes are UTF-8 text, else binary.
        case sniff

        /// Whether the page needs the object's bytes (images are shown from the raw URL).
        package var readsContent: Bool {
            switch self {
            case .text, .json, .markdown, .table, .sniff: return true
            case .image, .binary: return false
            }
        }
    }

    /// Text is shown up to this size; larger objects get a page with the links only.
    public static let textLimit: UInt64 = 1 << 20
    /// Images are shown up to this size (the browser loads them from the raw URL).
    public static let imageLimit: UInt64 = 64 << 20
    /// Rows of a CSV/TSV table shown at most.
    public static let maxTableRows = 500

    /// Names without an extension that are text by convention.
    static let textNames: Set<String> = ["readme", "license", "licence", "copying", "notice", "authors", "changelog",
                                         "changes", "makefile", "dockerfile", "version", "citation"]
    static let imageTypes: Set<String> = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif",
                                          "image/bmp", "image/vnd.microsoft.icon", "image/svg+xml"]

    /// The kind for an object's last key segment, and its stored Content-Type (S3 targets).
    public static func kind(name: Substring, storedType: String? = nil) -> Kind {
        let lower = name.lowercased()
        if lower == "info" { return .json }  // Neuroglancer precomputed metadata
        if CachePolicy.isChunkName(name) { return .binary }
        let type = MediaType.forName(name)
        if type == MediaType.fallback {
            let stem = lower.split(separator: ".", maxSplits: 1).first.map(String.init) ?? lower
            if textNames.contains(stem) { return lower.hasSuffix(".md") ? .markdown : .text }
            if let storedType, storedType != MediaType.fallback { return kind(type: storedType) }
            return .sniff
        }
        return kind(type: type)
    }

    /// The kind for a media type (parameters ignored).
    static func kind(type: String) -> Kind {
        let t = type.split(separator: ";").first.map { String($0).trimmingSpaces.lowercased() } ?? ""
        if imageTypes.contains(t) { return .image }
        if t == "text/markdown" { return .markdown }
        if t == "text/csv" { return .table(separator: UInt8(ascii: ",")) }
        if t == "text/tab-separated-values" { return .table(separator: UInt8(ascii: "\t")) }
        if t == "application/json" || t.hasSuffix("+json") { return .json }
        if t.hasPrefix("text/") || t == "application/xml" || t == "application/toml" || t == "application/x-sh"
            || t.hasSuffix("+xml") || t == "application/yaml" { return .text }
        return .binary
    }

    /// Whether a folder page links a name to its preview (names whose page shows the content).
    public static func linksToPreview(name: Substring) -> Bool {
        switch kind(name: name) {
        case .text, .json, .markdown, .image, .table: return true
        case .binary, .sniff: return false
        }
    }

    /// Whether bytes look like text: valid UTF-8 without NUL or other C0 controls but tab, LF,
    /// CR and form feed.
    static func looksLikeText(_ b: [UInt8]) -> Bool {
        for c in b where c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D && c != 0x0C { return false }
        return String(validating: b, as: UTF8.self) != nil
    }

    /// What the page body shows.
    public enum Body: Sendable, Equatable {
        case text(String)
        /// Pretty-printed JSON, already HTML (escaped, with token classes).
        case json(String)
        /// The document did not parse as JSON: shown as text with a note.
        case invalidJSON(String)
        /// Rendered Markdown, already HTML (escaped; a safe subset).
        case markdown(String)
        case table(rows: [[String]], totalRows: Int)
        case image
        case empty
        case tooLarge(limit: UInt64)
        case binary(type: String)
    }

    /// The body for an object of `size` whose first bytes (all of them when it is within the
    /// limit) are `bytes`; `type` is the Content-Type a GET would send.
    public static func body(kind: Kind, size: UInt64, bytes: [UInt8]?, type: String) -> Body {
        if case .binary = kind { return .binary(type: type) }
        if case .image = kind { return size <= imageLimit ? .image : .tooLarge(limit: imageLimit) }
        guard size > 0 else { return .empty }
        guard size <= textLimit, let bytes, UInt64(bytes.count) == size else { return .tooLarge(limit: textLimit) }
        let text = { String(decoding: bytes, as: UTF8.self) }
        switch kind {
        case .json:
            return JSONPretty.html(bytes).map(Body.json) ?? .invalidJSON(text())
        case .markdown:
            return .markdown(Markdown.html(text()))
        case .table(let separator):
            let t = DelimitedText.rows(bytes, separator: separator, maxRows: maxTableRows)
            return .table(rows: t.rows, totalRows: t.total)
        case .text:
            return .text(text())
        case .sniff:
            guard looksLikeText(bytes) else { return .binary(type: type) }
            if let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
               first == UInt8(ascii: "{") || first == UInt8(ascii: "["), let json = JSONPretty.html(bytes) {
                return .json(json)
            }
            return .text(text())
        case .binary, .image:
            return .binary(type: type)  // handled above
        }
    }
}
