import Glibc
import Posix
import Testing
@testable import X2S3Core

/// ConfigFiles' answers, read through Posix: a pipe reads like a file, failures keep their sentences.
@Suite struct ConfigFilesTests {
    @Test func configFileIsReadFromAPipeAsFromAFile() throws {
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        let text = "targets: {}\n"
        #expect(text.utf8.withContiguousStorageIfAvailable { write(ends[1], $0.baseAddress, $0.count) } == text.utf8.count)
        close(ends[1])
        defer { close(ends[0]) }
        guard case .success(let read) = ConfigFiles.read("/dev/fd/\(ends[0])") else {
            Issue.record("reading the pipe failed")
            return
        }
        #expect(read == text)
    }

    @Test func configFileFailuresKeepTheirSentences() {
        let tree = TempTree().dir("d").file("f", size: 3)
        guard case .failure(.missing) = ConfigFiles.read(tree.path + "/none") else {
            Issue.record("a missing file is .missing")
            return
        }
        guard case .failure(.other(let why)) = ConfigFiles.read(tree.path + "/d") else {
            Issue.record("a directory is not a config file")
            return
        }
        #expect(why == "Is a directory")
        #expect(ConfigFiles.directory(tree.path + "/none").failureMessage == "directory \(tree.path)/none does not exist")
        #expect(ConfigFiles.directory(tree.path + "/f").failureMessage == "\(tree.path)/f is not a directory")
        #expect(ConfigFiles.readableFile(tree.path + "/d").failureMessage == "\(tree.path)/d is not a regular file")
        #expect(ConfigFiles.readableFile(tree.path + "/none").failureMessage == "file \(tree.path)/none does not exist")
        #expect(ConfigFiles.readableFile(tree.path + "/f").failureMessage == nil)
        #expect(ConfigFiles.absolute("x/y").hasSuffix("/x/y"))
        #expect(ConfigFiles.absolute("x/y").hasPrefix("/"))
    }
}

private extension Result where Failure == ConfigFailure {
    var failureMessage: String? {
        if case .failure(let f) = self { return f.message }
        return nil
    }
}
