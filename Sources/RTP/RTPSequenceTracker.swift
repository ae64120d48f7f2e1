/// Sequence-number bookkeeping for one source, as RFC 3550 Appendix A.1 `update_seq` does it,
/// with the interval loss figures of A.3 for receiver reports.
///
/// A.1 counts duplicates and late packets as received, so `cumulativeLost` can go negative, as
/// RFC 3550 §6.4.1 allows. On top of A.1 a 64-bit window of the newest sequence numbers tells a
/// duplicate from a late packet, without allocating: one word per source.
public struct RTPSequenceTracker: Sendable, Hashable {
    public enum Verdict: Sendable, Hashable {
        /// In order, possibly after a gap of fewer than `maxDropout` packets.
        case accepted
        /// Seen already (the highest sequence number again, or a late one inside the window).
        case duplicate
        /// Behind the highest, by less than `maxMisorder`, and not seen before: counted as received.
        /// A late packet older than the 64-packet window is reported here too, as it cannot be told apart.
        case reordered
        /// The source is not valid yet: fewer than `minSequential` packets in sequence so far.
        case probation
        /// A jump of `maxDropout` or more ahead (or `maxMisorder` or more behind): not counted.
        /// The next packet in sequence after it restarts the source from there (A.1, `bad_seq`).
        case badSequence
    }

    public static let maxDropout: UInt16 = 3000
    public static let maxMisorder: UInt16 = 100
    public static let minSequential = 2
    static let sequenceModulus = 1 << 16

    private var maxSeq: UInt16
    private var wraps: UInt64 = 0
    private var baseSeq: UInt64 = 0
    /// Outside 0...65535 when no jump is pending, as `RTP_SEQ_MOD + 1` in A.1.
    private var badSeq: Int = RTPSequenceTracker.sequenceModulus + 1
    private var probation: Int
    private var receivedPrior: UInt64 = 0
    private var expectedPrior: UInt64 = 0
    /// Bit i set: `extendedHighest - i` was received.
    private var window: UInt64 = 0

    /// Packets counted since the source was (re)started, duplicates and late ones included.
    public private(set) var received: UInt64 = 0
    /// Lifetime counts, kept across restarts.
    public private(set) var duplicates: UInt64 = 0
    public private(set) var reordered: UInt64 = 0
    /// How often a jump made the source start over (A.1's second branch).
    public private(set) var restarts: UInt64 = 0

    /// The first packet heard from a source, which this counts as the first of its probation
    /// (A.1: `init_seq(s, seq); s->max_seq = seq - 1; s->probation = MIN_SEQUENTIAL;` and then
    /// `update_seq` for that same packet). Record the packets after it.
    public init(firstSequence: UInt16) {
        maxSeq = firstSequence &- 1
        probation = Self.minSequential
        start(at: firstSequence)
        maxSeq = firstSequence &- 1
        _ = record(firstSequence)
    }

    /// A.1 `init_seq`.
    private mutating func start(at seq: UInt16) {
        baseSeq = UInt64(seq)
        maxSeq = seq
        badSeq = Self.sequenceModulus + 1
        wraps = 0
        received = 0
        receivedPrior = 0
        expectedPrior = 0
        window = 1
    }

    public mutating func record(_ seq: UInt16) -> Verdict {
        let udelta = seq &- maxSeq
        if probation > 0 {
            if seq == maxSeq &+ 1 {
                probation -= 1
                maxSeq = seq
                if probation == 0 {
                    start(at: seq)
                    received += 1
                    return .accepted
                }
            } else {
                probation = Self.minSequential - 1
                maxSeq = seq
            }
            return .probation
        } else if udelta < Self.maxDropout {
            if udelta == 0 {
                // A.1 takes this branch and counts it; only the window knows it is a repeat.
                received += 1
                duplicates += 1
                return .duplicate
            }
            if seq < maxSeq { wraps += 1 }
            maxSeq = seq
            window = udelta >= 64 ? 1 : window << udelta | 1
        } else if Int(udelta) <= Self.sequenceModulus - Int(Self.maxMisorder) {
            if Int(seq) == badSeq {
                // Two packets in sequence after a jump: the other end restarted, follow it.
                start(at: seq)
                restarts += 1
            } else {
                badSeq = Int(seq &+ 1)
                return .badSequence
            }
        } else {
            received += 1
            let behind = maxSeq &- seq
            if behind < 64 {
                let bit: UInt64 = 1 << UInt64(behind)
                if window & bit != 0 {
                    duplicates += 1
                    return .duplicate
                }
                window |= bit
            }
            reordered += 1
            return .reordered
        }
        received += 1
        return .accepted
    }

    /// False while on probation: the figures below mean nothing yet and no report should be sent.
    public var isValid: Bool { probation == 0 }

    /// The highest sequence number received, with the count of wraps in the top 16 bits, as the
    /// report block carries it.
    public var extendedHighestSequence: UInt32 { UInt32(truncatingIfNeeded: extendedMax) }

    /// How many times the sequence number wrapped past 65535 since the source (re)started.
    public var cycles: UInt32 { UInt32(truncatingIfNeeded: wraps) }

    private var extendedMax: UInt64 { wraps << 16 | UInt64(maxSeq) }

    /// A.3: `extended_max - base_seq + 1`; 0 on probation.
    public var expected: UInt64 {
        guard isValid, extendedMax >= baseSeq else { return 0 }
        return extendedMax - baseSeq + 1
    }

    /// Expected minus received; negative when duplicates outnumber losses.
    public var cumulativeLost: Int64 { Int64(truncatingIfNeeded: expected) - Int64(truncatingIfNeeded: received) }

    /// The report block's loss fields since the previous call (A.3), which starts the next interval.
    /// The cumulative figure is clamped to the 24 bits it has on the wire.
    public mutating func intervalReport() -> (fractionLost: UInt8, cumulativeLost: Int32) {
        let expected = self.expected
        let expectedInterval = Int64(truncatingIfNeeded: expected) - Int64(truncatingIfNeeded: expectedPrior)
        expectedPrior = expected
        let receivedInterval = Int64(truncatingIfNeeded: received) - Int64(truncatingIfNeeded: receivedPrior)
        receivedPrior = received
        let lostInterval = expectedInterval - receivedInterval
        var fraction: UInt8 = 0
        if expectedInterval > 0, lostInterval > 0 {
            // All lost would be 256, which A.3's u_int8 wraps to 0; say 255 instead.
            fraction = UInt8(min((lostInterval << 8) / expectedInterval, 255))
        }
        let range = RTCPReportBlock.cumulativeLostRange
        let cumulative = Int32(min(max(cumulativeLost, Int64(range.lowerBound)), Int64(range.upperBound)))
        return (fraction, cumulative)
    }
}
