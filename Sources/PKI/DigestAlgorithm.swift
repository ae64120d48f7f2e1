internal import COpenSSL

/// The message digest of a signature.
///
/// SHA-1 is offered only for verifying and for legacy trust-list formats; `CertificatePolicy`
/// refuses it in FIPS mode, and nothing in this target picks it by default.
public enum DigestAlgorithm: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case sha1 = "SHA1"
    case sha256 = "SHA256"
    case sha384 = "SHA384"
    case sha512 = "SHA512"

    /// OpenSSL's name (`SHA256`).
    public var description: String { rawValue }

    /// The digest length in bytes.
    public var length: Int {
        switch self {
        case .sha1: 20
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }

    /// `const EVP_MD *` (static, never freed).
    var evpMD: OpaquePointer {
        switch self {
        case .sha1: EVP_sha1()
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        }
    }

    /// The digest of `bytes`.
    public func hash(_ bytes: some Collection<UInt8>) throws(PKIError) -> [UInt8] {
        OpenSSLErrorQueue.clear()
        let input = Array(bytes)
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = input.withUnsafeBytes { raw in
            EVP_Digest(raw.baseAddress, raw.count, &output, &length, evpMD, nil)
        }
        guard ok == 1 else { throw .drainingOpenSSLQueue(.signingFailed, operation: "EVP_Digest(\(self))") }
        return Array(output.prefix(Int(length)))
    }
}
