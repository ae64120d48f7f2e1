internal import COpenSSL
import SIP

/// SIP digest authentication (RFC 7616 MD5 and SHA-256) and the registrar's nonce HMAC over
/// OpenSSL's EVP, so they go through the same provider as every other cryptographic operation.
public enum OpenSSLDigests {
    /// The `DigestHashing` of the process. With `fipsMode` MD5 is refused (the hash throws and
    /// verification fails) and SHA-256 and HMAC are fetched with the `fips=yes` property query.
    ///
    /// Without an installed FIPS provider module (Debian 12 ships none: `openssl list -providers`
    /// shows only `default`) every `fips=yes` fetch fails, so SHA-256 and HMAC then come from the
    /// default provider and MD5 is refused here, explicitly, whatever the provider would allow:
    /// FIPS mode is then a policy, as it is for TLS (`TLSContext`) and certificates
    /// (`CertificatePolicy`).
    public static func hashing(fipsMode: Bool) -> DigestHashing {
        fipsMode ? fips : standard
    }

    /// Whether OpenSSL could load a FIPS provider's SHA-256 (`fips=yes`).
    public static var fipsProviderAvailable: Bool { fipsSHA256 != nil }

    /// HMAC-SHA-256 (RFC 2104) of `message` under `key` with OpenSSL's `EVP_Q_mac`.
    public static func hmacSHA256(key: [UInt8], message: [UInt8], fipsMode: Bool = false) throws(DigestHashingError) -> [UInt8] {
        try hashing(fipsMode: fipsMode).hmacSHA256(key: key, message: message)
    }

    private static let standard: DigestHashing = {
        let md5 = FetchedDigest(name: "MD5", properties: nil)
        let sha256 = FetchedDigest(name: "SHA256", properties: nil)
        return DigestHashing(
            provider: "OpenSSL",
            md5: { bytes throws(DigestHashingError) in try digest(bytes, with: md5, algorithm: "MD5") },
            sha256: { bytes throws(DigestHashingError) in try digest(bytes, with: sha256, algorithm: "SHA-256") },
            hmacSHA256: { key, message throws(DigestHashingError) in try mac(key, message, properties: nil) })
    }()

    private static let fipsSHA256 = FetchedDigest(name: "SHA256", properties: "fips=yes")

    private static let fips: DigestHashing = {
        // No FIPS provider module: the default provider's SHA-256 (see `hashing(fipsMode:)`).
        let sha256 = fipsSHA256 ?? FetchedDigest(name: "SHA256", properties: nil)
        let properties = fipsSHA256 == nil ? nil : "fips=yes"
        return DigestHashing(
            provider: fipsSHA256 == nil ? "OpenSSL (FIPS mode, default provider)" : "OpenSSL (FIPS provider)",
            md5: { _ throws(DigestHashingError) in
                throw DigestHashingError(algorithm: "MD5", reason: "MD5 is not allowed in FIPS mode")
            },
            sha256: { bytes throws(DigestHashingError) in try digest(bytes, with: sha256, algorithm: "SHA-256") },
            hmacSHA256: { key, message throws(DigestHashingError) in try mac(key, message, properties: properties) })
    }()

    private static func digest(_ bytes: UnsafeRawBufferPointer, with md: FetchedDigest?, algorithm: String) throws(DigestHashingError) -> [UInt8] {
        guard let md else {
            throw DigestHashingError(algorithm: algorithm, reason: "OpenSSL has no \(algorithm) implementation (EVP_MD_fetch failed)")
        }
        OpenSSLErrorQueue.clear()
        var ok: Int32 = 0
        let output = [UInt8](unsafeUninitializedCapacity: Int(EVP_MAX_MD_SIZE)) { buffer, count in
            var length: UInt32 = 0
            ok = EVP_Digest(bytes.baseAddress, bytes.count, buffer.baseAddress, &length, md.pointer, nil)
            count = ok == 1 ? Int(length) : 0
        }
        guard ok == 1 else { throw failure(algorithm, operation: "EVP_Digest") }
        return output
    }

    private static func mac(_ key: UnsafeRawBufferPointer, _ message: UnsafeRawBufferPointer, properties: String?) throws(DigestHashingError) -> [UInt8] {
        OpenSSLErrorQueue.clear()
        var ok = false
        // EVP_Q_mac refuses a NULL key, and an empty buffer may have no address; an empty key is
        // a valid HMAC key (RFC 2104), so it is passed as a zero-length key at a real address.
        var placeholder: UInt8 = 0
        let output = withUnsafeBytes(of: &placeholder) { placeholder in
            [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
                var length = 0
                let result = EVP_Q_mac(
                    nil, "HMAC", properties, "SHA256", nil, key.baseAddress ?? placeholder.baseAddress, key.count,
                    message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count, buffer.baseAddress, buffer.count, &length)
                ok = result != nil && length == 32
                count = ok ? length : 0
            }
        }
        guard ok else { throw failure("HMAC-SHA-256", operation: "EVP_Q_mac") }
        return output
    }

    private static func failure(_ algorithm: String, operation: String) -> DigestHashingError {
        let reasons = OpenSSLErrorQueue.drain()
        return DigestHashingError(
            algorithm: algorithm, reason: "\(operation) failed: " + (reasons.isEmpty ? "no OpenSSL error reported" : reasons.joined(separator: "; ")))
    }
}

/// An `EVP_MD` fetched once and freed with its owner. A fetched `EVP_MD` is immutable and OpenSSL
/// documents it as safe to share between threads, hence `@unchecked Sendable`.
private final class FetchedDigest: @unchecked Sendable {
    let pointer: OpaquePointer

    init?(name: String, properties: String?) {
        guard let pointer = EVP_MD_fetch(nil, name, properties) else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        self.pointer = pointer
    }

    deinit { EVP_MD_free(pointer) }
}
