import NIOCore
import RTP
import SDP
import SRTP

/// One leg of a relayed call: its sockets, its peer, its SRTP contexts and what it has seen.
/// Confined to the call's event loop.
final class RelayLeg {
    enum Latch {
        /// May still learn the peer's source from an accepted packet, until the deadline.
        case learning(until: NIODeadline)
        /// The source is fixed: the SDP address confirmed by a packet, a learned one, or the window passed.
        case locked
    }

    let index: Int
    let ports: MediaPortPool.Pair
    var rtpChannel: (any Channel)?
    var rtcpChannel: (any Channel)?

    var parameters: MediaLegParameters?
    var remoteRTP: SocketAddress?
    var remoteRTCP: SocketAddress?
    var rtpLatch: Latch = .locked
    var rtcpLatch: Latch = .locked
    var latched = false

    var peerKey: SRTPMasterKey?
    var inboundSRTP: SRTPSession?
    var outboundKey: SRTPMasterKey?
    var outboundSRTP: SRTPSession?

    /// Per payload type of this leg: its clock rate (0 when not negotiated) and whether it is telephone-event.
    var clockRates = [Int](repeating: 0, count: 128)
    var isTelephoneEvent = [Bool](repeating: false, count: 128)
    /// This leg's telephone-event payload type at 8 kHz, for injected events.
    var telephoneEventType: UInt8?

    var trackedSSRC: UInt32?
    var sequence: RTPSequenceTracker?
    var jitter = RTPJitterEstimator()
    var jitterClockRate = 0
    var currentEvent: (ssrc: UInt32, timestamp: UInt32, ended: Bool)?

    var inbound = MediaInboundStatistics()
    var outbound = MediaOutboundStatistics()

    var lastRTP: NIODeadline
    var lastPacket: NIODeadline
    var lastUpdate: NIODeadline
    var timedOut = false

    /// The stream the relay sends to this leg's peer, as last sent, so injected telephone events
    /// continue it (same SSRC, next sequence numbers) and later packets are renumbered after them.
    var sentSSRC: UInt32?
    var sentSequence: UInt16 = 0
    var sentTimestamp: UInt32 = 0
    var sentAt: NIODeadline
    var sequenceOffset: UInt16 = 0
    var injection: Injection?
    var needsFlush = false

    struct Injection {
        var event: UInt8
        var payloadType: UInt8
        var ssrc: UInt32
        var timestamp: UInt32
        var elapsedSamples: Int
        var totalSamples: Int
        var endPacketsLeft: Int
        var task: RepeatedTask?
    }

    init(index: Int, ports: MediaPortPool.Pair, now: NIODeadline) {
        self.index = index
        self.ports = ports
        self.lastRTP = now
        self.lastPacket = now
        self.lastUpdate = now
        self.sentAt = now
    }

    var isEncrypted: Bool { parameters?.security.isEncrypted ?? false }

    func mayLearn(_ latch: Latch, at now: NIODeadline) -> Bool {
        if case .learning(let until) = latch { return now < until }
        return false
    }

    func statistics() -> MediaLegStatistics {
        var inbound = self.inbound
        if let sequence {
            inbound.lost = sequence.cumulativeLost
            inbound.expected = sequence.expected
            inbound.duplicates = sequence.duplicates
            inbound.reordered = sequence.reordered
        }
        if jitterClockRate > 0 {
            inbound.jitterMilliseconds = jitter.jitterInTimestampUnits * 1_000 / Double(jitterClockRate)
        }
        return MediaLegStatistics(
            localRTPPort: ports.rtp, remote: remoteRTP, latched: latched, direction: parameters?.direction ?? .inactive,
            encrypted: isEncrypted, inbound: inbound, outbound: outbound)
    }
}
