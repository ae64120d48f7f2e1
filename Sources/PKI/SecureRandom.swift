internal import COpenSSL

/// Key material from OpenSSL's DRBG (`RAND_bytes`), the generator the edge's keys and
/// certificates already come from, so SRTP master keys meet the same standard (and FIPS mode).
public enum SecureRandom {
    /// `count` fresh random bytes.
    public static func bytes(_ count: Int) throws(PKIError) -> [UInt8] {
        guard count >= 0, count <= Int(Int32.max) else {
            throw .refused(.invalidInput, operation: "RAND_bytes", reason: "cannot draw \(count) random bytes")
        }
        var bytes = [UInt8](repeating: 0, count: count)
        let status = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard status == 1 else { throw .drainingOpenSSLQueue(.keyGenerationFailed, operation: "RAND_bytes") }
        return bytes
    }
}
