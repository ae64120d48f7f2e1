import PKI
import Testing

@Suite("PKI: PKITime")
struct PKITimeTests {
    @Test func iso8601RoundTrip() throws {
        let time = try #require(PKITime(iso8601: "2026-01-01T00:00:00Z"))
        #expect(time.secondsSince1970 == 1_767_225_600)
        #expect(time.description == "2026-01-01T00:00:00Z")
        #expect(time.date == "2026-01-01")
        #expect(PKITime(secondsSince1970: 0).description == "1970-01-01T00:00:00Z")
        #expect(PKITime(iso8601: "2049-12-31T23:59:59Z")?.description == "2049-12-31T23:59:59Z")
        #expect(PKITime(iso8601: "2050-01-01T00:00:00Z")?.adding(days: 1).description == "2050-01-02T00:00:00Z")
    }

    @Test(arguments: ["2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01 00:00:00Z", "2026-01-01T00:00:00", "", "x"])
    func invalidTextIsRefused(text: String) {
        #expect(PKITime(iso8601: text) == nil)
    }

    @Test func arithmeticAndOrder() throws {
        let start = try #require(PKITime(year: 2026, month: 1, day: 1))
        let later = start.adding(days: 30)
        #expect(later.description == "2026-01-31T00:00:00Z")
        #expect(later.seconds(since: start) == 30 * 86_400)
        #expect(start < later)
        #expect(start.adding(seconds: -1).description == "2025-12-31T23:59:59Z")
        #expect(PKITime.now > start.adding(days: -365 * 10))
    }
}
