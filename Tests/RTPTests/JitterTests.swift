import Testing

@testable import RTP

@Suite("Interarrival jitter (RFC 3550 A.8)")
struct JitterTests {
    @Test("constant spacing is no jitter, across a timestamp and an arrival wrap")
    func constantSpacing() {
        var estimator = RTPJitterEstimator()
        for n in UInt32(0)..<1000 {
            estimator.record(rtpTimestamp: UInt32.max - 80_000 &+ n &* 160, arrival: 0xFFFF_0000 &+ n &* 160)
        }
        #expect(estimator.jitter == 0)
        #expect(estimator.jitterInTimestampUnits == 0)
    }

    /// Packets every 160 units, every other one 16 units late: each transit differs from the one
    /// before by D = 16. With the integer form `J' = J + D - ((J + 8) >> 4)` (J kept ×16):
    ///   0 → 16 + 16 - (8 >> 4 = 0)  = 16
    ///   → 16 + 16 - (24 >> 4 = 1)   = 31
    ///   → 31 + 16 - (39 >> 4 = 2)   = 45
    ///   → 45 + 16 - (53 >> 4 = 3)   = 58
    /// and it stops growing once (J + 8) >> 4 reaches 16, at J = 16·16 − 8 = 248: the reported
    /// jitter is 248 >> 4 = 15 (15.5 units), where the floating-point form tends to D = 16.
    @Test("alternating delay: the first steps by hand, then the fixed point")
    func alternatingDelay() {
        var estimator = RTPJitterEstimator()
        func packet(_ n: UInt32) {
            estimator.record(rtpTimestamp: n * 160, arrival: 5000 + n * 160 + (n % 2 == 1 ? 16 : 0))
        }
        packet(0)
        #expect(estimator.jitterInTimestampUnits == 0)
        var scaled: [Double] = []
        for n in UInt32(1)...4 {
            packet(n)
            scaled.append(estimator.jitterInTimestampUnits * 16)
        }
        #expect(scaled == [16, 31, 45, 58])
        #expect(estimator.jitter == 58 >> 4)
        for n in UInt32(5)..<2000 { packet(n) }
        #expect(estimator.jitterInTimestampUnits == 15.5)
        #expect(estimator.jitter == 15)
    }

    @Test("a negative transit difference counts by its magnitude")
    func earlyPacket() {
        var late = RTPJitterEstimator()
        late.record(rtpTimestamp: 0, arrival: 100)
        late.record(rtpTimestamp: 160, arrival: 260 + 320)
        var early = RTPJitterEstimator()
        early.record(rtpTimestamp: 0, arrival: 100)
        early.record(rtpTimestamp: 160, arrival: 260 &- 320)
        #expect(late.jitterInTimestampUnits == 320.0 / 16)
        #expect(early.jitterInTimestampUnits == late.jitterInTimestampUnits)
    }
}
