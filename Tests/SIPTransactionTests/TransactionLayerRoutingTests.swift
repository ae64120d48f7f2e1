import SIP
import SIPTransaction
import Testing

@Suite struct TransactionLayerRoutingTests {
    let invite = Fixture.invite()
    let options = Fixture.options()

    @Test func newRequestCreatesAServerTransactionAndGoesToTheTU() throws {
        var layer = Layer()
        let routing = layer.receive(.request(options), over: .reliable, context: .callManager, now: .start)
        guard case .created(let id, let actions) = routing else { throw Failure("got \(routing)") }
        #expect(actions == [.passToTU(.request(options), transaction: id)])
        guard case .nonInviteServer(let machine) = layer.machine(id) else { throw Failure("not a non-INVITE server") }
        #expect(machine.state == .trying)
        #expect(machine.reliability == .reliable)
    }

    @Test func retransmittedInviteIsAbsorbedAndAnsweredWithTheLastResponse() throws {
        var layer = Layer()
        guard case .created(let id, _) = layer.receive(.request(invite), over: .unreliable, context: .phone, now: .start)
        else { throw Failure("INVITE did not create a transaction") }
        #expect(layer.receive(.request(invite), over: .unreliable, context: .phone, now: seconds(0.1)) == .matched(id, []))
        let ringing = Fixture.response(180, to: invite)
        _ = try layer.respond(ringing, to: id, now: seconds(0.15))
        // The 180 came within 200 ms, so no 100 Trying is due.
        #expect(layer.nextDeadline == nil)
        #expect(
            layer.receive(.request(invite), over: .unreliable, context: .phone, now: seconds(0.6))
                == .matched(id, [.send(.response(ringing), context: .phone, transaction: id)]))
        #expect(layer.count == 1)
    }

    @Test func responsesFollowTheContextOfTheLatestRequest() throws {
        var layer = Layer()
        let first = Peer(name: "tls-conn-1")
        let second = Peer(name: "tls-conn-2")
        guard case .created(let id, _) = layer.receive(.request(invite), over: .reliable, context: first, now: .start)
        else { throw Failure("INVITE did not create a transaction") }
        let ringing = Fixture.response(180, to: invite)
        #expect(try layer.respond(ringing, to: id, now: seconds(0.1)) == [.send(.response(ringing), context: first, transaction: id)])
        #expect(
            layer.receive(.request(invite), over: .reliable, context: second, now: seconds(1))
                == .matched(id, [.send(.response(ringing), context: second, transaction: id)]))
    }

    @Test func successAckWithNewBranchIsUnmatchedAndGoesToTheDialog() throws {
        var layer = Layer()
        guard case .created(let id, _) = layer.receive(.request(invite), over: .unreliable, context: .phone, now: .start)
        else { throw Failure("INVITE did not create a transaction") }
        let ok = Fixture.response(200, to: invite)
        _ = try layer.respond(ok, to: id, now: seconds(0.1))
        let ack = Fixture.ackForSuccess(invite, response: ok)
        #expect(layer.receive(.request(ack), over: .unreliable, context: .phone, now: seconds(0.2)) == .unmatchedACK(ack))
        #expect(layer.count == 1)
    }

    @Test func successAckReusingTheInviteBranchIsPassedToTheTU() throws {
        var layer = Layer()
        guard case .created(let id, _) = layer.receive(.request(invite), over: .unreliable, context: .phone, now: .start)
        else { throw Failure("INVITE did not create a transaction") }
        let ok = Fixture.response(200, to: invite)
        _ = try layer.respond(ok, to: id, now: seconds(0.1))
        let ack = invite.ack(acknowledging: ok)
        #expect(
            layer.receive(.request(ack), over: .unreliable, context: .phone, now: seconds(0.2))
                == .matched(id, [.passToTU(.request(ack), transaction: id)]))
    }

    @Test func strayResponseIsUnmatched() throws {
        var layer = Layer()
        _ = try layer.sendRequest(invite, over: .unreliable, context: .callManager, now: .start)
        let stray = Fixture.response(200, to: Fixture.invite(branch: "z9hG4bKelsewhere"))
        #expect(layer.receive(.response(stray), over: .unreliable, context: .callManager, now: seconds(1)) == .unmatchedResponse(stray))
        var noVia = Fixture.response(200, to: invite)
        noVia.headers.remove(.via)
        #expect(layer.receive(.response(noVia), over: .unreliable, context: .callManager, now: seconds(1)) == .unmatchedResponse(noVia))
    }

    @Test func responseToCancelGoesToTheCancelTransactionNotTheInvite() throws {
        var layer = Layer()
        let (inviteID, _) = try layer.sendRequest(invite, over: .reliable, context: .callManager, now: .start)
        _ = layer.receive(.response(Fixture.response(180, to: invite)), over: .reliable, context: .callManager, now: seconds(1))
        let cancel = invite.cancelRequest()
        let (cancelID, _) = try layer.sendRequest(cancel, over: .reliable, context: .callManager, now: seconds(2))
        #expect(cancelID != inviteID)
        let cancelled = Fixture.response(200, to: cancel)
        #expect(
            layer.receive(.response(cancelled), over: .reliable, context: .callManager, now: seconds(2.1))
                == .matched(cancelID, [.passToTU(.response(cancelled), transaction: cancelID), .terminated(cancelID)]))
        let terminated = Fixture.response(487, to: invite)
        let routing = layer.receive(.response(terminated), over: .reliable, context: .callManager, now: seconds(2.2))
        #expect(
            routing
                == .matched(
                    inviteID,
                    [
                        .send(.request(invite.ack(acknowledging: terminated)), context: .callManager, transaction: inviteID),
                        .passToTU(.response(terminated), transaction: inviteID), .terminated(inviteID),
                    ]))
    }

    @Test func receivedCancelHasItsOwnTransactionAndFindsTheInvite() throws {
        var layer = Layer()
        guard case .created(let inviteID, _) = layer.receive(.request(invite), over: .unreliable, context: .phone, now: .start)
        else { throw Failure("INVITE did not create a transaction") }
        let cancel = invite.cancelRequest()
        guard case .created(let cancelID, let actions) = layer.receive(.request(cancel), over: .unreliable, context: .phone, now: seconds(1))
        else { throw Failure("CANCEL did not create a transaction") }
        #expect(cancelID != inviteID)
        #expect(actions == [.passToTU(.request(cancel), transaction: cancelID)])
        #expect(layer.inviteTransaction(cancelledBy: cancel) == inviteID)

        let ok = Fixture.response(200, to: cancel)
        #expect(try layer.respond(ok, to: cancelID, now: seconds(1.01)) == [.send(.response(ok), context: .phone, transaction: cancelID)])
        let terminated = Fixture.response(487, to: invite)
        #expect(
            try layer.respond(terminated, to: inviteID, now: seconds(1.02))
                == [.send(.response(terminated), context: .phone, transaction: inviteID)])
    }

    @Test func cancelForAnUnknownInviteFindsNothing() {
        var layer = Layer()
        _ = layer.receive(.request(invite), over: .unreliable, context: .phone, now: .start)
        #expect(layer.inviteTransaction(cancelledBy: Fixture.invite(branch: "z9hG4bKother").cancelRequest()) == nil)
        #expect(layer.inviteTransaction(cancelledBy: invite) == nil)
    }

    @Test func rfc2543InviteIsMatchedByItsFieldsAndItsAckByTheResponseToTag() throws {
        var layer = Layer()
        let legacy = Fixture.invite(branch: "7c3d2b")
        guard case .created(let id, _) = layer.receive(.request(legacy), over: .unreliable, context: .phone, now: .start)
        else { throw Failure("INVITE did not create a transaction") }
        #expect(layer.receive(.request(legacy), over: .unreliable, context: .phone, now: seconds(0.1)) == .matched(id, []))

        let busy = Fixture.response(486, to: legacy, toTag: "srv77")
        _ = try layer.respond(busy, to: id, now: seconds(0.15))
        let wrongAck = legacy.ack(acknowledging: Fixture.response(486, to: legacy, toTag: "other"))
        #expect(layer.receive(.request(wrongAck), over: .unreliable, context: .phone, now: seconds(0.2)) == .unmatchedACK(wrongAck))

        let ack = legacy.ack(acknowledging: busy)
        #expect(layer.receive(.request(ack), over: .unreliable, context: .phone, now: seconds(0.3)) == .matched(id, []))
        guard case .inviteServer(let machine) = layer.machine(id) else { throw Failure("not an INVITE server") }
        #expect(machine.state == .confirmed)
    }

    @Test func rfc2543CancelFindsItsInvite() throws {
        var layer = Layer()
        let legacy = Fixture.invite(branch: "7c3d2b")
        guard case .created(let id, _) = layer.receive(.request(legacy), over: .unreliable, context: .phone, now: .start)
        else { throw Failure("INVITE did not create a transaction") }
        #expect(layer.inviteTransaction(cancelledBy: legacy.cancelRequest()) == id)
        #expect(layer.inviteTransaction(cancelledBy: Fixture.invite(branch: "7c3d2b", toTag: "x").cancelRequest()) == nil)
    }

    @Test func rfc2543RequestsDifferingOnlyInToTagAreSeparateTransactions() throws {
        var layer = Layer()
        let initial = Fixture.invite(branch: "7c3d2b")
        let tagged = Fixture.invite(branch: "7c3d2b", toTag: "dlg1")
        guard case .created(let first, _) = layer.receive(.request(initial), over: .unreliable, context: .phone, now: .start),
              case .created(let second, _) = layer.receive(.request(tagged), over: .unreliable, context: .phone, now: .start)
        else { throw Failure("expected two transactions") }
        #expect(first != second)
        #expect(layer.receive(.request(tagged), over: .unreliable, context: .phone, now: seconds(0.1)) == .matched(second, []))
        #expect(layer.receive(.request(initial), over: .unreliable, context: .phone, now: seconds(0.1)) == .matched(first, []))
    }

    @Test func transportErrorIsReportedAndTheTransactionRemoved() throws {
        var layer = Layer()
        let (id, _) = try layer.sendRequest(invite, over: .unreliable, context: .callManager, now: .start)
        #expect(layer.transportFailed(id, now: seconds(0.1)) == [.transportError(id), .terminated(id)])
        #expect(layer.count == 0)
        #expect(layer.nextDeadline == nil)
        #expect(layer.transportFailed(id, now: seconds(0.2)) == [])
    }

    @Test func requestWithoutViaIsRefused() {
        var layer = Layer()
        var broken = options
        broken.headers.remove(.via)
        #expect(
            layer.receive(.request(broken), over: .unreliable, context: .phone, now: .start)
                == .refused(broken, .malformed(SIPParseError(element: "Via", reason: "missing"))))
    }
}
