import Testing
@testable import X2S3Core

/// What the worker's request log keeps of a URI: everything but presigned signatures and
/// capability tokens.
@Suite struct LoggedURITests {
    @Test(arguments: [
        ("/lab/a.txt", "/lab/a.txt"),
        ("/lab/a.txt?list-type=2&prefix=x", "/lab/a.txt?list-type=2&prefix=x"),
        ("/lab/a.txt?X-Amz-Date=1&X-Amz-Signature=abc123&X-Amz-SignedHeaders=host",
         "/lab/a.txt?X-Amz-Date=1&X-Amz-Signature=REDACTED&X-Amz-SignedHeaders=host"),
        ("/lab/a.txt?X-Amz-Signature=abc", "/lab/a.txt?X-Amz-Signature=REDACTED"),
        ("/lab/a.txt?X-Amz-Signature=a&X-Amz-Signature=b", "/lab/a.txt?X-Amz-Signature=REDACTED&X-Amz-Signature=REDACTED"),
        ("/lab/a.txt?X-Amz-Signature=&x=1", "/lab/a.txt?X-Amz-Signature=&x=1"),
        ("/lab/a.txt?X-Amz-SignatureX=abc", "/lab/a.txt?X-Amz-SignatureX=abc"),
        ("/lab/X-Amz-Signature=abc", "/lab/X-Amz-Signature=abc"),
        ("/_x2s3/c/AQAAAA-tok_en/lab/ds/0.0", "/_x2s3/c/REDACTED/lab/ds/0.0"),
        ("/_x2s3/c/tok?list-type=2&X-Amz-Signature=s", "/_x2s3/c/REDACTED?list-type=2&X-Amz-Signature=REDACTED"),
        ("/_x2s3/c/", "/_x2s3/c/"),
        ("/_x2s3/c//lab", "/_x2s3/c//lab"),
        ("/x2s3/_x2s3/c/tok/lab/x?X-Amz-Signature=s", "/x2s3/_x2s3/c/REDACTED/lab/x?X-Amz-Signature=REDACTED"),
        ("/a/_x2s3/c/t1/b/_x2s3/c/t2", "/a/_x2s3/c/REDACTED/b/_x2s3/c/t2"),
        ("/lab/x?p=/_x2s3/c/tok", "/lab/x?p=/_x2s3/c/tok"),
        ("/_x2s3/c", "/_x2s3/c"),
        ("/_x2s3/metrics", "/_x2s3/metrics"),
        ("", ""),
    ])
    func redactsBearerSecretsOnly(uri: String, logged: String) {
        #expect(LoggedURI.of(uri) == logged)
    }
}
