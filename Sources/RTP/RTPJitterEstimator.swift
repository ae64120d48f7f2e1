/// The interarrival jitter of RFC 3550 §6.4.1, computed as in Appendix A.8 in integer form:
/// `jitter += d - ((jitter + 8) >> 4)`, which keeps 16 times the estimate so that the 1/16 gain
/// needs no floating point.
public struct RTPJitterEstimator: Sendable, Hashable {
    /// 16·J. 64 bits because a pathological |D| near 2^31 would push 16·J past 32 bits.
    private var scaled: Int64 = 0
    private var transit: Int32 = 0
    private var hasTransit = false

    public init() {}

    /// One packet: its RTP timestamp, and its arrival time in the same clock units (the caller
    /// converts wall time to the payload's clock rate). Wrapping arithmetic and a signed
    /// difference make timestamp and arrival wrap harmless, as long as consecutive packets are
    /// less than 2^31 units apart.
    public mutating func record(rtpTimestamp: UInt32, arrival: UInt32) {
        let newTransit = Int32(bitPattern: arrival &- rtpTimestamp)
        defer {
            transit = newTransit
            hasTransit = true
        }
        guard hasTransit else { return }
        let d = Int64(newTransit &- transit).magnitude
        scaled += Int64(d) - ((scaled + 8) >> 4)
    }

    /// The value for the report block's jitter field: J, i.e. the scaled state shifted by 4.
    public var jitter: UInt32 { UInt32(clamping: scaled >> 4) }

    /// J with the fraction the report field drops.
    public var jitterInTimestampUnits: Double { Double(scaled) / 16 }
}
