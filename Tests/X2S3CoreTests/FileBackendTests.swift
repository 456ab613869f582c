import Testing
import Glibc
@testable import X2S3Core

/// A scratch directory tree, removed when the test ends.
final class TempTree {
    let path: String
    init() {
        var template = Array("/tmp/x2s3-test-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }
    deinit { _ = system("rm -rf '\(path)'") }

    func file(_ rel: String, _ content: String = "x") {
        let full = path + "/" + rel
        let dir = String(full[..<full.lastIndex(of: "/")!])
        _ = system("mkdir -p '\(dir)'")
        let f = fopen(full, "w")!
        fputs(content, f)
        fclose(f)
    }
    func dir(_ rel: String) { _ = system("mkdir -p '\(path)/\(rel)'") }
    func symlink(_ rel: String, to target: String) { _ = Glibc.symlink(target, path + "/" + rel) }
}

@Suite struct FileBackendTests {
    let tree = TempTree()
    var backend: FileBackend {
        try! FileBackend(bucket: "b", options: FileOptions(path: tree.path))
    }

    init() {
        tree.file("a.txt", "hello")
        tree.file("dir/x.txt", "inner")
        tree.file("odd/q#?&<b> + =@'%.txt", "odd")
        tree.file("uni/ünï☃.txt", "u")
        tree.symlink("inside-link.txt", to: "a.txt")
        tree.symlink("outside-link", to: "/etc/hostname")
        tree.symlink("abs-inside", to: tree.path + "/a.txt")
        tree.symlink("broken", to: "nowhere")
        tree.symlink("dir/up.txt", to: "../a.txt")
        tree.symlink("dir/escape.txt", to: "../../../../../../etc/hostname")
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
                      "outside-link", "abs-inside", "broken", "dir/escape.txt", "missing", "a.txt/", "a.txt/x"])
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
