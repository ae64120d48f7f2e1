import Edge
import Foundation
import Testing

@testable import outpost

@Suite struct CDRCommandTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func timesAreISODatesOrAges() throws {
        #expect(try CallRecordText.time("2026-12-04T10:00:00Z", now: Self.now) == 1_796_378_400_000)
        #expect(try CallRecordText.time("2026-12-04", now: Self.now) == 1_796_342_400_000)
        #expect(try CallRecordText.time("30m", now: Self.now) == 1_800_000_000_000 - 1_800_000)
        #expect(try CallRecordText.time("2d", now: Self.now) == 1_800_000_000_000 - 172_800_000)
        for bad in ["", "yesterday", "2026-13-40", "-5m", "5y", "99999999d", "2026-12-04T25:00:00Z"] {
            #expect(throws: CallRecordText.TimeError.self, "\(bad)") { try CallRecordText.time(bad, now: Self.now) }
        }
    }

    @Test func csvQuotesWhatRFC4180AsksAndEndsLinesWithCRLF() {
        #expect(CallRecordText.csvField("plain") == "plain")
        #expect(CallRecordText.csvField("a,b") == "\"a,b\"")
        #expect(CallRecordText.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CallRecordText.csvField("two\nlines") == "\"two\nlines\"")
        let record = CallRecord(
            id: "abc", callID: "c1", caller: CallParty(number: "2001", displayName: "Smith, \"J\""), callee: CallParty(number: "2002"),
            dialled: "2002", route: "default", mode: "survivable", setupAt: 1_800_000_000_000, answeredAt: 1_800_000_001_000,
            endedAt: 1_800_000_061_000, endedBy: .caller, endStatus: 200, q850Cause: 16, endReason: "the caller hung up", security: .secure)
        let csv = CallRecordText.csv([record])
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines.count == 3 && lines[2].isEmpty)
        #expect(lines[0].split(separator: ",").count == CallRecordText.csvHeader.count)
        #expect(lines[1].contains(",\"Smith, \"\"J\"\"\",") && lines[1].contains(",60.0,caller,200,16,"))
    }

    @Test func theTableAndDetailSayResultAndTalkTime() {
        let record = CallRecord(
            id: "abcdef1234567890", callID: "c1", caller: CallParty(number: "2001"), callee: CallParty(number: "2002"), dialled: "2002",
            route: "default", mode: "normal", setupAt: 0, answeredAt: 1_000, endedAt: 126_000, endedBy: .callee, endStatus: 200, q850Cause: 16,
            security: .nonSecure)
        let table = CallRecordText.table([record])
        #expect(table.hasPrefix("1 call\n"))
        #expect(table.contains("abcdef123456") && table.contains("2:05") && table.contains("200/Q.850 16") && table.contains("non-secure"))
        #expect(CallRecordText.detail(record).contains("talk 2:05, result 200/Q.850 16, ended by callee"))
    }
}
