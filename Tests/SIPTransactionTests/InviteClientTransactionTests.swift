import SIP
import SIPTransaction
import Testing

@Suite struct InviteClientTransactionTests {
    let invite = Fixture.invite()

    @Test func startOverUDPSendsAndArmsTimersAAndB() {
        let (machine, actions) = InviteClientTransaction.start(request: invite, over: .unreliable)
        #expect(machine.state == .calling)
        #expect(actions == [.send(.request(invite)), .startTimer(.a, after: .milliseconds(500)), .startTimer(.b, after: .seconds(32))])
    }

    @Test func startOverTCPDoesNotRunTimerA() {
        let (_, actions) = InviteClientTransaction.start(request: invite, over: .reliable)
        #expect(actions == [.send(.request(invite)), .startTimer(.b, after: .seconds(32))])
    }

    @Test func timerADoublesWithoutT2Cap() {
        var (machine, _) = InviteClientTransaction.start(request: invite, over: .unreliable)
        var intervals: [Duration] = []
        for _ in 0..<6 {
            let actions = machine.handle(.timerFired(.a))
            #expect(actions.first == .send(.request(invite)))
            if case .startTimer(.a, let interval) = actions.last { intervals.append(interval) }
        }
        // §17.1.1.2: the INVITE interval keeps doubling past T2 (4 s); Timer B bounds it.
        #expect(intervals == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(32)])
        #expect(machine.state == .calling)
    }

    @Test func timerBInCallingReportsTimeout() {
        var (machine, _) = InviteClientTransaction.start(request: invite, over: .unreliable)
        #expect(machine.handle(.timerFired(.b)) == [.cancelTimer(.a), .timedOut(.b), .terminated])
        #expect(machine.state == .terminated)
    }

    @Test func provisionalStopsRetransmissionsAndTimerB() {
        var (machine, _) = InviteClientTransaction.start(request: invite, over: .unreliable)
        let ringing = Fixture.response(180, to: invite)
        #expect(machine.handle(.received(ringing)) == [.cancelTimer(.a), .cancelTimer(.b), .passToTU(.response(ringing))])
        #expect(machine.state == .proceeding)
        let progress = Fixture.response(183, to: invite)
        #expect(machine.handle(.received(progress)) == [.passToTU(.response(progress))])
        #expect(machine.handle(.timerFired(.a)) == [])
        #expect(machine.handle(.timerFired(.b)) == [])
        #expect(machine.state == .proceeding)
    }

    @Test func successGoesToTUAndEntersAcceptedUntilTimerM() {
        var (machine, _) = InviteClientTransaction.start(request: invite, over: .unreliable)
        _ = machine.handle(.received(Fixture.response(180, to: invite)))
        let ok = Fixture.response(200, to: invite)
        #expect(machine.handle(.received(ok)) == [.passToTU(.response(ok)), .startTimer(.m, after: .seconds(32))])
        #expect(machine.state == .accepted)
        #expect(machine.ack == nil)

        // Retransmissions and 2xx from other forks reach the TU, which acknowledges each.
        #expect(machine.handle(.received(ok)) == [.passToTU(.response(ok))])
        let forked = Fixture.response(200, to: invite, toTag: "fork2")
        #expect(machine.handle(.received(forked)) == [.passToTU(.response(forked))])
        #expect(machine.handle(.received(Fixture.response(486, to: invite))) == [])
        #expect(machine.handle(.received(Fixture.response(180, to: invite))) == [])

        #expect(machine.handle(.timerFired(.m)) == [.terminated])
        #expect(machine.state == .terminated)
    }

    @Test func successInCallingCancelsTimersAAndB() {
        var (machine, _) = InviteClientTransaction.start(request: invite, over: .unreliable)
        let ok = Fixture.response(200, to: invite)
        #expect(
            machine.handle(.received(ok))
                == [.cancelTimer(.a), .cancelTimer(.b), .passToTU(.response(ok)), .startTimer(.m, after: .seconds(32))])
    }

    @Test func failureOverUDPIsAcknowledgedAndRetransmissionsGetTheSameACK() throws {
        var (machine, _) = InviteClientTransaction.start(request: invite, over: .unreliable)
        let busy = Fixture.response(486, to: invite)
        let actions = machine.handle(.received(busy))
        let ack = try #require(machine.ack)
        #expect(
            actions == [
                .cancelTimer(.a), .cancelTimer(.b), .send(.request(ack)), .passToTU(.response(busy)),
                .startTimer(.d, after: .seconds(32)),
            ])
        #expect(machine.state == .completed)

        #expect(machine.handle(.received(busy)) == [.send(.request(ack))])
        #expect(machine.handle(.received(busy)) == [.send(.request(ack))])
        #expect(machine.handle(.received(Fixture.response(200, to: invite))) == [])

        #expect(machine.handle(.timerFired(.d)) == [.terminated])
        #expect(machine.state == .terminated)
    }

    @Test func failureOverTCPTerminatesAtOnceBecauseTimerDIsZero() throws {
        var (machine, _) = InviteClientTransaction.start(request: invite, over: .reliable)
        _ = machine.handle(.received(Fixture.response(100, to: invite, toTag: nil)))
        let declined = Fixture.response(603, to: invite)
        let ack = invite.ack(acknowledging: declined)
        #expect(machine.handle(.received(declined)) == [.send(.request(ack)), .passToTU(.response(declined)), .terminated])
        #expect(machine.state == .terminated)
    }

    @Test func timerDOutlastsTheServersRetransmissionsForALargerT1() {
        let slow = TransactionTimers(t1: .seconds(1))
        var (machine, _) = InviteClientTransaction.start(request: invite, over: .unreliable, timers: slow)
        let actions = machine.handle(.received(Fixture.response(404, to: invite)))
        #expect(actions.last == .startTimer(.d, after: .seconds(64)))
        #expect(TransactionTimers(t1: .milliseconds(100)).responseRetransmissionWait == .seconds(32))
    }

    @Test func transportErrorIsReportedInCallingAndCompletedOnly() {
        var (calling, _) = InviteClientTransaction.start(request: invite, over: .unreliable)
        #expect(calling.handle(.transportError) == [.cancelTimer(.a), .cancelTimer(.b), .transportError, .terminated])

        var (proceeding, _) = InviteClientTransaction.start(request: invite, over: .unreliable)
        _ = proceeding.handle(.received(Fixture.response(180, to: invite)))
        #expect(proceeding.handle(.transportError) == [])
        #expect(proceeding.state == .proceeding)

        var (completed, _) = InviteClientTransaction.start(request: invite, over: .unreliable)
        _ = completed.handle(.received(Fixture.response(500, to: invite)))
        #expect(completed.handle(.transportError) == [.cancelTimer(.d), .transportError, .terminated])
    }
}
