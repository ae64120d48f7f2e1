import SIP
import SIPDialog
import Testing

@Suite struct DialogCreationTests {
    @Test func aUACGetsAnEarlyDialogFromA180WithATag() throws {
        let dialog = try Dialog(asUACFor: Fixture.invite(), response: Fixture.answer("180 Ringing"))
        #expect(dialog.state == .early)
        #expect(dialog.role == .uac)
        #expect(dialog.id == DialogID(callID: "a84b4c76e66710@pc33.atlanta.example.com", localTag: "1928301774", remoteTag: "a6c85cf"))
        #expect(dialog.localURI.description == "sip:alice@atlanta.example.com")
        #expect(dialog.remoteURI.description == "sip:bob@biloxi.example.com")
        #expect(dialog.remoteTarget.description == "sip:bob@192.0.2.4")
        #expect(dialog.localSequence == 314159)
        #expect(dialog.remoteSequence == nil)
        #expect(!dialog.isSecure)
    }

    @Test func aUACGetsAConfirmedDialogFromA2xxWithTheRouteSetReversed() throws {
        let response = Fixture.answer(
            "200 OK", extra: "Record-Route: <sip:p2.domain.com;lr>\nRecord-Route: <sip:p1.example.com;lr>\n")
        let dialog = try Dialog(asUACFor: Fixture.invite(), response: response)
        #expect(dialog.state == .confirmed)
        #expect(dialog.routeSet.map(\.description) == ["<sip:p1.example.com;lr>", "<sip:p2.domain.com;lr>"])
    }

    /// RFC 3262: a PRACK in the early dialog uses a CSeq the confirmed dialog must keep counting.
    @Test func anEarlyDialogConfirmedByIts2xxKeepsItsSequenceAndTakesThe2xxsTargetAndRoutes() throws {
        var dialog = try Dialog(asUACFor: Fixture.invite(), response: Fixture.answer("180 Ringing", contact: nil))
        let prack = try dialog.makeRequest(.prack, headers: [(.rack, "1 314159 INVITE")])
        #expect(prack.headers[.cseq] == "314160 PRACK")
        let ok = Fixture.answer("200 OK", contact: "<sip:bob@192.0.2.9>", extra: "Record-Route: <sip:p1.example.com;lr>\n")
        #expect(try dialog.received(finalResponse: ok) == .confirmed)
        #expect(dialog.state == .confirmed && dialog.remoteTarget.description == "sip:bob@192.0.2.9")
        #expect(dialog.routeSet.map(\.description) == ["<sip:p1.example.com;lr>"])
        #expect(try dialog.makeRequest(.bye).headers[.cseq] == "314161 BYE")
        var other = try Dialog(asUACFor: Fixture.invite(), response: Fixture.answer("180 Ringing"))
        #expect(throws: DialogError.self) { try other.received(finalResponse: Fixture.answer("200 OK", toTag: "elsewhere")) }
        #expect(try other.received(finalResponse: Fixture.answer("486 Busy Here")) == .terminated)
    }

    @Test func anEarly1xxWithoutContactTargetsTheRequestURIUntilThe2xx() throws {
        let dialog = try Dialog(asUACFor: Fixture.invite(), response: Fixture.answer("183 Session Progress", contact: nil))
        #expect(dialog.remoteTarget.description == "sip:bob@biloxi.example.com")
    }

    /// RFC 3261 §16.12.1.1: the callee's route set is the INVITE's Record-Route in order, its
    /// remote target the caller's Contact.
    @Test func aUASKeepsTheRecordRouteInOrderAsSection16_12_1_1Shows() throws {
        let invite = Fixture.request(
            """
            INVITE sip:callee@u2.domain.com SIP/2.0
            Via: SIP/2.0/UDP p2.domain.com;branch=z9hG4bKp2
            Max-Forwards: 68
            To: <sip:callee@domain.com>
            From: <sip:caller@example.com>;tag=u1tag
            Call-ID: trapezoid@u1.example.com
            CSeq: 1 INVITE
            Contact: sip:caller@u1.example.com
            Record-Route: <sip:p2.domain.com;lr>
            Record-Route: <sip:p1.example.com;lr>
            Content-Length: 0


            """)
        let ok = SIPResponse(respondingTo: invite, statusCode: 200, toTag: "u2tag")
        let dialog = try Dialog(asUASFor: invite, sending: ok)
        #expect(dialog.role == .uas)
        #expect(dialog.state == .confirmed)
        #expect(dialog.id == DialogID(callID: "trapezoid@u1.example.com", localTag: "u2tag", remoteTag: "u1tag"))
        #expect(dialog.remoteTarget.description == "sip:caller@u1.example.com")
        #expect(dialog.routeSet.map(\.description) == ["<sip:p2.domain.com;lr>", "<sip:p1.example.com;lr>"])
        #expect(dialog.remoteSequence == 1)
        #expect(dialog.localSequence == nil)
    }

    @Test func aUASEarlyDialogConfirmsWhenItSendsThe2xxAndEndsWhenItSendsAFailure() throws {
        let invite = Fixture.invite()
        let ringing = SIPResponse(respondingTo: invite, statusCode: 180, toTag: "bobtag")
        var answered = try Dialog(asUASFor: invite, sending: ringing)
        var refused = answered
        #expect(answered.state == .early)
        #expect(answered.didSend(finalResponse: SIPResponse(respondingTo: invite, statusCode: 200, toTag: "bobtag")) == .confirmed)
        #expect(answered.state == .confirmed)
        #expect(refused.didSend(finalResponse: SIPResponse(respondingTo: invite, statusCode: 486, toTag: "bobtag")) == .terminated)
        #expect(refused.state == .terminated)
    }

    @Test func aSipsRequestURIMakesTheDialogSecure() throws {
        var invite = Fixture.invite(contact: "<sips:alice@pc33.atlanta.example.com>")
        invite.uri = try URI(parsing: "sips:bob@biloxi.example.com")
        let dialog = try Dialog(asUACFor: invite, response: Fixture.answer("200 OK", contact: "<sips:bob@192.0.2.4>"))
        #expect(dialog.isSecure)
    }

    @Test func responsesThatCreateNoDialogAreRefused() {
        #expect(throws: DialogError.notDialogCreating(statusCode: 100)) {
            try Dialog(asUACFor: Fixture.invite(), response: Fixture.answer("100 Trying"))
        }
        #expect(throws: DialogError.notDialogCreating(statusCode: 486)) {
            try Dialog(asUACFor: Fixture.invite(), response: Fixture.answer("486 Busy Here"))
        }
    }

    @Test func aResponseWithoutToTagIsNamed() {
        #expect(throws: DialogError.missingTag("To")) {
            try Dialog(asUACFor: Fixture.invite(), response: Fixture.answer("180 Ringing", toTag: nil))
        }
    }

    @Test func aUASRefusesARequestWithoutFromTagAndAResponseWithoutItsOwnTag() {
        var untagged = Fixture.invite()
        untagged.headers.set(.from, "Alice <sip:alice@atlanta.example.com>")
        #expect(throws: DialogError.missingTag("From")) {
            try Dialog(asUASFor: untagged, sending: SIPResponse(respondingTo: untagged, statusCode: 200, toTag: "b"))
        }
        let invite = Fixture.invite()
        #expect(throws: DialogError.missingTag("To")) {
            try Dialog(asUASFor: invite, sending: SIPResponse(respondingTo: invite, statusCode: 200))
        }
    }

    @Test func a2xxWithoutContactIsMalformed() {
        #expect(throws: DialogError.malformed(SIPParseError(element: "Contact", reason: "missing in a 2xx that creates a dialog"))) {
            try Dialog(asUACFor: Fixture.invite(), response: Fixture.answer("200 OK", contact: nil))
        }
    }

    @Test func aContactThatCannotBeATargetIsNamed() throws {
        let two = Fixture.answer("200 OK", contact: "<sip:bob@192.0.2.4>, <sip:bob@192.0.2.5>")
        let error = try #require(throws: DialogError.self) { try Dialog(asUACFor: Fixture.invite(), response: two) }
        #expect(error == .malformed(SIPParseError(element: "Contact", reason: "a dialog needs exactly one Contact address")))
        #expect(error.statusCode == 400)

        let tel = Fixture.answer("200 OK", contact: "<tel:+15551234>")
        let telError = try #require(throws: DialogError.self) { try Dialog(asUACFor: Fixture.invite(), response: tel) }
        guard case .malformed(let parse) = telError else { Issue.record("\(telError)"); return }
        #expect(parse.element == "Contact")

        var wildcard = Fixture.invite()
        wildcard.headers.set(.contact, "*")
        #expect(throws: DialogError.malformed(SIPParseError(element: "Contact", reason: "a dialog needs exactly one Contact address"))) {
            try Dialog(asUASFor: wildcard, sending: SIPResponse(respondingTo: wildcard, statusCode: 200, toTag: "b"))
        }
    }

    @Test func aContactThatDoesNotParseIsAPreciseErrorNotACrash() throws {
        var response = Fixture.answer("200 OK", contact: nil)
        response.headers.append(.contact, "<sip:bob@192.0.2.4")
        let error = try #require(throws: DialogError.self) { try Dialog(asUACFor: Fixture.invite(), response: response) }
        guard case .malformed(let parse) = error else { Issue.record("\(error)"); return }
        #expect(parse.element == "Contact")
    }

    @Test func aMalformedOrUnroutableRecordRouteIsNamed() throws {
        var broken = Fixture.answer("200 OK")
        broken.headers.append(.recordRoute, "<sip:p1.example.com;lr")
        let error = try #require(throws: DialogError.self) { try Dialog(asUACFor: Fixture.invite(), response: broken) }
        guard case .malformed(let parse) = error else { Issue.record("\(error)"); return }
        #expect(parse.element == "Record-Route")

        var tel = Fixture.answer("200 OK")
        tel.headers.append(.recordRoute, "<tel:+15551234>")
        #expect(throws: DialogError.malformed(SIPParseError(element: "Record-Route", reason: "tel URI cannot be routed to"))) {
            try Dialog(asUACFor: Fixture.invite(), response: tel)
        }
    }

    @Test func aResponseForAnotherCallIsNotThisDialogs() {
        var other = Fixture.answer("200 OK")
        other.headers.set(.callID, "someone-else@example.com")
        #expect(throws: DialogError.notInDialog) { try Dialog(asUACFor: Fixture.invite(), response: other) }
    }
}
