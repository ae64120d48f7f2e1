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

    var parameters: MediaLegParameters? {
        didSet { negotiated = parameters.map(Negotiated.init) }
    }
    /// What the packet path reads of `parameters`, kept apart so that a packet copies no arrays
    /// and keys (and retains nothing) to learn them.
    private(set) var negotiated: Negotiated?

    struct Negotiated {
        let encrypted: Bool
        let direction: MediaDirection
        let rtcpMux: Bool
        let latchesPlainRTP: Bool

        init(_ parameters: MediaLegParameters) {
            encrypted = parameters.security.isEncrypted
            direction = parameters.direction
            rtcpMux = parameters.rtcpMux
            latchesPlainRTP = parameters.latchesPlainRTP
        }
    }
    var remoteRTP: SocketAddress?
    var remoteRTCP: SocketAddress?
    var rtpLatch: Latch = .locked
    var rtcpLatch: Latch = .locked
    var latched = false

    var peerKey: SRTPMasterKey?
    var inboundSRTP: SRTPSession?
    var outboundKey: SRTPMasterKey?
    var outboundSRTP: SRTPSession?

    /// This leg's negotiated payload types and their clock rates: a handful, searched in order
    /// (a 128-entry table per leg would cost more memory per call than the search costs time).
    var formats: [(payloadType: UInt8, clockRate: UInt32)] = []
    /// Bit n set: payload type n is telephone-event.
    var telephoneEventTypes = PayloadTypeSet()
    /// Per target leg, this leg's payload types and the target's number for each.
    var translations: [[(from: UInt8, to: UInt8)]] = []
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

    var isEncrypted: Bool { negotiated?.encrypted ?? false }

    func clockRate(of payloadType: UInt8) -> Int {
        for format in formats where format.payloadType == payloadType { return Int(format.clockRate) }
        return 0
    }

    /// The target's payload type for `payloadType`, nil when the target did not negotiate it.
    func translate(_ payloadType: UInt8, to target: Int) -> UInt8? {
        guard target < translations.count else { return nil }
        for pair in translations[target] where pair.from == payloadType { return pair.to }
        return nil
    }

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

/// A set of RTP payload types (0…127) in two words.
struct PayloadTypeSet {
    private var low: UInt64 = 0
    private var high: UInt64 = 0

    func contains(_ payloadType: UInt8) -> Bool {
        payloadType < 64 ? low & (1 << payloadType) != 0 : payloadType < 128 && high & (1 << (payloadType - 64)) != 0
    }

    mutating func insert(_ payloadType: UInt8) {
        if payloadType < 64 { low |= 1 << payloadType } else if payloadType < 128 { high |= 1 << (payloadType - 64) }
    }
}
