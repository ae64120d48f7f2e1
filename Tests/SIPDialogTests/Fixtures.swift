import SIP
import SIPDialog

/// Messages written as the tests (and the RFC) spell them, with bare line feeds.
enum Fixture {
    static func message(_ text: String) -> SIPMessage {
        let wire = text.replacing("\n", with: "\r\n")
        do {
            return try SIPMessageParser.parse(Array(wire.utf8))
        } catch {
            fatalError("fixture does not parse: \(error)\n\(text)")
        }
    }

    static func request(_ text: String) -> SIPRequest {
        guard let request = message(text).request else { fatalError("not a request:\n\(text)") }
        return request
    }

    static func response(_ text: String) -> SIPResponse {
        guard let response = message(text).response else { fatalError("not a response:\n\(text)") }
        return response
    }

    /// Alice's INVITE to Bob (RFC 3261 §4), as the caller sent it.
    static func invite(contact: String = "<sip:alice@pc33.atlanta.example.com>", extra: String = "") -> SIPRequest {
        request(
            """
            INVITE sip:bob@biloxi.example.com SIP/2.0
            Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8
            Max-Forwards: 70
            To: Bob <sip:bob@biloxi.example.com>
            From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
            Call-ID: a84b4c76e66710@pc33.atlanta.example.com
            CSeq: 314159 INVITE
            Contact: \(contact)
            \(extra)Content-Length: 0


            """)
    }

    /// A response to `invite()` from Bob's side, `toTag` naming the fork, `extra` lines before Content-Length.
    static func answer(
        _ status: String, toTag: String? = "a6c85cf", contact: String? = "<sip:bob@192.0.2.4>", extra: String = ""
    ) -> SIPResponse {
        response(
            """
            SIP/2.0 \(status)
            Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8;received=192.0.2.101
            To: Bob <sip:bob@biloxi.example.com>\(toTag.map { ";tag=" + $0 } ?? "")
            From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
            Call-ID: a84b4c76e66710@pc33.atlanta.example.com
            CSeq: 314159 INVITE
            \(contact.map { "Contact: " + $0 + "\n" } ?? "")\(extra)Content-Length: 0


            """)
    }

    /// A request from Bob in the dialog `answer()` created, as Alice's UA receives it.
    static func fromBob(
        _ method: String, cseq: UInt32, toTag: String = "1928301774", fromTag: String = "a6c85cf",
        callID: String = "a84b4c76e66710@pc33.atlanta.example.com", extra: String = ""
    ) -> SIPRequest {
        request(
            """
            \(method) sip:alice@pc33.atlanta.example.com SIP/2.0
            Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKbob\(cseq)
            Max-Forwards: 70
            To: Alice <sip:alice@atlanta.example.com>;tag=\(toTag)
            From: Bob <sip:bob@biloxi.example.com>;tag=\(fromTag)
            Call-ID: \(callID)
            CSeq: \(cseq) \(method)
            \(extra)Content-Length: 0


            """)
    }

    /// Alice's confirmed dialog with Bob, as the UAC.
    static func aliceDialog(extra: String = "") -> Dialog {
        do {
            return try Dialog(asUACFor: invite(), response: answer("200 OK", extra: extra))
        } catch {
            fatalError("fixture dialog: \(error)")
        }
    }

    /// A response to `request` (which Alice sent in her dialog) from Bob.
    static func reply(_ status: Int, to request: SIPRequest, contact: String? = nil) -> SIPResponse {
        var response = SIPResponse(respondingTo: request, statusCode: status)
        response.headers.insert(.via, "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKx")
        if let contact { response.headers.append(.contact, contact) }
        return response
    }

    /// The request as the wire would carry it once the transport adds a Via, parsed back.
    static func onTheWire(_ request: SIPRequest) -> SIPRequest {
        var withVia = request
        withVia.headers.insert(.via, "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKwire")
        do {
            guard let parsed = try SIPMessageParser.parse(SIPSerializer.serialize(withVia)).request else { fatalError("not a request") }
            return parsed
        } catch {
            fatalError("built request does not parse: \(error)")
        }
    }
}
