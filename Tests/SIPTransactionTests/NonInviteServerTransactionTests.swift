import SIP
import SIPTransaction
import Testing

@Suite struct NonInviteServerTransactionTests {
    let options = Fixture.options()

    @Test func startPassesTheRequestUpAndRetransmissionsInTryingAreAbsorbed() {
        var (machine, actions) = NonInviteServerTransaction.start(request: options, over: .unreliable)
        #expect(actions == [.passToTU(.request(options))])
        #expect(machine.state == .trying)
        #expect(machine.handle(.received(options)) == [])
    }

    @Test func provisionalIsResentForRetransmissions() {
        var (machine, _) = NonInviteServerTransaction.start(request: options, over: .unreliable)
        let trying = Fixture.response(100, to: options, toTag: nil)
        #expect(machine.handle(.respond(trying)) == [.send(.response(trying))])
        #expect(machine.state == .proceeding)
        #expect(machine.handle(.received(options)) == [.send(.response(trying))])
    }

    @Test func finalOverUDPIsKeptForTimerJ() {
        var (machine, _) = NonInviteServerTransaction.start(request: options, over: .unreliable)
        let ok = Fixture.response(200, to: options)
        #expect(machine.handle(.respond(ok)) == [.send(.response(ok)), .startTimer(.j, after: .seconds(32))])
        #expect(machine.state == .completed)
        #expect(machine.handle(.received(options)) == [.send(.response(ok))])
        #expect(machine.handle(.respond(Fixture.response(500, to: options))) == [])
        #expect(machine.handle(.timerFired(.j)) == [.terminated])
        #expect(machine.state == .terminated)
    }

    @Test func timerJFollowsT1() {
        var (machine, _) = NonInviteServerTransaction.start(
            request: options, over: .unreliable, timers: TransactionTimers(t1: .milliseconds(250)))
        #expect(machine.handle(.respond(Fixture.response(200, to: options))).last == .startTimer(.j, after: .seconds(16)))
    }

    @Test func finalOverTLSTerminatesAtOnceBecauseTimerJIsZero() {
        var (machine, _) = NonInviteServerTransaction.start(request: options, over: .reliable)
        let ok = Fixture.response(200, to: options)
        #expect(machine.handle(.respond(ok)) == [.send(.response(ok)), .terminated])
        #expect(machine.state == .terminated)
    }

    @Test func transportErrorTerminatesOnceSomethingWasSent() {
        var (trying, _) = NonInviteServerTransaction.start(request: options, over: .unreliable)
        #expect(trying.handle(.transportError) == [])

        var (proceeding, _) = NonInviteServerTransaction.start(request: options, over: .unreliable)
        _ = proceeding.handle(.respond(Fixture.response(100, to: options, toTag: nil)))
        #expect(proceeding.handle(.transportError) == [.transportError, .terminated])

        var (completed, _) = NonInviteServerTransaction.start(request: options, over: .unreliable)
        _ = completed.handle(.respond(Fixture.response(200, to: options)))
        #expect(completed.handle(.transportError) == [.cancelTimer(.j), .transportError, .terminated])
        #expect(completed.state == .terminated)
    }
}
