import NIOCore
import SDP
import SRTP

/// What the call layer knows about one leg from its latest offer/answer.
public struct MediaLegParameters: Sendable, Hashable {
    /// Where the peer said it receives RTP (the SDP's connection address and media port); nil
    /// while unknown, for example before the answer to an offer the edge sent.
    public var remote: SocketAddress?
    /// The peer's RTCP address when it differs from RTP port + 1 (`a=rtcp`, RFC 3605).
    public var remoteRTCP: SocketAddress?
    /// RTP and RTCP share the RTP port (RFC 5761), on both sides.
    public var rtcpMux: Bool
    public var security: MediaLegSecurity
    /// The leg's payload types, as its own SDP numbers them.
    public var payloadFormats: [RTPMap]
    /// The direction the peer declared (`sendonly` means the peer sends and does not receive).
    public var direction: MediaDirection
    /// Lets a plain-RTP leg learn its peer's real source address (NAT) during the latching
    /// window after this update. SRTP legs always learn it, and only from packets that authenticate.
    public var latchesPlainRTP: Bool

    public init(
        remote: SocketAddress?, remoteRTCP: SocketAddress? = nil, rtcpMux: Bool = false, security: MediaLegSecurity,
        payloadFormats: [RTPMap], direction: MediaDirection = .sendrecv, latchesPlainRTP: Bool = false
    ) {
        self.remote = remote
        self.remoteRTCP = remoteRTCP
        self.rtcpMux = rtcpMux
        self.security = security
        self.payloadFormats = payloadFormats
        self.direction = direction
        self.latchesPlainRTP = latchesPlainRTP
    }
}

/// Whether a leg carries RTP or SRTP (RFC 3711, keyed by SDES, RFC 4568).
public enum MediaLegSecurity: Sendable, Hashable {
    /// RTP in clear; only for a leg whose device profile allows it.
    case plain
    /// SRTP both ways. The edge keys what it sends itself, with `outboundSuite`; `peerKey` is the
    /// key from the peer's `a=crypto`, nil until its answer arrives (packets are dropped until then).
    case srtp(outboundSuite: SRTPSuite, peerKey: SRTPMasterKey?)

    public var isEncrypted: Bool {
        if case .srtp = self { return true }
        return false
    }
}

/// What the call layer puts in the SDP it sends on a leg.
public struct MediaLegLocal: Sendable, Hashable {
    /// The relay's RTP port on this leg; RTCP is on `rtpPort + 1` unless the leg muxes.
    public let rtpPort: Int
    public var rtcpPort: Int { rtpPort + 1 }
    /// The key the edge encrypts with towards this leg's peer (for the SDP's `a=crypto`).
    public let outboundKey: SRTPMasterKey?
}
