/// How the digest hashes (RFC 7616) and the registrar's nonce HMAC are computed.
///
/// This target stays free of C, so it only declares the operations; `PKI` implements them with
/// OpenSSL's EVP (`OpenSSLDigests.hashing(fipsMode:)`), the one crypto provider of the process,
/// so `sip.tls.fips_mode` governs digest authentication as it governs TLS and certificates.
///
/// A provider may refuse an algorithm (MD5 in FIPS mode): its function throws, and the callers
/// here turn that into a thrown `DigestHashingError` or a failed verification, never a crash.
public struct DigestHashing: Sendable {
    /// The digest of the bytes, or the reason the provider refuses to compute it.
    public typealias Hash = @Sendable (UnsafeRawBufferPointer) throws(DigestHashingError) -> [UInt8]
    /// HMAC of `message` under `key`.
    public typealias MAC = @Sendable (_ key: UnsafeRawBufferPointer, _ message: UnsafeRawBufferPointer) throws(DigestHashingError) -> [UInt8]

    /// A short name for logs and errors, e.g. `OpenSSL (FIPS mode)`.
    public let provider: String
    public let md5: Hash
    public let sha256: Hash
    public let hmacSHA256: MAC

    public init(provider: String, md5: @escaping Hash, sha256: @escaping Hash, hmacSHA256: @escaping MAC) {
        self.provider = provider
        self.md5 = md5
        self.sha256 = sha256
        self.hmacSHA256 = hmacSHA256
    }

    /// The digest of `bytes` under `algorithm`.
    public func hash(_ algorithm: SIPDigestAlgorithm, _ bytes: UnsafeRawBufferPointer) throws(DigestHashingError) -> [UInt8] {
        switch algorithm {
        case .md5: try md5(bytes)
        case .sha256: try sha256(bytes)
        }
    }

    /// HMAC-SHA-256 (RFC 2104) of `message` under `key`.
    public func hmacSHA256(key: [UInt8], message: [UInt8]) throws(DigestHashingError) -> [UInt8] {
        let result = key.withUnsafeBytes { key in
            message.withUnsafeBytes { message in
                Result { () throws(DigestHashingError) in try hmacSHA256(key, message) }
            }
        }
        return try result.get()
    }
}

/// A hash or MAC the provider could not or would not compute.
public struct DigestHashingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The algorithm's name as RFC 7616 or the provider spells it (`MD5`, `SHA-256`, `HMAC-SHA-256`).
    public var algorithm: String
    public var reason: String

    public init(algorithm: String, reason: String) {
        self.algorithm = algorithm
        self.reason = reason
    }

    public var description: String { "\(algorithm): \(reason)" }
}
