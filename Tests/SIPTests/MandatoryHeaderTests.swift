import Testing

@testable import SIP

/// RFC 3261 §8.2 / issue 16 §5: a request missing mandatory headers is refused naming every one
/// of them, and can be answered as long as it has a Via.
@Suite struct MandatoryHeaderTests {
    static func request(without missing: Set<String>, method: String = "OPTIONS") -> [UInt8] {
        let lines = [
            ("Via", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1"), ("From", "<sip:a@b>;tag=1"), ("To", "<sip:c@d>"), ("Call-ID", "x"),
            ("CSeq", "1 \(method)"), ("Max-Forwards", "70"),
        ].filter { !missing.contains($0.0) }.map { "\($0.0): \($0.1)\r\n" }
        return Array(("\(method) sip:c@d SIP/2.0\r\n" + lines.joined() + "Content-Length: 0\r\n\r\n").utf8)
    }

    @Test(arguments: [
        (["From"], "Bad From: missing"),
        (["From", "To", "Call-ID"], "Bad From: missing, as are To and Call-ID"),
        (["Call-ID", "CSeq"], "Bad Call-ID: missing, as is CSeq"),
        (["Via", "To"], "Bad Via: missing, as is To"),
    ])
    func everyMissingHeaderIsNamed(missing: [String], phrase: String) {
        let error = #expect(throws: SIPParseError.self) { try SIPMessage(parsing: Self.request(without: Set(missing))) }
        #expect(error?.element == missing[0])
        #expect(error?.reasonPhrase == phrase)
    }

    @Test func aViaIsEnoughToAnswer() throws {
        let bytes = Self.request(without: ["From", "To", "Call-ID", "CSeq"])
        let error = #expect(throws: SIPParseError.self) { try SIPMessage(parsing: bytes) }
        let headers = try #require(bytes.withUnsafeBufferPointer { SIPMessageParser.salvageRequestHeaders($0) })
        let response = SIPResponse(respondingTo: headers, statusCode: 400, reasonPhrase: error?.reasonPhrase)
        let text = String(decoding: response.serialized, as: UTF8.self)
        #expect(text.hasPrefix("SIP/2.0 400 Bad From: missing, as are To, Call-ID and CSeq\r\n"))
        #expect(text.contains("Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"))
    }

    @Test func withoutAViaOrForAnACKThereIsNothingToAnswer() {
        let noVia = Self.request(without: ["Via", "From"])
        #expect(noVia.withUnsafeBufferPointer { SIPMessageParser.salvageRequestHeaders($0) } == nil)
        let ack = Self.request(without: ["From"], method: "ACK")
        #expect(throws: SIPParseError.self) { try SIPMessage(parsing: ack) }
        #expect(ack.withUnsafeBufferPointer { SIPMessageParser.salvageRequestHeaders($0) } == nil)
    }

    /// RFC 4475 §3.4.1 (inv2543): a request without Max-Forwards is still well-formed; a proxy
    /// supplies it (RFC 3261 §16.6), so the parser does not refuse it.
    @Test func maxForwardsMayBeAbsent() throws {
        #expect(try SIPMessage(parsing: Self.request(without: ["Max-Forwards"])).request != nil)
    }
}
