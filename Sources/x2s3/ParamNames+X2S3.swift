import FastCGI
import X2S3Core

extension ParamNames {
    /// The params x2s3 reads. Built once per process; the worker copies only these.
    static let x2s3 = ParamNames(Dispatcher.paramNames)
}
