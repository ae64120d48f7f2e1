import Testing

@testable import SIP

@Suite struct RequestBuildingTests {
    @Test func anOutOfDialogRequestParsesBackWithItsHeaders() throws {
        let request = SIPRequest(
            outOfDialog: .options, uri: try URI(parsing: "sip:192.0.2.10:5060"), from: "sip:outpost@192.0.2.1", to: "sip:192.0.2.10:5060",
            callID: "c1", cseq: 7, extra: [(.accept, "application/sdp")])
        var bytes = request.serialized
        // The transport adds the Via; a parser demands one.
        bytes.insert(contentsOf: Array("Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\n".utf8), at: Array(request.serialized).firstIndex(of: 0x0A)! + 1)
        let parsed = try #require(try SIPMessage(parsing: bytes).request)
        #expect(try parsed.headers.cseq().sequence == 7)
        #expect(try parsed.headers.cseq().method == .options)
        #expect(try parsed.headers.from().tag?.isEmpty == false)
        #expect(try parsed.headers.to().tag == nil)
        #expect(try parsed.headers.maxForwards() == 70)
        #expect(parsed.headers[.accept] == "application/sdp")
        #expect(try parsed.headers.contentLength() == 0)
    }
}
