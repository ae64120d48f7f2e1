internal import CSRTP

/// An SRTP failure: either refused by this wrapper before libsrtp was called, or libsrtp's
/// `srtp_err_status_t` mapped to a named case. `description` names libsrtp's status constant.
public enum SRTPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The master key||salt does not have the suite's length (checked before libsrtp is called).
    case badKeyLength(suite: SRTPSuite, expected: Int, actual: Int)
    /// The packet is shorter than a fixed RTP (12) or RTCP (8) header, or, to unprotect, than that
    /// header with the SRTCP index and the suite's tag (checked before libsrtp).
    case packetTooShort(length: Int, minimum: Int)
    /// The packet is too large to pass to libsrtp (its length is a C `int`).
    case packetTooLarge(length: Int)
    /// The buffer has no room for what libsrtp may append (checked before libsrtp).
    case bufferTooSmall(needed: Int, available: Int)
    /// `protect` on an inbound session or `unprotect` on an outbound one.
    case wrongDirection(SRTPSession.Direction)
    /// No stream exists for this SSRC yet (ROC get/set before any packet or specific policy).
    case unknownSSRC(UInt32)
    /// `srtp_err_status_auth_fail`: the authentication tag did not verify.
    case authenticationFailed
    /// `srtp_err_status_replay_fail`: this packet index was already received.
    case replayed
    /// `srtp_err_status_replay_old`: the packet index is older than the replay window.
    case replayTooOld
    /// `srtp_err_status_no_ctx`: the session has no stream for the packet's SSRC (a session
    /// created for one specific SSRC saw another).
    case noStreamForSSRC
    /// `srtp_err_status_cant_check`: on SRTCP unprotect with an AES_CM suite, the packet's E flag
    /// differs from the session's (encrypted or `UNENCRYPTED_SRTCP`), so libsrtp refuses it before
    /// the tag check; plain RTCP (its last bytes read as an E flag of 0) mostly ends here.
    case cannotCheck
    /// `srtp_err_status_bad_param`.
    case badParameter
    /// `srtp_err_status_alloc_fail`.
    case allocationFailed
    /// `srtp_err_status_init_fail`.
    case initializationFailed
    /// `srtp_err_status_cipher_fail`.
    case cipherFailed
    /// `srtp_err_status_key_expired`: the key's packet limit was reached.
    case keyExpired
    /// `srtp_err_status_bad_mki`.
    case badMKI
    /// `srtp_err_status_parse_err`: the packet could not be parsed.
    case parseError
    /// `srtp_err_status_pkt_idx_old`.
    case packetIndexTooOld
    /// `srtp_err_status_pkt_idx_adv`.
    case packetIndexAdvanced
    /// Any other `srtp_err_status_t`, by number and libsrtp's constant name.
    case library(status: Int32, name: String)

    init(status: srtp_err_status_t) {
        switch status {
        case srtp_err_status_auth_fail: self = .authenticationFailed
        case srtp_err_status_replay_fail: self = .replayed
        case srtp_err_status_replay_old: self = .replayTooOld
        case srtp_err_status_no_ctx: self = .noStreamForSSRC
        case srtp_err_status_cant_check: self = .cannotCheck
        case srtp_err_status_bad_param: self = .badParameter
        case srtp_err_status_alloc_fail: self = .allocationFailed
        case srtp_err_status_init_fail: self = .initializationFailed
        case srtp_err_status_cipher_fail: self = .cipherFailed
        case srtp_err_status_key_expired: self = .keyExpired
        case srtp_err_status_bad_mki: self = .badMKI
        case srtp_err_status_parse_err: self = .parseError
        case srtp_err_status_pkt_idx_old: self = .packetIndexTooOld
        case srtp_err_status_pkt_idx_adv: self = .packetIndexAdvanced
        default: self = .library(status: Int32(bitPattern: status.rawValue), name: SRTPError.statusName(status))
        }
    }

    /// Throws the mapped error unless `status` is `srtp_err_status_ok`.
    static func check(_ status: srtp_err_status_t) throws(SRTPError) {
        if status != srtp_err_status_ok { throw SRTPError(status: status) }
    }

    static func statusName(_ status: srtp_err_status_t) -> String {
        switch status {
        case srtp_err_status_ok: "srtp_err_status_ok"
        case srtp_err_status_fail: "srtp_err_status_fail"
        case srtp_err_status_bad_param: "srtp_err_status_bad_param"
        case srtp_err_status_alloc_fail: "srtp_err_status_alloc_fail"
        case srtp_err_status_dealloc_fail: "srtp_err_status_dealloc_fail"
        case srtp_err_status_init_fail: "srtp_err_status_init_fail"
        case srtp_err_status_terminus: "srtp_err_status_terminus"
        case srtp_err_status_auth_fail: "srtp_err_status_auth_fail"
        case srtp_err_status_cipher_fail: "srtp_err_status_cipher_fail"
        case srtp_err_status_replay_fail: "srtp_err_status_replay_fail"
        case srtp_err_status_replay_old: "srtp_err_status_replay_old"
        case srtp_err_status_algo_fail: "srtp_err_status_algo_fail"
        case srtp_err_status_no_such_op: "srtp_err_status_no_such_op"
        case srtp_err_status_no_ctx: "srtp_err_status_no_ctx"
        case srtp_err_status_cant_check: "srtp_err_status_cant_check"
        case srtp_err_status_key_expired: "srtp_err_status_key_expired"
        case srtp_err_status_socket_err: "srtp_err_status_socket_err"
        case srtp_err_status_signal_err: "srtp_err_status_signal_err"
        case srtp_err_status_nonce_bad: "srtp_err_status_nonce_bad"
        case srtp_err_status_read_fail: "srtp_err_status_read_fail"
        case srtp_err_status_write_fail: "srtp_err_status_write_fail"
        case srtp_err_status_parse_err: "srtp_err_status_parse_err"
        case srtp_err_status_encode_err: "srtp_err_status_encode_err"
        case srtp_err_status_semaphore_err: "srtp_err_status_semaphore_err"
        case srtp_err_status_pfkey_err: "srtp_err_status_pfkey_err"
        case srtp_err_status_bad_mki: "srtp_err_status_bad_mki"
        case srtp_err_status_pkt_idx_old: "srtp_err_status_pkt_idx_old"
        case srtp_err_status_pkt_idx_adv: "srtp_err_status_pkt_idx_adv"
        default: "srtp_err_status_t(\(status.rawValue))"
        }
    }

    public var description: String {
        switch self {
        case .badKeyLength(let suite, let expected, let actual):
            "\(suite) needs \(expected) bytes of master key||salt, got \(actual)"
        case .packetTooShort(let length, let minimum):
            "packet of \(length) bytes is shorter than the \(minimum) bytes it needs"
        case .packetTooLarge(let length):
            "packet of \(length) bytes is too large"
        case .bufferTooSmall(let needed, let available):
            "buffer of \(available) bytes cannot hold the \(needed) bytes SRTP may produce"
        case .wrongDirection(let direction):
            "operation not allowed on an \(direction) session"
        case .unknownSSRC(let ssrc):
            "no SRTP stream for SSRC \(ssrc)"
        case .authenticationFailed: "authentication failed (srtp_err_status_auth_fail)"
        case .replayed: "replayed packet (srtp_err_status_replay_fail)"
        case .replayTooOld: "packet older than the replay window (srtp_err_status_replay_old)"
        case .noStreamForSSRC: "no stream for the packet's SSRC (srtp_err_status_no_ctx)"
        case .cannotCheck: "cannot check: SRTCP E flag differs from the session's (srtp_err_status_cant_check)"
        case .badParameter: "bad parameter (srtp_err_status_bad_param)"
        case .allocationFailed: "allocation failed (srtp_err_status_alloc_fail)"
        case .initializationFailed: "initialization failed (srtp_err_status_init_fail)"
        case .cipherFailed: "cipher failure (srtp_err_status_cipher_fail)"
        case .keyExpired: "key expired (srtp_err_status_key_expired)"
        case .badMKI: "bad MKI (srtp_err_status_bad_mki)"
        case .parseError: "parse error (srtp_err_status_parse_err)"
        case .packetIndexTooOld: "packet index too old (srtp_err_status_pkt_idx_old)"
        case .packetIndexAdvanced: "packet index advanced (srtp_err_status_pkt_idx_adv)"
        case .library(let status, let name): "libsrtp error \(status) (\(name))"
        }
    }
}
