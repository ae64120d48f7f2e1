import SIP
import SIPDialog
import Testing

@Suite struct ForkingTests {
    let callID = "a84b4c76e66710@pc33.atlanta.example.com"

    func id(_ remoteTag: String) -> DialogID { DialogID(callID: callID, localTag: "1928301774", remoteTag: remoteTag) }

    @Test func two1xxWithDifferentTagsMakeTwoEarlyDialogs() throws {
        var set = try InviteDialogSet(invite: Fixture.invite())
        #expect(try set.receive(Fixture.answer("100 Trying", toTag: nil)) == [])
        #expect(try set.receive(Fixture.answer("180 Ringing", toTag: nil, contact: nil)) == [])
        #expect(try set.receive(Fixture.answer("180 Ringing", toTag: "fork1", contact: "<sip:bob@192.0.2.1>")) == [.earlyDialogCreated(id("fork1"))])
        #expect(try set.receive(Fixture.answer("183 Session Progress", toTag: "fork2", contact: "<sip:bob@192.0.2.2>")) == [.earlyDialogCreated(id("fork2"))])
        #expect(try set.receive(Fixture.answer("180 Ringing", toTag: "fork1", contact: "<sip:bob@192.0.2.1>")) == [])
        #expect(set.dialogs.map(\.id) == [id("fork1"), id("fork2")])
        #expect(set.dialogs.map(\.state) == [.early, .early])
        #expect(set.dialog(id("fork2"))?.remoteTarget.description == "sip:bob@192.0.2.2")
    }

    @Test func theFirst2xxConfirmsItsForkAndEndsTheOtherEarlyDialogs() throws {
        var set = try InviteDialogSet(invite: Fixture.invite())
        _ = try set.receive(Fixture.answer("180 Ringing", toTag: "fork1", contact: "<sip:bob@192.0.2.1>"))
        _ = try set.receive(Fixture.answer("180 Ringing", toTag: "fork2", contact: "<sip:bob@192.0.2.2>"))
        let actions = try set.receive(Fixture.answer("200 OK", toTag: "fork2", contact: "<sip:bob@192.0.2.22>"))
        #expect(actions == [.confirmed(id("fork2")), .terminated(id("fork1"))])
        #expect(set.chosen == id("fork2"))
        #expect(set.dialog(id("fork2"))?.state == .confirmed)
        #expect(set.dialog(id("fork2"))?.remoteTarget.description == "sip:bob@192.0.2.22")
        #expect(set.dialog(id("fork1"))?.state == .terminated)
        // Its retransmission asks the caller for its own ACK again.
        #expect(try set.receive(Fixture.answer("200 OK", toTag: "fork2", contact: "<sip:bob@192.0.2.22>")) == [.resendAck(id("fork2"))])
    }

    @Test func aSecond2xxFromAnotherForkIsAcknowledgedAndThenEnded() throws {
        var set = try InviteDialogSet(invite: Fixture.invite())
        _ = try set.receive(Fixture.answer("180 Ringing", toTag: "fork1", contact: "<sip:bob@192.0.2.1>"))
        _ = try set.receive(Fixture.answer("180 Ringing", toTag: "fork2", contact: "<sip:bob@192.0.2.2>"))
        _ = try set.receive(Fixture.answer("200 OK", toTag: "fork1", contact: "<sip:bob@192.0.2.1>"))

        let second = Fixture.answer("200 OK", toTag: "fork2", contact: "<sip:bob@192.0.2.2>", extra: "Record-Route: <sip:p9.example.com;lr>\n")
        let actions = try set.receive(second)
        guard actions.count == 3, case .send(let ack) = actions[0], case .send(let bye) = actions[1] else {
            Issue.record("\(actions)")
            return
        }
        #expect(actions[2] == .terminated(id("fork2")))
        #expect(ack.method == .ack)
        #expect(try ack.headers.cseq() == CSeq(314159, .ack))
        #expect(try ack.headers.to().tag == "fork2")
        #expect(ack.uri.description == "sip:bob@192.0.2.2")
        #expect(ack.headers.values(.route) == ["<sip:p9.example.com;lr>"])
        #expect(bye.method == .bye)
        #expect(try bye.headers.cseq() == CSeq(314160, .bye))
        #expect(try bye.headers.to().tag == "fork2")
        #expect(set.chosen == id("fork1"))
        #expect(set.dialog(id("fork1"))?.state == .confirmed)
        #expect(set.dialog(id("fork2"))?.state == .terminated)

        // The unwanted fork retransmits its 2xx until it sees an ACK: it gets the same ACK again.
        #expect(try set.receive(second) == [.send(ack)])
    }

    @Test func a2xxFromAForkThatNeverRangCreatesAConfirmedDialog() throws {
        var set = try InviteDialogSet(invite: Fixture.invite())
        _ = try set.receive(Fixture.answer("180 Ringing", toTag: "fork1", contact: "<sip:bob@192.0.2.1>"))
        #expect(try set.receive(Fixture.answer("200 OK", toTag: "fork3")) == [.confirmed(id("fork3")), .terminated(id("fork1"))])
        #expect(set.dialogs.count == 2)
    }

    @Test func aFailureEndsEveryEarlyDialog() throws {
        var set = try InviteDialogSet(invite: Fixture.invite())
        _ = try set.receive(Fixture.answer("180 Ringing", toTag: "fork1"))
        _ = try set.receive(Fixture.answer("180 Ringing", toTag: "fork2"))
        #expect(try set.receive(Fixture.answer("486 Busy Here", toTag: "fork1")) == [.terminated(id("fork1")), .terminated(id("fork2"))])
        #expect(set.isAnswered)
        // Nothing starts ringing after the final answer.
        #expect(try set.receive(Fixture.answer("180 Ringing", toTag: "fork4")) == [])
    }

    @Test func abandoningBeforeAnyAnswerCancelsTheInviteAndAfterTheAnswerSendsBye() throws {
        var ringing = try InviteDialogSet(invite: Fixture.invite())
        _ = try ringing.receive(Fixture.answer("180 Ringing", toTag: "fork1"))
        #expect(try ringing.abandon() == [.cancelInvite])
        #expect(ringing.dialog(id("fork1"))?.state == .early)
        #expect(try ringing.receive(Fixture.answer("487 Request Terminated", toTag: "fork1")) == [.terminated(id("fork1"))])

        var answered = try InviteDialogSet(invite: Fixture.invite())
        _ = try answered.receive(Fixture.answer("200 OK", toTag: "fork1"))
        let actions = try answered.abandon()
        guard actions.count == 2, case .send(let bye) = actions[0] else { Issue.record("\(actions)"); return }
        #expect(bye.method == .bye)
        #expect(actions[1] == .terminated(id("fork1")))
        #expect(try answered.abandon() == [])
    }

    /// The CANCEL/2xx race: the callee answered before the CANCEL reached it.
    @Test func a2xxThatBeatsTheCancelIsAcknowledgedAndEnded() throws {
        var set = try InviteDialogSet(invite: Fixture.invite())
        _ = try set.receive(Fixture.answer("180 Ringing", toTag: "fork1"))
        _ = try set.receive(Fixture.answer("180 Ringing", toTag: "fork2"))
        #expect(try set.abandon() == [.cancelInvite])
        #expect(try set.abandon() == [])
        let actions = try set.receive(Fixture.answer("200 OK", toTag: "fork1"))
        guard actions.count == 4, case .send(let ack) = actions[0], case .send(let bye) = actions[1] else {
            Issue.record("\(actions)")
            return
        }
        #expect(ack.method == .ack)
        #expect(bye.method == .bye)
        #expect(Array(actions[2...]) == [.terminated(id("fork1")), .terminated(id("fork2"))])
        #expect(set.chosen == nil)
    }

    @Test func a2xxAfterAFailureIsNotTheCall() throws {
        var set = try InviteDialogSet(invite: Fixture.invite())
        _ = try set.receive(Fixture.answer("180 Ringing", toTag: "fork1"))
        _ = try set.receive(Fixture.answer("503 Service Unavailable", toTag: "fork1"))
        let actions = try set.receive(Fixture.answer("200 OK", toTag: "fork1"))
        #expect(actions.count == 3)
        #expect(actions.last == .terminated(id("fork1")))
        #expect(set.chosen == nil)
        #expect(set.dialog(id("fork1"))?.state == .terminated)
    }

    @Test func theEndOfTheInviteTransactionEndsUnansweredEarlyDialogs() throws {
        var set = try InviteDialogSet(invite: Fixture.invite())
        _ = try set.receive(Fixture.answer("180 Ringing", toTag: "fork1"))
        #expect(set.inviteTransactionEnded() == [.terminated(id("fork1"))])
    }

    @Test func aRequestForNoDialogOfTheSetIsReportedAsNotInDialog() throws {
        var set = try InviteDialogSet(invite: Fixture.invite())
        _ = try set.receive(Fixture.answer("200 OK", toTag: "fork1"))
        #expect(try set.dialog(for: Fixture.fromBob("BYE", cseq: 1, fromTag: "fork1")).id == id("fork1"))
        #expect(throws: DialogError.notInDialog) { try set.dialog(for: Fixture.fromBob("BYE", cseq: 1, fromTag: "fork9")) }
        #expect(DialogError.notInDialog.statusCode == 481)
    }

    @Test func theCallerUpdatesTheSetAfterUsingADialog() throws {
        var set = try InviteDialogSet(invite: Fixture.invite())
        _ = try set.receive(Fixture.answer("200 OK", toTag: "fork1"))
        var dialog = try #require(set.dialog(id("fork1")))
        _ = try dialog.makeRequest(.info)
        set.update(dialog)
        #expect(set.dialog(id("fork1"))?.localSequence == 314160)
    }

    @Test func responsesForAnotherInviteOrWithoutHeadersAreRefused() throws {
        var set = try InviteDialogSet(invite: Fixture.invite())
        var other = Fixture.answer("180 Ringing")
        other.headers.set(.callID, "other@example.com")
        #expect(throws: DialogError.notInDialog) { try set.receive(other) }
        var noCallID = Fixture.answer("180 Ringing")
        noCallID.headers.remove(.callID)
        #expect(throws: DialogError.malformed(SIPParseError(element: "Call-ID", reason: "missing"))) { try set.receive(noCallID) }

        var untagged = Fixture.invite()
        untagged.headers.set(.from, "<sip:alice@atlanta.example.com>")
        #expect(throws: DialogError.missingTag("From")) { try InviteDialogSet(invite: untagged) }
    }
}
