import Media
import Testing

@Suite("Media port pool")
struct MediaPortPoolTests {
    @Test func pairsAreEvenInsideTheRangeDistinctAndRandom() {
        let pool = MediaPortPool(range: 20_001...20_100, quarantine: .seconds(60))
        #expect(pool.capacity == 49, "20002…20098 as RTP, each with its RTCP port inside the range")
        var seen: [Int] = []
        while let pair = pool.allocate() { seen.append(pair.rtp) }
        #expect(seen.count == 49)
        #expect(Set(seen).count == 49)
        #expect(seen.allSatisfy { $0 % 2 == 0 && $0 >= 20_002 && $0 + 1 <= 20_100 })
        #expect(seen != seen.sorted(), "ports are not handed out in order")
        #expect(pool.allocated == 49)
    }

    @Test func releasedPairsWaitOutTheQuarantine() async throws {
        let pool = MediaPortPool(range: 30_000...30_003, quarantine: .milliseconds(200))
        let first = try #require(pool.allocate())
        let second = try #require(pool.allocate())
        #expect(pool.allocate() == nil)
        pool.release(first)
        #expect(pool.allocate() == nil, "in quarantine")
        #expect(pool.inQuarantine == 1)
        try await Task.sleep(for: .milliseconds(300))
        #expect(pool.allocate() == first)
        pool.release(second)
        pool.release(second)
        #expect(pool.allocated == 1, "releasing twice is harmless")
    }

    @Test func excludedPairsAreSkipped() throws {
        let pool = MediaPortPool(range: 30_000...30_003, quarantine: .zero)
        let pair = try #require(pool.allocate(excluding: [30_000]))
        #expect(pair.rtp == 30_002)
        #expect(pool.allocate(excluding: [30_000]) == nil)
    }
}
