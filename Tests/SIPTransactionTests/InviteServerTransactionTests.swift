import SIP
import SIPTransaction
import Testing

@Suite struct InviteServerTransactionTests {
    let invite = Fixture.invite()

    @Test func startPassesTheInviteUpAndWaits200msForTheTU() {
        let (machine, actions) = InviteServerTransaction.start(request: invite, over: .unreliable)
        #expect(machine.state == .proceeding)
        #expect(actions == [.passToTU(.request(invite)), .startTimer(.trying, after: .milliseconds(200))])
    }

    @Test func silentTUGets100TryingSentForIt() throws {
        var (machine, _) = InviteServerTransaction.start(request: invite, over: .unreliable)
        let trying = SIPResponse.trying(for: invite)
        #expect(machine.handle(.timerFired(.trying)) == [.send(.response(trying))])
        #expect(machine.lastResponse?.statusCode == 100)
        // The 100 is also what a retransmitted INVITE gets back.
        #expect(machine.handle(.received(invite)) == [.send(.response(trying))])
    }

    @Test func provisionalFromTUWithin200msSuppresses100Trying() {
        var (machine, _) = InviteServerTransaction.start(request: invite, over: .unreliable)
        let ringing = Fixture.response(180, to: invite)
        #expect(machine.handle(.respond(ringing)) == [.cancelTimer(.trying), .send(.response(ringing))])
        #expect(machine.handle(.timerFired(.trying)) == [])
        #expect(machine.handle(.received(invite)) == [.send(.response(ringing))])
        let progress = Fixture.response(183, to: invite)
        #expect(machine.handle(.respond(progress)) == [.send(.response(progress))])
        #expect(machine.handle(.received(invite)) == [.send(.response(progress))])
    }

    @Test func retransmissionBeforeAnyResponseIsAbsorbed() {
        var (machine, _) = InviteServerTransaction.start(request: invite, over: .unreliable)
        #expect(machine.handle(.received(invite)) == [])
        #expect(machine.state == .proceeding)
    }

    @Test func failureOverUDPIsRetransmittedByTimerGUpToT2() {
        var (machine, _) = InviteServerTransaction.start(request: invite, over: .unreliable)
        let busy = Fixture.response(486, to: invite)
        #expect(
            machine.handle(.respond(busy))
                == [.cancelTimer(.trying), .send(.response(busy)), .startTimer(.g, after: .milliseconds(500)),
                    .startTimer(.h, after: .seconds(32))])
        #expect(machine.state == .completed)
        var intervals: [Duration] = []
        for _ in 0..<5 {
            let actions = machine.handle(.timerFired(.g))
            #expect(actions.first == .send(.response(busy)))
            if case .startTimer(.g, let interval) = actions.last { intervals.append(interval) }
        }
        #expect(intervals == [.seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4)])
        #expect(machine.handle(.received(invite)) == [.send(.response(busy))])
        // §17.2.1: the TU's later final responses are discarded.
        #expect(machine.handle(.respond(Fixture.response(500, to: invite))) == [])
    }

    @Test func ackConfirmsAndTimerIAbsorbsFurtherACKs() {
        var (machine, _) = InviteServerTransaction.start(request: invite, over: .unreliable)
        let busy = Fixture.response(486, to: invite)
        _ = machine.handle(.respond(busy))
        let ack = Fixture.ackForFailure(invite, response: busy)
        #expect(machine.handle(.received(ack)) == [.cancelTimer(.g), .cancelTimer(.h), .startTimer(.i, after: .seconds(5))])
        #expect(machine.state == .confirmed)
        #expect(machine.handle(.received(ack)) == [])
        #expect(machine.handle(.received(invite)) == [])
        #expect(machine.handle(.timerFired(.g)) == [])
        #expect(machine.handle(.timerFired(.i)) == [.terminated])
        #expect(machine.state == .terminated)
    }

    @Test func failureOverTCPHasNoTimerGAndAckTerminatesBecauseTimerIIsZero() {
        var (machine, _) = InviteServerTransaction.start(request: invite, over: .reliable)
        let busy = Fixture.response(486, to: invite)
        #expect(machine.handle(.respond(busy)) == [.cancelTimer(.trying), .send(.response(busy)), .startTimer(.h, after: .seconds(32))])
        #expect(machine.handle(.received(Fixture.ackForFailure(invite, response: busy))) == [.cancelTimer(.h), .terminated])
        #expect(machine.state == .terminated)
    }

    @Test func timerHReportsTheMissingACK() {
        var (machine, _) = InviteServerTransaction.start(request: invite, over: .unreliable)
        _ = machine.handle(.respond(Fixture.response(404, to: invite)))
        #expect(machine.handle(.timerFired(.h)) == [.cancelTimer(.g), .timedOut(.h), .terminated])
        #expect(machine.state == .terminated)
    }

    @Test func successEntersAcceptedWhereTheTURetransmitsAndInviteRetransmissionsAreAbsorbed() {
        var (machine, _) = InviteServerTransaction.start(request: invite, over: .unreliable)
        let ok = Fixture.response(200, to: invite)
        #expect(machine.handle(.respond(ok)) == [.cancelTimer(.trying), .send(.response(ok)), .startTimer(.l, after: .seconds(32))])
        #expect(machine.state == .accepted)
        // The 2xx is the TU's to retransmit; the transaction does not resend it for a retransmitted INVITE.
        #expect(machine.handle(.received(invite)) == [])
        #expect(machine.handle(.respond(ok)) == [.send(.response(ok))])
        #expect(machine.handle(.respond(Fixture.response(486, to: invite))) == [])
        // An ACK for the 2xx that reuses the INVITE's branch matches this transaction.
        let ack = invite.ack(acknowledging: ok)
        #expect(machine.handle(.received(ack)) == [.passToTU(.request(ack))])
        #expect(machine.state == .accepted)
        #expect(machine.handle(.timerFired(.l)) == [.terminated])
        #expect(machine.state == .terminated)
    }

    @Test func transportErrorTerminatesExceptInAccepted() {
        var (proceeding, _) = InviteServerTransaction.start(request: invite, over: .unreliable)
        #expect(proceeding.handle(.transportError) == [.cancelTimer(.trying), .transportError, .terminated])

        var (completed, _) = InviteServerTransaction.start(request: invite, over: .unreliable)
        _ = completed.handle(.respond(Fixture.response(486, to: invite)))
        #expect(completed.handle(.transportError) == [.cancelTimer(.g), .cancelTimer(.h), .transportError, .terminated])

        var (accepted, _) = InviteServerTransaction.start(request: invite, over: .unreliable)
        _ = accepted.handle(.respond(Fixture.response(200, to: invite)))
        #expect(accepted.handle(.transportError) == [.transportError])
        #expect(accepted.state == .accepted)
    }
}
