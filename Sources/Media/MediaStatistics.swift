import NIOCore
import SDP

/// What arrived from one leg's peer, measured by the relay from the packets themselves.
public struct MediaInboundStatistics: Sendable, Hashable {
    /// RTP packets accepted (authenticated when SRTP) and their bytes as received.
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public var rtcpPackets: UInt64 = 0
    /// SRTP or SRTCP packets whose tag did not verify.
    public var authenticationFailures: UInt64 = 0
    /// SRTP or SRTCP packets already received, or older than the replay window.
    public var replays: UInt64 = 0
    /// Packets from an address other than the leg's peer (after latching, or with latching off).
    public var wrongSource: UInt64 = 0
    /// Packets that are not RTP or RTCP, or whose header does not parse.
    public var malformed: UInt64 = 0
    /// Packets dropped before forwarding: the peer should not be sending (direction), the payload
    /// type is not negotiated, or the leg has no peer key yet.
    public var dropped: UInt64 = 0
    /// Plain RTCP from a peer that negotiated SRTP: counted, not fatal.
    public var plainRTCPOnSecureLeg: UInt64 = 0
    /// RFC 3550 A.3: packets expected but not received, cumulative (negative with duplicates).
    public var lost: Int64 = 0
    public var expected: UInt64 = 0
    public var duplicates: UInt64 = 0
    public var reordered: UInt64 = 0
    /// RFC 3550 A.8 interarrival jitter of this stream, in milliseconds.
    public var jitterMilliseconds: Double = 0
    /// Telephone events (RFC 4733) seen starting.
    public var telephoneEvents: UInt64 = 0
    public init() {}
}

/// What the relay sent to one leg's peer, with what that peer reported about it in RTCP.
public struct MediaOutboundStatistics: Sendable, Hashable {
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public var rtcpPackets: UInt64 = 0
    /// Packets libsrtp refused to protect, or the socket refused to send.
    public var failures: UInt64 = 0
    /// Telephone-event packets the edge itself generated on this leg.
    public var injectedTelephoneEvents: UInt64 = 0
    /// From the last RTCP report block the peer sent about this stream: fraction lost (0…1),
    /// cumulative lost and interarrival jitter in milliseconds.
    public var peerReportedFractionLost: Double?
    public var peerReportedCumulativeLost: Int32?
    public var peerReportedJitterMilliseconds: Double?
    public init() {}
}

/// One leg of a call, as the relay sees it now.
public struct MediaLegStatistics: Sendable, Hashable {
    public var localRTPPort: Int
    public var remote: SocketAddress?
    /// The peer's source was learned from its packets (NAT) rather than taken from SDP.
    public var latched: Bool
    public var direction: MediaDirection
    public var encrypted: Bool
    public var inbound: MediaInboundStatistics
    public var outbound: MediaOutboundStatistics
}

public struct MediaCallStatistics: Sendable, Hashable {
    public var callID: String
    public var legs: [MediaLegStatistics]
}

/// What the relay tells the call layer without being asked.
public enum MediaEvent: Sendable, Hashable {
    /// A telephone event (RFC 4733) from `leg`'s peer: reported when it starts and when it ends.
    case telephoneEvent(callID: String, leg: Int, MediaTelephoneEvent)
    /// No media from `leg`'s peer for the leg's limit (active or held) since answer or the last packet.
    case timeout(callID: String, leg: Int, reason: String)
    /// `leg` learned its peer's real source address from an accepted packet.
    case latched(callID: String, leg: Int, source: SocketAddress)
}

public struct MediaTelephoneEvent: Sendable, Hashable {
    /// RFC 4733 event code: 0–9 digits, 10 `*`, 11 `#`, 12–15 A–D, 16 flash.
    public var event: UInt8
    public var ended: Bool
    /// In milliseconds, as far as the peer has reported it.
    public var durationMilliseconds: Int
    public var volume: UInt8
}
