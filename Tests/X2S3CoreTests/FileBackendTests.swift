import Glibc
@testable import S3Protocol
@testable import Storage
import Testing
@testable import X2S3Core

/// Writes `content` to `rel` under the tree, creating parent directories.
private func write(_ tree: TempTree, _ rel: String, _ content: String) {
    let full = tree.path + "/" + rel
    _ = system("mkdir -p '\(full[..<full.lastIndex(of: "/")!])'")
    let f = fopen(full, "w")!
    fputs(content, f)
    fclose(f)
}

@Suite struct FileBackendTests {
    let tree = TempTree()
    var backend: FileBackend {
        try! FileBackend(bucket: "b", options: FileOptions(path: tree.path))
    }

    init() {
        write(tree, "a.txt", "hello")
        write(tree, "dir/x.txt", "inner")
        write(tree, "odd/q#?&<b> + =@'%.txt", "odd")
        write(tree, "uni/ünï☃.txt", "u")
        _ = tree.symlink("inside-link.txt", to: "a.txt")
        _ = tree.symlink("outside-link", to: "/etc/hostname")
        _ = tree.symlink("abs-inside", to: tree.path + "/a.txt")
        _ = tree.symlink("broken", to: "nowhere")
        _ = tree.symlink("dir/up.txt", to: "../a.txt")
        _ = tree.symlink("dir/escape.txt", to: "../../../../../../etc/hostname")
    }

    @Test func servesRegularFilesWithSizeAndCheapETag() throws {
        let info = try backend.head("a.txt")
        #expect(info.size == 5)
        #expect(info.etag?.hasPrefix("\"") == true && info.etag?.contains("-") == true)
    }

    @Test(arguments: ["odd/q#?&<b> + =@'%.txt", "uni/ünï☃.txt", "inside-link.txt", "dir/up.txt"])
    func servesHostileNamesAndInsideSymlinks(key: String) throws {
        #expect(try backend.head(key).size > 0)
    }

    @Test(arguments: ["dir", "dir/", "", "/a.txt", "dir//x.txt", "./a.txt", "dir/../a.txt", "..", "../etc/passwd",
                      "outside-link", "abs-inside", "broken", "dir/escape.txt", "missing", "a.txt/", "a.txt/x", "a.txt\u{0}x"])
    func keysThatNameNoFileInsideTheRootAreNoSuchKey(key: String) {
        #expect(throws: S3Error.noSuchKey(key: key)) { try backend.head(key) }
    }

    @Test func streamsExactRanges() throws {
        let body = try backend.open("a.txt", range: nil)
        var sink = ResponseWriter(sink: RecordingSink()).writeHead(ResponseHead(status: 200))
        try body.stream(1..<4, into: &sink)
        #expect(String(decoding: sink.finish().parsed.body, as: UTF8.self) == "ell")
    }

    @Test func contentETagIsTheRealMD5() throws {
        var o = FileOptions(path: tree.path)
        o.calculateETags = true
        let b = try FileBackend(bucket: "b", options: o)
        #expect(try b.head("a.txt").etag == "\"5d41402abc4b2a76b9719d911017c592\"")
    }
}

@Suite struct MD5Tests {
    @Test(arguments: [("", "d41d8cd98f00b204e9800998ecf8427e"), ("abc", "900150983cd24fb0d6963f7d28e17f72"),
                      ("The quick brown fox jumps over the lazy dog", "9e107d9d372bb6826bd81d3542a419d6"),
                      (String(repeating: "1234567890", count: 8), "57edf4a22be3c955ac49da2e2107b67a")])
    func matchesRFC1321Vectors(input: String, hex: String) {
        var m = MD5()
        m.update(Array(input.utf8))
        #expect(MD5.hex(m.finalize()) == hex)
    }
}
