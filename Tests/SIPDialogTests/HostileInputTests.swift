import SIP
import SIPDialog
import Testing

/// Messages a peer should never send, assembled by hand past the parser's own checks: every one
/// must come back as a precise error naming the header, never a crash or a half-updated dialog.
@Suite struct HostileInputTests {
    static let brokenValues: [(SIPHeaderName, String, String)] = [
        (.to, "<sip:bob@biloxi.example.com", "To"),
        (.to, "Bob <sip:bob@biloxi.example.com>;tag=a, <sip:eve@example.com>;tag=b", "To"),
        (.to, "", "To"),
        (.contact, "<sip:bob@192.0.2.4>;expires=", "Contact"),
        (.contact, "\"unterminated <sip:bob@192.0.2.4>", "Contact"),
        (.contact, "<>", "Contact"),
        (.recordRoute, "<sip:p1.example.com;lr>,", "Record-Route"),
        (.recordRoute, "<sip:[::1>", "Record-Route"),
        (.recordRoute, "<mailto:proxy@example.com>", "Record-Route"),
        (.callID, "two words", "Call-ID"),
    ]

    @Test(arguments: brokenValues)
    func aBrokenHeaderInTheCreatingResponseIsNamed(name: SIPHeaderName, value: String, element: String) throws {
        var response = Fixture.answer("200 OK")
        response.headers.set(name, value)
        let error = try #require(throws: DialogError.self) { try Dialog(asUACFor: Fixture.invite(), response: response) }
        guard case .malformed(let parse) = error else { Issue.record("\(error)"); return }
        #expect(parse.element == element)
        #expect(error.statusCode == 400)
        #expect(!error.reasonPhrase.contains("\r") && !error.reasonPhrase.contains("\n"))
    }

    @Test(arguments: brokenValues.filter { $0.0 != .recordRoute })
    func aBrokenHeaderInAnInDialogRequestLeavesTheDialogAsItWas(name: SIPHeaderName, value: String, element: String) {
        var dialog = Fixture.aliceDialog()
        let before = dialog
        var reInvite = Fixture.fromBob("INVITE", cseq: 7, extra: "Contact: <sip:bob@198.51.100.1>\n")
        reInvite.headers.set(name == .to ? .from : name, value)
        guard case .rejected(let error) = dialog.receive(reInvite) else { Issue.record("accepted"); return }
        #expect([400, 481].contains(error.statusCode))
        #expect(dialog == before)
    }

    @Test func aSecureDialogRefusesATargetOutsideSips() throws {
        var invite = Fixture.invite(contact: "<sips:alice@pc33.atlanta.example.com>")
        invite.uri = try URI(parsing: "sips:bob@biloxi.example.com")
        #expect(throws: DialogError.malformed(SIPParseError(element: "Contact", reason: "a sips dialog needs a sips Contact"))) {
            try Dialog(asUACFor: invite, response: Fixture.answer("200 OK", contact: "<sip:bob@192.0.2.4>"))
        }
        var dialog = try Dialog(asUACFor: invite, response: Fixture.answer("200 OK", contact: "<sips:bob@192.0.2.4>"))
        let downgrade = Fixture.fromBob("INVITE", cseq: 1, extra: "Contact: <sip:bob@192.0.2.4;transport=udp>\n")
        #expect(dialog.receive(downgrade) == .rejected(.malformed(SIPParseError(element: "Contact", reason: "a sips dialog needs a sips Contact"))))
        #expect(dialog.remoteTarget.description == "sips:bob@192.0.2.4")
    }

    @Test func theLocalCSeqStopsBelow2To31() throws {
        var invite = Fixture.invite()
        invite.headers.set(.cseq, "2147483647 INVITE")
        var response = Fixture.answer("200 OK")
        response.headers.set(.cseq, "2147483647 INVITE")
        var dialog = try Dialog(asUACFor: invite, response: response)
        #expect(throws: DialogError.sequenceExhausted) { try dialog.makeRequest(.bye) }
        #expect(dialog.localSequence == 2147483647)
        #expect(try dialog.makeAck(forInviteSequence: 2147483647).method == .ack)
    }
}
