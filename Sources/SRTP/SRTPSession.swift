internal import CSRTP

/// One direction of SRTP for one call leg: a libsrtp session (`srtp_t`) created from a suite and
/// a master key||salt. An outbound session protects, an inbound one unprotects.
///
/// Not `Sendable`: libsrtp sessions hold mutable per-stream state (replay windows, rollover
/// counters) with no locking. Keep a session on one thread, task or event loop.
public final class SRTPSession {
    public enum Direction: Sendable, Hashable, CustomStringConvertible {
        /// Packets arriving from the peer: `unprotect` only.
        case inbound
        /// Packets sent to the peer: `protect` only.
        case outbound

        public var description: String { self == .inbound ? "inbound" : "outbound" }
    }

    public let suite: SRTPSuite
    public let direction: Direction

    /// `srtp_t`, owned: released with `srtp_dealloc` in `deinit`.
    private let context: OpaquePointer

    /// Fixed RTP and RTCP header sizes; libsrtp must not be handed less.
    private static let minimumRTPLength = 12
    private static let minimumRTCPLength = 8

    /// The shortest SRTP and SRTCP packets this session can verify: the fixed header, the SRTCP
    /// E flag and index, and the tag. Anything shorter is refused before libsrtp sees it, so a
    /// truncated packet is `packetTooShort` rather than whichever of `bad_param` or `parse_err`
    /// libsrtp happens to report for that length.
    private let minimumSRTPLength: Int
    private let minimumSRTCPLength: Int

    /// Creates a session.
    /// - Parameters:
    ///   - suite: the negotiated crypto suite.
    ///   - masterKeyAndSalt: master key followed by master salt, `suite.keyAndSaltLength` bytes.
    ///   - direction: whether this session protects (outbound) or unprotects (inbound).
    ///   - ssrc: `nil` accepts any SSRC in `direction` (streams appear with their first packet);
    ///     a value creates that stream now, so its rollover counter can be set before traffic.
    ///   - replayWindowSize: packets in the SRTP replay window (libsrtp accepts 64…32768).
    ///   - encryptsRTCP: `false` only when SDES negotiated `UNENCRYPTED_SRTCP` (RFC 4568 §6.3.2):
    ///     outbound SRTCP is then authenticated but sent in clear with the E flag unset. Inbound,
    ///     libsrtp 2.5 differs by suite: with AES_CM it refuses SRTCP whose E flag is not this
    ///     setting (`cannotCheck`); with AEAD_AES_*_GCM it follows each packet's E flag, so an
    ///     authenticated SRTCP packet in clear is accepted even by an encrypting session. The tag is
    ///     verified either way.
    public init(
        suite: SRTPSuite,
        masterKeyAndSalt: [UInt8],
        direction: Direction,
        ssrc: UInt32? = nil,
        replayWindowSize: Int = 128,
        encryptsRTCP: Bool = true
    ) throws(SRTPError) {
        guard masterKeyAndSalt.count == suite.keyAndSaltLength else {
            throw .badKeyLength(suite: suite, expected: suite.keyAndSaltLength, actual: masterKeyAndSalt.count)
        }
        try SRTPLibrary.initialize()

        var policy = srtp_policy_t()
        suite.apply(to: &policy)
        if !encryptsRTCP { policy.rtcp.sec_serv = sec_serv_auth }
        if let ssrc {
            policy.ssrc.type = ssrc_specific
            policy.ssrc.value = ssrc
        } else {
            policy.ssrc.type = direction == .inbound ? ssrc_any_inbound : ssrc_any_outbound
            policy.ssrc.value = 0
        }
        policy.window_size = UInt(max(0, replayWindowSize))
        policy.allow_repeat_tx = 0
        policy.next = nil

        // libsrtp derives its session keys inside srtp_create and keeps no pointer to the
        // master key, so a temporary copy that is wiped afterwards is enough.
        var key = masterKeyAndSalt
        var created: OpaquePointer?
        let status = key.withUnsafeMutableBufferPointer { buffer -> srtp_err_status_t in
            policy.key = buffer.baseAddress
            return srtp_create(&created, &policy)
        }
        for index in key.indices { key[index] = 0 }
        try SRTPError.check(status)
        guard let created else { throw .allocationFailed }
        self.context = created
        self.suite = suite
        self.direction = direction
        self.minimumSRTPLength = Self.minimumRTPLength + suite.rtpTagLength
        self.minimumSRTCPLength = Self.minimumRTCPLength + 4 + suite.rtcpTagLength
    }

    /// Creates a session from a validated master key; see
    /// `init(suite:masterKeyAndSalt:direction:ssrc:replayWindowSize:encryptsRTCP:)`.
    public convenience init(
        key: SRTPMasterKey,
        direction: Direction,
        ssrc: UInt32? = nil,
        replayWindowSize: Int = 128
    ) throws(SRTPError) {
        try self.init(
            suite: key.suite, masterKeyAndSalt: key.bytes, direction: direction, ssrc: ssrc, replayWindowSize: replayWindowSize)
    }

    deinit {
        srtp_dealloc(context)
    }

    /// Bytes a buffer must have free after the packet for `protectRTP(in:length:)` and
    /// `protectRTCP(in:length:)`: the longest tag, MKI and SRTCP index libsrtp may append.
    public static let maximumTrailerLength = Int(SRTP_MAX_TRAILER_LEN) + 4

    // MARK: In place, for the relay's hot path

    /// Encrypts and authenticates the RTP packet in the first `length` bytes of `buffer`, in place;
    /// returns the SRTP packet's length. `buffer` must have `maximumTrailerLength` bytes free after
    /// the packet, which libsrtp may fill with the tag.
    public func protectRTP(in buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        guard direction == .outbound else { throw .wrongDirection(direction) }
        return try transformInPlace(buffer, length: length, minimum: Self.minimumRTPLength, growth: Self.maximumTrailerLength) {
            srtp_protect($0, $1, $2)
        }
    }

    /// Verifies and decrypts the SRTP packet in the first `length` bytes of `buffer`, in place;
    /// returns the RTP packet's length. Nothing in `buffer` may be trusted if this throws.
    public func unprotectRTP(in buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        guard direction == .inbound else { throw .wrongDirection(direction) }
        return try transformInPlace(buffer, length: length, minimum: minimumSRTPLength, growth: 0) {
            srtp_unprotect($0, $1, $2)
        }
    }

    /// Encrypts and authenticates an RTCP compound packet in place; see `protectRTP(in:length:)`.
    public func protectRTCP(in buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        guard direction == .outbound else { throw .wrongDirection(direction) }
        return try transformInPlace(buffer, length: length, minimum: Self.minimumRTCPLength, growth: Self.maximumTrailerLength) {
            srtp_protect_rtcp($0, $1, $2)
        }
    }

    /// Verifies and decrypts an SRTCP packet in place; see `unprotectRTP(in:length:)`.
    public func unprotectRTCP(in buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        guard direction == .inbound else { throw .wrongDirection(direction) }
        return try transformInPlace(buffer, length: length, minimum: minimumSRTCPLength, growth: 0) {
            srtp_unprotect_rtcp($0, $1, $2)
        }
    }

    // MARK: Copying, for tests and control paths

    /// Encrypts and authenticates one RTP packet; returns the SRTP packet.
    public func protect(rtp packet: [UInt8]) throws(SRTPError) -> [UInt8] {
        try copying(packet, growth: Self.maximumTrailerLength) { buffer, length throws(SRTPError) in
            try protectRTP(in: buffer, length: length)
        }
    }

    /// Verifies and decrypts one SRTP packet; returns the RTP packet.
    public func unprotect(srtp packet: [UInt8]) throws(SRTPError) -> [UInt8] {
        try copying(packet, growth: 0) { buffer, length throws(SRTPError) in try unprotectRTP(in: buffer, length: length) }
    }

    /// Encrypts and authenticates one RTCP compound packet; returns the SRTCP packet.
    public func protect(rtcp packet: [UInt8]) throws(SRTPError) -> [UInt8] {
        try copying(packet, growth: Self.maximumTrailerLength) { buffer, length throws(SRTPError) in
            try protectRTCP(in: buffer, length: length)
        }
    }

    /// Verifies and decrypts one SRTCP packet; returns the RTCP compound packet.
    public func unprotect(srtcp packet: [UInt8]) throws(SRTPError) -> [UInt8] {
        try copying(packet, growth: 0) { buffer, length throws(SRTPError) in try unprotectRTCP(in: buffer, length: length) }
    }

    /// The rollover counter (RFC 3711 §3.3.1) of the stream for `ssrc`.
    public func rolloverCounter(ssrc: UInt32) throws(SRTPError) -> UInt32 {
        var roc: UInt32 = 0
        let status = srtp_get_stream_roc(context, ssrc, &roc)
        if status == srtp_err_status_bad_param { throw .unknownSSRC(ssrc) }
        try SRTPError.check(status)
        return roc
    }

    /// Sets the rollover counter of the stream for `ssrc`, for example to carry it across a
    /// re-INVITE that keeps the key and SSRC (RFC 4568 §7.1.4).
    ///
    /// The stream must exist, or this throws `unknownSSRC`: a session created with `ssrc: nil`
    /// (libsrtp's `ssrc_any_inbound`/`ssrc_any_outbound` template) has no stream until the first
    /// packet of that SSRC, and by then it is too late, because that packet was already judged
    /// with ROC 0 and fails authentication. So a relay that resumes a leg after a hold, keeping
    /// key and SSRC, must create the new session *with that SSRC* and set the old session's
    /// `rolloverCounter(ssrc:)` on it before the first packet, on both the inbound and the
    /// outbound side. (A new SSRC or a new key starts at ROC 0 and needs nothing.)
    ///
    /// libsrtp 2.5 keeps the value as pending and applies it with the next packet: until then
    /// `rolloverCounter(ssrc:)` still reads the stream's previous counter, and setting 0 on a
    /// stream whose counter is already 0 changes nothing.
    public func setRolloverCounter(_ roc: UInt32, ssrc: UInt32) throws(SRTPError) {
        let status = srtp_set_stream_roc(context, ssrc, roc)
        if status == srtp_err_status_bad_param { throw .unknownSSRC(ssrc) }
        try SRTPError.check(status)
    }

    /// Runs libsrtp on the packet in `buffer` after checking the lengths libsrtp itself trusts.
    @inline(__always)
    private func transformInPlace(
        _ buffer: UnsafeMutableRawBufferPointer,
        length: Int,
        minimum: Int,
        growth: Int,
        _ operation: (OpaquePointer, UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> srtp_err_status_t
    ) throws(SRTPError) -> Int {
        guard length >= minimum, let base = buffer.baseAddress else { throw .packetTooShort(length: length, minimum: minimum) }
        guard length <= Int(Int32.max) - growth else { throw .packetTooLarge(length: length) }
        guard length + growth <= buffer.count else { throw .bufferTooSmall(needed: length + growth, available: buffer.count) }
        var result = Int32(length)
        try SRTPError.check(operation(context, base, &result))
        return Int(result)
    }

    private func copying(
        _ packet: [UInt8], growth: Int, _ body: (UnsafeMutableRawBufferPointer, Int) throws(SRTPError) -> Int
    ) throws(SRTPError) -> [UInt8] {
        var buffer = packet
        buffer.append(contentsOf: repeatElement(0, count: growth))
        // Array's closure-taking accessors do not carry a typed error through, so it travels as a value.
        let result = buffer.withUnsafeMutableBytes { raw in Result { () throws(SRTPError) in try body(raw, packet.count) } }
        let length = try result.get()
        buffer.removeLast(buffer.count - length)
        return buffer
    }
}
