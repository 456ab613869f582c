public import Auth
import Storage

/// `credentials: [{access_key, secret_key_path, buckets}]`: the access keys private targets
/// accept. Secrets are read here, at start and on every reload (SIGHUP), so a rotated secret
/// file takes effect with a reload; an error names the key path and the file, never the secret.
extension RawSettings {
    static let credentialKeys = ["access_key", "secret_key_path", "buckets"]

    static func credentials(_ v: ConfigValue, targets: [Target]) throws(ConfigError) -> [Credential] {
        var result: [Credential] = []
        var seen: [String: ConfigValue] = [:]
        for item in try v.items() {
            let fields = try item.fields(allowing: credentialKeys)
            guard let ak = fields["access_key"], !ak.isNull else { throw item.error("missing required key access_key") }
            let accessKey = try ak.nonEmptyString()
            // The key id is the first field of a SigV4 credential scope (`AK/day/region/s3/…`).
            guard accessKey.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: ",") }) else {
                throw ak.error("must be printable ASCII without spaces, \"/\" or \",\"")
            }
            if let first = seen[accessKey] {
                throw ak.error("access key \(accessKey) is listed twice (first at \(first.path))")
            }
            seen[accessKey] = ak
            guard let path = fields["secret_key_path"], !path.isNull else { throw item.error("missing required key secret_key_path") }
            let secretPath = try path.nonEmptyString()
            let secret: String
            switch ConfigFiles.read(secretPath) {
            case .success(let text): secret = text.trimmingCharacters(whereSpace: true)
            case .failure(.missing): throw path.error("file \(secretPath) does not exist")
            case .failure(.other(let why)): throw path.error("cannot read file \(secretPath): \(why)")
            }
            guard !secret.isEmpty else { throw path.error("file \(secretPath) is empty") }
            guard let bucketsValue = fields["buckets"], !bucketsValue.isNull else {
                throw item.error("missing required key buckets (a list of target names, or [\"*\"] for all)")
            }
            var buckets: Set<String>? = []
            for b in try bucketsValue.items() {
                let name = try b.nonEmptyString()
                if name == "*" { buckets = nil; continue }
                guard targets.contains(where: { $0.name.lowercased() == name.lowercased() }) else {
                    throw b.error("no target is named \(b.quoted)")
                }
                buckets?.insert(name.lowercased())
            }
            result.append(Credential(accessKey: accessKey, secretKey: secret, secretKeyPath: secretPath, buckets: buckets))
        }
        return result
    }
}

extension String {
    /// Without leading and trailing whitespace (a secret file usually ends with a newline).
    func trimmingCharacters(whereSpace: Bool) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        var s = Substring(self)
        while let c = s.first, isSpace(c) { s = s.dropFirst() }
        while let c = s.last, isSpace(c) { s = s.dropLast() }
        return String(s)
    }
}

extension Config {
    /// The credential with this access key id (ids are case-sensitive, as AWS's are).
    public func credential(accessKey: String) -> Credential? {
        credentials.first { $0.accessKey == accessKey }
    }
}
