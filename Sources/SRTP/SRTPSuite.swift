internal import CSRTP
internal import CSRTPShims

/// The SRTP crypto suites Outpost negotiates with SDES (RFC 4568, RFC 7714), named as in SDP.
public enum SRTPSuite: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case aesCM128HMACSHA1_80 = "AES_CM_128_HMAC_SHA1_80"
    case aesCM128HMACSHA1_32 = "AES_CM_128_HMAC_SHA1_32"
    case aeadAES128GCM = "AEAD_AES_128_GCM"
    case aeadAES256GCM = "AEAD_AES_256_GCM"

    /// The suite named by an SDP `a=crypto` line, if Outpost supports it.
    public init?(sdpName: String) {
        self.init(rawValue: sdpName)
    }

    /// The name used in SDP `a=crypto` lines.
    public var sdpName: String { rawValue }

    public var description: String { rawValue }

    /// Length in bytes of the concatenated master key and master salt, as libsrtp expects it.
    public var keyAndSaltLength: Int {
        switch self {
        case .aesCM128HMACSHA1_80, .aesCM128HMACSHA1_32: Int(outpost_srtp_aes_icm_128_key_salt_length())
        case .aeadAES128GCM: Int(outpost_srtp_aes_gcm_128_key_salt_length())
        case .aeadAES256GCM: Int(outpost_srtp_aes_gcm_256_key_salt_length())
        }
    }

    /// Length in bytes of the master key alone.
    public var keyLength: Int {
        switch self {
        case .aesCM128HMACSHA1_80, .aesCM128HMACSHA1_32, .aeadAES128GCM: 16
        case .aeadAES256GCM: 32
        }
    }

    /// Length in bytes of the master salt alone.
    public var saltLength: Int { keyAndSaltLength - keyLength }

    /// Bytes SRTP adds to an RTP packet (the authentication tag).
    public var rtpTagLength: Int {
        switch self {
        case .aesCM128HMACSHA1_80: 10
        case .aesCM128HMACSHA1_32: 4
        case .aeadAES128GCM, .aeadAES256GCM: 16
        }
    }

    /// Bytes SRTP adds to an RTCP packet after the 4-byte E flag and SRTCP index (the
    /// authentication tag): 80 bits for both AES_CM suites (RFC 4568 §6.2.1), 16 bytes for GCM.
    public var rtcpTagLength: Int {
        switch self {
        case .aesCM128HMACSHA1_80, .aesCM128HMACSHA1_32: 10
        case .aeadAES128GCM, .aeadAES256GCM: 16
        }
    }

    /// Fills libsrtp's RTP and RTCP crypto policies. RTCP always uses the 80-bit tag with
    /// AES_CM_128_HMAC_SHA1_32: RFC 4568 §6.2.1 applies the 32-bit tag to SRTP only.
    /// (`srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80` is a function-like macro for
    /// `srtp_crypto_policy_set_rtp_default`, which is called directly.)
    func apply(to policy: inout srtp_policy_t) {
        switch self {
        case .aesCM128HMACSHA1_80:
            srtp_crypto_policy_set_rtp_default(&policy.rtp)
            srtp_crypto_policy_set_rtp_default(&policy.rtcp)
        case .aesCM128HMACSHA1_32:
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp)
            srtp_crypto_policy_set_rtp_default(&policy.rtcp)
        case .aeadAES128GCM:
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp)
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp)
        case .aeadAES256GCM:
            srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtp)
            srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtcp)
        }
    }
}
