import Testing

@testable import RTP

@Suite("Sequence tracking (RFC 3550 A.1, A.3)")
struct SequenceTrackerTests {
    /// A source validated by its first two packets, `first` and `first + 1`.
    private func validated(from first: UInt16) -> RTPSequenceTracker {
        var tracker = RTPSequenceTracker(firstSequence: first)
        #expect(!tracker.isValid)
        #expect(tracker.record(first &+ 1) == .accepted)
        #expect(tracker.isValid)
        return tracker
    }

    @Test("in order: everything after probation is received, nothing lost")
    func inOrder() {
        var tracker = validated(from: 100)
        for seq in UInt16(102)...200 { #expect(tracker.record(seq) == .accepted) }
        // A.1 restarts the counters on the packet that ends probation, so 101 is the base.
        #expect(tracker.received == 100)
        #expect(tracker.expected == 100)
        #expect(tracker.cumulativeLost == 0)
        #expect(tracker.extendedHighestSequence == 200)
        #expect(tracker.intervalReport() == (0, 0))
    }

    @Test("probation restarts on a packet out of sequence, and nothing counts until it ends")
    func probation() {
        var tracker = RTPSequenceTracker(firstSequence: 5)
        #expect(tracker.record(7) == .probation)
        #expect(tracker.expected == 0 && tracker.received == 0)
        #expect(tracker.record(8) == .accepted)
        #expect(tracker.received == 1 && tracker.expected == 1)
    }

    @Test("duplicates are counted as received, as A.1 does, so the loss goes negative")
    func duplicates() {
        var tracker = validated(from: 1)
        for seq in UInt16(3)...20 { _ = tracker.record(seq) }
        #expect(tracker.record(20) == .duplicate)
        #expect(tracker.record(15) == .duplicate)
        #expect(tracker.duplicates == 2)
        // The base is 2 (probation ended there): 19 expected, 19 + 2 received.
        #expect(tracker.received == 21)
        #expect(tracker.expected == 19)
        #expect(tracker.cumulativeLost == -2)
        #expect(tracker.intervalReport().cumulativeLost == -2)
    }

    @Test("a late packet within MAX_MISORDER fills its gap once; a second copy is a duplicate")
    func reorder() {
        var tracker = validated(from: 1)
        #expect(tracker.record(3) == .accepted)
        #expect(tracker.record(5) == .accepted)
        #expect(tracker.cumulativeLost == 1)
        #expect(tracker.record(4) == .reordered)
        #expect(tracker.record(4) == .duplicate)
        #expect(tracker.reordered == 1)
        #expect(tracker.extendedHighestSequence == 5)
        // Behind by more than the 64-bit window but less than MAX_MISORDER: still reordered.
        for seq in UInt16(6)...100 { _ = tracker.record(seq) }
        #expect(tracker.record(20) == .reordered)
    }

    @Test("losses: cumulative and the A.3 fraction of the interval")
    func loss() {
        var tracker = validated(from: 1)
        for seq in UInt16(3)...11 where seq != 5 && seq != 6 { _ = tracker.record(seq) }
        #expect(tracker.expected == 10)
        #expect(tracker.received == 8)
        let report = tracker.intervalReport()
        #expect(report.cumulativeLost == 2)
        #expect(report.fractionLost == UInt8((2 << 8) / 10))
        // The next interval: 10 more expected, 9 received.
        for seq in UInt16(12)...21 where seq != 15 { _ = tracker.record(seq) }
        let next = tracker.intervalReport()
        #expect(next.fractionLost == UInt8((1 << 8) / 10))
        #expect(next.cumulativeLost == 3)
    }

    @Test("wrap 65535 → 0 adds a cycle to the extended sequence number")
    func wrap() {
        var tracker = validated(from: 65530)
        for seq in UInt16(65532)...65535 { #expect(tracker.record(seq) == .accepted) }
        #expect(tracker.cycles == 0)
        for seq in UInt16(0)...9 { #expect(tracker.record(seq) == .accepted) }
        #expect(tracker.cycles == 1)
        #expect(tracker.extendedHighestSequence == 1 << 16 | 9)
        #expect(tracker.cumulativeLost == 0)
        // A late packet from before the wrap does not undo the cycle.
        #expect(tracker.record(65534) == .duplicate)
        #expect(tracker.record(65533) == .duplicate)
        #expect(tracker.cycles == 1)
    }

    @Test("a stream from 65500 to 70000 counts every packet across the wrap")
    func longStreamAcrossWrap() {
        var tracker = RTPSequenceTracker(firstSequence: 65500)
        for n in 65501...70000 {
            let verdict = tracker.record(UInt16(truncatingIfNeeded: n))
            #expect(verdict == .accepted, "at \(n)")
        }
        #expect(tracker.extendedHighestSequence == 70000)
        #expect(tracker.cycles == 1)
        #expect(tracker.expected == UInt64(70000 - 65501 + 1))
        #expect(tracker.received == tracker.expected)
    }

    @Test("a big jump is ignored once; two packets in sequence after it restart the source")
    func bigJumpRestart() {
        var tracker = validated(from: 1000)
        for seq in UInt16(1002)...1010 { _ = tracker.record(seq) }
        #expect(tracker.record(20000) == .badSequence)
        #expect(tracker.record(1011) == .accepted)
        #expect(tracker.extendedHighestSequence == 1011)
        #expect(tracker.record(30000) == .badSequence)
        #expect(tracker.record(30001) == .accepted)
        #expect(tracker.restarts == 1)
        #expect(tracker.extendedHighestSequence == 30001)
        #expect(tracker.received == 1)
        #expect(tracker.expected == 1)
        #expect(tracker.record(30002) == .accepted)
        #expect(tracker.cumulativeLost == 0)
        // Far behind (more than MAX_MISORDER) is a jump as well.
        #expect(tracker.record(29000) == .badSequence)
    }

    @Test("gaps just under MAX_DROPOUT are losses, not jumps; the 24-bit figure clamps")
    func cumulativeClamp() {
        var tracker = validated(from: 0)
        var seq: UInt16 = 1
        var jumps = 0
        // Bounded, so that a tracker that stops counting fails here instead of hanging: 2800
        // gaps of 2998 are enough.
        while tracker.cumulativeLost <= Int64(RTCPReportBlock.cumulativeLostRange.upperBound), jumps < 3000 {
            seq &+= RTPSequenceTracker.maxDropout - 1
            #expect(tracker.record(seq) == .accepted)
            jumps += 1
        }
        #expect(jumps < 3000)
        #expect(tracker.cumulativeLost == Int64(jumps) * Int64(RTPSequenceTracker.maxDropout - 2))
        #expect(tracker.intervalReport().cumulativeLost == RTCPReportBlock.cumulativeLostRange.upperBound)
    }
}
