import SIP
import SIPDialog
import Testing

@Suite struct InDialogReceivingTests {
    @Test func theFirstRequestFromThePeerSetsTheRemoteSequence() {
        var dialog = Fixture.aliceDialog()
        #expect(dialog.receive(Fixture.fromBob("INFO", cseq: 10)) == .accepted(.none))
        #expect(dialog.remoteSequence == 10)
    }

    @Test func aLowerCSeqIsRefusedWith500AndAReason() {
        var dialog = Fixture.aliceDialog()
        _ = dialog.receive(Fixture.fromBob("INFO", cseq: 10))
        let late = Fixture.fromBob("INFO", cseq: 9)
        let outcome = dialog.receive(late)
        #expect(outcome == .rejected(.cseqOutOfOrder(received: 9, last: 10)))
        guard case .rejected(let error) = outcome else { return }
        let response = error.response(to: late)
        #expect(response.statusCode == 500)
        #expect(response.reasonPhrase == "CSeq out of order (9 after 10)")
        #expect(response.headers[.cseq] == "9 INFO")
        #expect(dialog.remoteSequence == 10)
    }

    @Test func theSameOrAHigherCSeqIsAccepted() {
        var dialog = Fixture.aliceDialog()
        _ = dialog.receive(Fixture.fromBob("INFO", cseq: 10))
        #expect(dialog.receive(Fixture.fromBob("INFO", cseq: 10)) == .accepted(.none))
        #expect(dialog.receive(Fixture.fromBob("INFO", cseq: 200)) == .accepted(.none))
        #expect(dialog.remoteSequence == 200)
    }

    @Test func anAckOvertakenByALaterRequestIsNeitherRefusedNorCounted() {
        var dialog = Fixture.aliceDialog()
        _ = dialog.receive(Fixture.fromBob("INFO", cseq: 12))
        #expect(dialog.receive(Fixture.fromBob("ACK", cseq: 11)) == .accepted(.none))
        #expect(dialog.remoteSequence == 12)
    }

    @Test func aReInviteAndAnUpdateRefreshTheRemoteTarget() {
        var dialog = Fixture.aliceDialog()
        #expect(dialog.receive(Fixture.fromBob("INVITE", cseq: 1, extra: "Contact: <sip:bob@198.51.100.7:5070>\n")) == .accepted(.remoteTargetRefreshed))
        #expect(dialog.remoteTarget.description == "sip:bob@198.51.100.7:5070")
        #expect(dialog.receive(Fixture.fromBob("UPDATE", cseq: 2, extra: "Contact: <sip:bob@198.51.100.8>\n")) == .accepted(.remoteTargetRefreshed))
        #expect(dialog.remoteTarget.description == "sip:bob@198.51.100.8")
    }

    @Test func aRequestThatIsNoTargetRefreshLeavesTheTargetAlone() {
        var dialog = Fixture.aliceDialog()
        #expect(dialog.receive(Fixture.fromBob("INFO", cseq: 1, extra: "Contact: <sip:bob@198.51.100.7>\n")) == .accepted(.none))
        #expect(dialog.remoteTarget.description == "sip:bob@192.0.2.4")
    }

    @Test func aByeEndsTheDialogAndAnythingAfterItIsNotInIt() {
        var dialog = Fixture.aliceDialog()
        #expect(dialog.receive(Fixture.fromBob("BYE", cseq: 1)) == .accepted(.terminated))
        #expect(dialog.state == .terminated)
        let after = Fixture.fromBob("INFO", cseq: 2)
        #expect(dialog.receive(after) == .rejected(.notInDialog))
        #expect(DialogError.notInDialog.response(to: after).statusCode == 481)
    }

    @Test func aRequestWithOtherTagsOrCallIDIsNotInTheDialog() {
        var dialog = Fixture.aliceDialog()
        #expect(dialog.receive(Fixture.fromBob("BYE", cseq: 1, toTag: "not-alice")) == .rejected(.notInDialog))
        #expect(dialog.receive(Fixture.fromBob("BYE", cseq: 1, fromTag: "other-fork")) == .rejected(.notInDialog))
        #expect(dialog.receive(Fixture.fromBob("BYE", cseq: 1, callID: "other@example.com")) == .rejected(.notInDialog))
        #expect(dialog.state == .confirmed)
    }

    @Test func aRequestMissingATagIsNamedAnd400() {
        var dialog = Fixture.aliceDialog()
        var untagged = Fixture.fromBob("BYE", cseq: 1)
        untagged.headers.set(.from, "<sip:bob@biloxi.example.com>")
        let outcome = dialog.receive(untagged)
        #expect(outcome == .rejected(.missingTag("From")))
        #expect(DialogError.missingTag("From").response(to: untagged).statusCode == 400)
        #expect(dialog.state == .confirmed)
    }

    @Test func aRequestWithoutOrWithABrokenCSeqIsNamedAnd400() {
        var dialog = Fixture.aliceDialog()
        var missing = Fixture.fromBob("INFO", cseq: 3)
        missing.headers.remove(.cseq)
        #expect(dialog.receive(missing) == .rejected(.malformed(SIPParseError(element: "CSeq", reason: "missing"))))
        var broken = Fixture.fromBob("INFO", cseq: 3)
        broken.headers.set(.cseq, "99999999999 INFO")
        guard case .rejected(let error) = dialog.receive(broken) else { Issue.record("accepted"); return }
        #expect(error.statusCode == 400)
        #expect(error.reasonPhrase.hasPrefix("Bad CSeq"))
        #expect(dialog.remoteSequence == nil)
    }

    @Test func aReInviteWithABrokenContactIsRefusedAndChangesNothing() {
        var dialog = Fixture.aliceDialog()
        var reInvite = Fixture.fromBob("INVITE", cseq: 5)
        // The parser would refuse it; a message assembled by hand reaches the dialog anyway.
        reInvite.headers.append(.contact, "<sip:bob@198.51.100.7")
        let outcome = dialog.receive(reInvite)
        guard case .rejected(.malformed(let error)) = outcome else { Issue.record("\(outcome)"); return }
        #expect(error.element == "Contact")
        #expect(dialog.remoteSequence == nil)
        #expect(dialog.remoteTarget.description == "sip:bob@192.0.2.4")
    }

    @Test func a2xxToAReInviteRefreshesTheTarget() throws {
        var dialog = Fixture.aliceDialog()
        let reInvite = try dialog.makeRequest(.invite, headers: [(.contact, "<sip:alice@pc33.atlanta.example.com>")])
        let ok = Fixture.reply(200, to: reInvite, contact: "<sip:bob@203.0.113.9>")
        #expect(try dialog.receive(ok, to: reInvite) == .remoteTargetRefreshed)
        #expect(dialog.remoteTarget.description == "sip:bob@203.0.113.9")
    }

    @Test func a481OrA408EndsTheDialog() throws {
        for status in [481, 408] {
            var dialog = Fixture.aliceDialog()
            let info = try dialog.makeRequest(.info)
            #expect(try dialog.receive(Fixture.reply(status, to: info), to: info) == .terminated)
            #expect(dialog.state == .terminated)
        }
        var dialog = Fixture.aliceDialog()
        let info = try dialog.makeRequest(.info)
        #expect(try dialog.receive(Fixture.reply(404, to: info), to: info) == .none)
        #expect(dialog.state == .confirmed)
    }

    @Test func anyFinalAnswerToByeEndsTheDialogButAChallengeDoesNot() throws {
        var dialog = Fixture.aliceDialog()
        let bye = try dialog.makeRequest(.bye)
        #expect(try dialog.receive(Fixture.reply(407, to: bye), to: bye) == .none)
        #expect(dialog.state == .confirmed)
        #expect(try dialog.receive(Fixture.reply(200, to: bye), to: bye) == .terminated)
    }

    @Test func anEarlyDialogIsConfirmedByA2xxWhichFixesTheRouteSet() throws {
        let invite = Fixture.invite()
        var dialog = try Dialog(asUACFor: invite, response: Fixture.answer("180 Ringing", extra: "Record-Route: <sip:early.example.com;lr>\n"))
        let ok = Fixture.answer(
            "200 OK", contact: "<sip:bob@192.0.2.44>",
            extra: "Record-Route: <sip:p2.example.com;lr>\nRecord-Route: <sip:p1.example.com;lr>\n")
        #expect(try dialog.receive(ok, to: invite) == .confirmed)
        #expect(dialog.state == .confirmed)
        #expect(dialog.remoteTarget.description == "sip:bob@192.0.2.44")
        #expect(dialog.routeSet.map(\.description) == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"])
    }

    @Test func anEarlyDialogEndsOnAFailure() throws {
        let invite = Fixture.invite()
        var dialog = try Dialog(asUACFor: invite, response: Fixture.answer("180 Ringing"))
        #expect(try dialog.receive(Fixture.answer("180 Ringing"), to: invite) == .none)
        #expect(try dialog.receive(Fixture.answer("486 Busy Here"), to: invite) == .terminated)
        #expect(dialog.state == .terminated)
    }

    @Test func aResponseFromAnotherForkIsNotThisDialogsAndChangesNothing() throws {
        let invite = Fixture.invite()
        var dialog = try Dialog(asUACFor: invite, response: Fixture.answer("180 Ringing", toTag: "fork1"))
        #expect(throws: DialogError.notInDialog) { try dialog.receive(Fixture.answer("200 OK", toTag: "fork2"), to: invite) }
        #expect(dialog.state == .early)
    }

    @Test func a2xxConfirmingWithABrokenRecordRouteThrowsAndLeavesTheDialogEarly() throws {
        let invite = Fixture.invite()
        var dialog = try Dialog(asUACFor: invite, response: Fixture.answer("180 Ringing"))
        let broken = Fixture.answer("200 OK", extra: "Record-Route: sip:p1.example.com;lr, <\n")
        let error = try #require(throws: DialogError.self) { try dialog.receive(broken, to: invite) }
        guard case .malformed(let parse) = error else { Issue.record("\(error)"); return }
        #expect(parse.element == "Record-Route")
        #expect(dialog.state == .early)
    }
}
