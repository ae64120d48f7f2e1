import Foundation
import Testing

@testable import SIP

@Suite struct MessageParserTests {
    @Test func registerRoundTripsByteForByte() throws {
        let message = try SIPMessage(parsing: Fixtures.register)
        #expect(message.serialized == Fixtures.register)
        let request = try #require(message.request)
        #expect(request.method == .register)
        #expect(request.uri.sipURI?.host == "10.1.1.1")
        let via = try request.headers.topVia()
        #expect(via.transport == "TLS")
        #expect(via.port == 51234)
        #expect(via.branch == "z9hG4bK6f1a2b3c")
        #expect(via.requestsRport && via.rport == nil)
        guard case .address(let contact) = try request.headers.contacts().first else {
            Issue.record("no contact")
            return
        }
        #expect(contact.parameters.value("+sip.instance") == "\"<urn:uuid:00000000-0000-0000-0000-001122334455>\"")
        #expect(contact.parameters.value("reg-id") == "1")
        #expect(contact.uri.sipURI?.transportParameter == "tls")
        #expect(try request.headers.expires() == 3600)
        #expect(request.headers.tokens(.supported) == ["outbound", "path", "gruu"])
    }

    @Test func inviteWithBodyRoundTripsByteForByte() throws {
        let message = try SIPMessage(parsing: Fixtures.invite)
        #expect(message.serialized == Fixtures.invite)
        #expect(message.body == Fixtures.sdpBody)
        let request = try #require(message.request)
        #expect(try request.headers.cseq() == CSeq(101, .invite))
        #expect(try request.headers.from().displayName == "Reception")
        #expect(try request.headers.from().tag == "00112233445500021d7d7e6c-1f2e3d4c")
        #expect(try request.headers.to().tag == nil)
        #expect(request.headers.tokens(.allow).count == 11)
        #expect(request.headers[SIPHeaderName("session-id")]?.hasPrefix("8e2a4c06") == true)
    }

    @Test func compactFormsFoldingAndCaseBecomeCanonical() throws {
        let text = Fixtures.lines(
            "OPTIONS sip:edge.example.com SIP/2.0",
            "v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc",
            " ,SIP/2.0/TCP 192.0.2.2;branch=z9hG4bKdef",
            "f: <sip:a@example.com>;tag=1",
            "T : <sip:edge.example.com>",
            "i: abc@192.0.2.1",
            "CSEQ:   7\t OPTIONS",
            "X-Custom-Header:  kept  as is  ",
            "l: 0",
            "", "")
        let message = try SIPMessage(parsing: text)
        let request = try #require(message.request)
        #expect(try request.headers.vias().map(\.host) == ["192.0.2.1", "192.0.2.2"])
        #expect(request.headers.fields.map(\.name.canonical) == ["Via", "From", "To", "Call-ID", "CSeq", "X-Custom-Header", "Content-Length"])
        #expect(request.headers[SIPHeaderName("x-custom-header")] == "kept  as is")
        let canonical = Fixtures.lines(
            "OPTIONS sip:edge.example.com SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc ,SIP/2.0/TCP 192.0.2.2;branch=z9hG4bKdef",
            "From: <sip:a@example.com>;tag=1",
            "To: <sip:edge.example.com>",
            "Call-ID: abc@192.0.2.1",
            "CSeq: 7\t OPTIONS",
            "X-Custom-Header: kept  as is",
            "Content-Length: 0",
            "", "")
        #expect(message.serialized == canonical)
        #expect(try SIPMessage(parsing: canonical) == message)
    }

    @Test func responsesParseWithEmptyAndUTF8ReasonPhrases() throws {
        let base = ["Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1", "From: <sip:a@b>;tag=1", "To: <sip:c@d>;tag=2",
                    "Call-ID: x", "CSeq: 1 INVITE", "Content-Length: 0", "", ""]
        let empty = try SIPMessage(parsing: Array((["SIP/2.0 180 "] + base).joined(separator: "\r\n").utf8))
        #expect(empty.response?.statusCode == 180)
        #expect(empty.response?.reasonPhrase == "")
        let utf8 = try SIPMessage(parsing: Array((["SIP/2.0 200 Très bien ☺"] + base).joined(separator: "\r\n").utf8))
        #expect(utf8.response?.reasonPhrase == "Très bien ☺")
    }

    @Test func datagramBodyIsCutAtContentLengthAndMissingLengthTakesTheRest() throws {
        var bytes = Fixtures.invite
        bytes += Array("garbage after the message".utf8)
        #expect(try SIPMessage(parsing: bytes).body == Fixtures.sdpBody)
        let withoutLength = String(decoding: Fixtures.invite, as: UTF8.self)
            .replacingOccurrences(of: "Content-Length: \(Fixtures.sdpBody.count)\r\n", with: "")
        #expect(try SIPMessage(parsing: Array(withoutLength.utf8)).body == Fixtures.sdpBody)
    }

    @Test(arguments: [
        ("INVITE  sip:a@b SIP/2.0", "Request-Line"),
        ("INVITE sip:a@b SIP/2.0 ", "Request-Line"),
        ("INVITE <sip:a@b> SIP/2.0", "Request-URI"),
        ("INVITE sip:a@b SIP/3.0", "SIP-Version"),
        ("INVITE sip:a@b?Route=%3Csip:x%3E SIP/2.0", "Request-URI"),
        ("SIP/2.0 4294967301 Big", "Status-Line"),
        ("SIP/2.0 99 Low", "Status-Line"),
    ])
    func malformedStartLinesNameTheElement(startLine: String, element: String) {
        let method = startLine.hasPrefix("SIP/") ? "INVITE" : "INVITE"
        let text = [startLine, "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "From: <sip:a@b>;tag=1", "To: <sip:c@d>",
                    "Call-ID: x", "CSeq: 1 \(method)", "Content-Length: 0", "", ""].joined(separator: "\r\n")
        #expect(throws: SIPParseError.self) { try SIPMessage(parsing: Array(text.utf8)) }
        do {
            _ = try SIPMessage(parsing: Array(text.utf8))
        } catch {
            #expect(error.element == element, "\(error)")
        }
    }

    @Test(arguments: [
        ("Call-ID", "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCSeq: 1 OPTIONS"),
        ("CSeq", "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 INVITE"),
        ("CSeq", "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: -1 OPTIONS"),
        ("To", "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nTo: <sip:e@f>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS"),
        ("From", "From: \"unterminated <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS"),
        ("To", "From: <sip:a@b>;tag=1\r\nTo: < sip:c@d >\r\nCall-ID: x\r\nCSeq: 1 OPTIONS"),
        ("Max-Forwards", "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 300"),
        ("Content-Length", "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 10\r\nContent-Length: 10"),
        ("Content-Length", "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 99"),
        ("Contact", "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContact: sip:a@b?x=y"),
        ("Via", "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nVia: SIP/2.0/UDP 192.0.2.15;;,;,,"),
    ])
    func faultyHeadersAreNamed(element: String, headers: String) {
        let text = "OPTIONS sip:edge SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\(headers)\r\n\r\n"
        do {
            _ = try SIPMessage(parsing: Array(text.utf8))
            Issue.record("accepted: \(headers)")
        } catch {
            #expect(error.element == element, "\(error)")
            #expect(error.reasonPhrase.hasPrefix("Bad \(element)"))
        }
    }

    @Test func hostileBytesAreRefusedNotCrashed() {
        let cases: [[UInt8]] = [
            [], [0x0D, 0x0A], Array("INVITE".utf8), Array("\u{0}\u{1}\u{2}".utf8),
            Array("OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n".utf8),
            Array("OPTIONS sip:a SIP/2.0\r\n: novalue\r\n\r\n".utf8),
            [0xFF, 0xFE] + Array(" sip:a SIP/2.0\r\n\r\n".utf8),
            Array("OPTIONS sip:a SIP/2.0\r\nX: \u{FF}\r\n\r\n".utf8) + [0xC3, 0x28],
            Array((["OPTIONS sip:a SIP/2.0"] + Array(repeating: "X-Bomb: 1", count: 10_000) + ["", ""]).joined(separator: "\r\n").utf8),
            Array(("OPTIONS sip:a SIP/2.0\r\nX-Long: " + String(repeating: "a", count: 100_000) + "\r\n\r\n").utf8),
        ]
        for bytes in cases {
            #expect(throws: SIPParseError.self) { try SIPMessage(parsing: bytes) }
        }
    }

    @Test func salvagedHeadersLetA400BeBuilt() throws {
        let text = "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK77\r\nFrom: <sip:a@b>;tag=9\r\nTo: <sip:c@d>\r\nCall-ID: q\r\nCSeq: 1 INVITE\r\nMax-Forwards: 9999\r\n\r\n"
        let bytes = Array(text.utf8)
        let error = #expect(throws: SIPParseError.self) { try SIPMessage(parsing: bytes) }
        #expect(error?.element == "Max-Forwards")
        let headers = try #require(bytes.withUnsafeBufferPointer { SIPMessageParser.salvageRequestHeaders($0) })
        let response = SIPResponse(respondingTo: headers, statusCode: 400, reasonPhrase: error?.reasonPhrase, toTag: "t1")
        let reparsed = try SIPMessage(parsing: response.serialized)
        #expect(reparsed.response?.statusCode == 400)
        #expect(reparsed.response?.reasonPhrase.hasPrefix("Bad Max-Forwards") == true)
        #expect(try reparsed.headers.to().tag == "t1")
        #expect(try reparsed.headers.topVia().branch == "z9hG4bK77")
    }
}

@Suite struct ParserEdgeCaseTests {
    @Test func messageAtTheFieldLimitWithoutContentLengthStillRoundTrips() throws {
        var lines = ["OPTIONS sip:a SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "From: <sip:a@b>;tag=1", "To: <sip:c@d>",
                     "Call-ID: x", "CSeq: 1 OPTIONS"]
        while lines.count - 1 < SIPMessageParser.maximumHeaderFields { lines.append("X-Pad: \(lines.count)") }
        let message = try SIPMessage(parsing: Array((lines + ["", ""]).joined(separator: "\r\n").utf8))
        #expect(message.headers.count == SIPMessageParser.maximumHeaderFields)
        let canonical = message.serialized
        #expect(try SIPMessage(parsing: canonical).serialized == canonical)
        let tooMany = (lines + ["X-Pad: over", "", ""]).joined(separator: "\r\n")
        #expect(throws: SIPParseError.self) { try SIPMessage(parsing: Array(tooMany.utf8)) }
    }

    @Test func emptyListValuesDoNotBreakEditing() throws {
        var headers: SIPHeaders = [(.route, ""), (.via, "")]
        headers.removeFirstValue(.route)
        #expect(!headers.contains(.route))
        headers.replaceTopVia(with: Via(transport: "UDP", host: "192.0.2.1", port: 5060))
        #expect(headers[.via] == "SIP/2.0/UDP 192.0.2.1:5060")
    }
}
