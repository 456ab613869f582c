import Glibc
import Posix
import Testing
@testable import X2S3Core

/// The one syscall layer: EINTR retried in `valueOrErrno` and nowhere else, errors as `Errno`.
@Suite struct SyscallTests {
    @Test func interruptedCallIsRetriedUntilItAnswers() throws {
        var calls = 0
        let result = try valueOrErrno { () -> Int32 in
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 7
        }
        #expect(result == 7)
        #expect(calls == 3)
    }

    @Test func interruptedCallIsReportedWhenTheCallerWaitsForSignals() {
        var calls = 0
        #expect(throws: Errno.interrupted) {
            try valueOrErrno(retryOnInterrupt: false) { () -> Int in
                calls += 1
                errno = EINTR
                return -1
            }
        }
        #expect(calls == 1)
    }

    @Test func otherErrorsAreThrownOnceWithTheirText() {
        var calls = 0
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try valueOrErrno { () -> Int32 in
                calls += 1
                errno = ENOENT
                return -1
            }
        }
        #expect(calls == 1)
        #expect(Errno.noSuchFileOrDirectory.description == "No such file or directory")
        #expect(Errno(rawValue: 99999).description.contains("99999"))
    }

    @Test func negativeResultsOtherThanMinusOneAreValues() throws {
        #expect(try valueOrErrno { () -> Int32 in -2 } == -2)
    }
}
