import SIP
import SIPTransaction
import Testing

@Suite struct NonInviteClientTransactionTests {
    let options = Fixture.options()

    @Test func startOverUDPArmsTimersEAndF() {
        let (machine, actions) = NonInviteClientTransaction.start(request: options, over: .unreliable)
        #expect(machine.state == .trying)
        #expect(actions == [.send(.request(options)), .startTimer(.e, after: .milliseconds(500)), .startTimer(.f, after: .seconds(32))])
    }

    @Test func startOverTLSDoesNotRunTimerE() {
        let (_, actions) = NonInviteClientTransaction.start(request: options, over: .reliable)
        #expect(actions == [.send(.request(options)), .startTimer(.f, after: .seconds(32))])
    }

    @Test func timerEDoublesUpToT2() {
        var (machine, _) = NonInviteClientTransaction.start(request: options, over: .unreliable)
        var intervals: [Duration] = []
        for _ in 0..<5 {
            let actions = machine.handle(.timerFired(.e))
            #expect(actions.first == .send(.request(options)))
            if case .startTimer(.e, let interval) = actions.last { intervals.append(interval) }
        }
        #expect(intervals == [.seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4)])
    }

    @Test func timerEUsesT2OnceProceeding() {
        var (machine, _) = NonInviteClientTransaction.start(request: options, over: .unreliable)
        let trying = Fixture.response(100, to: options, toTag: nil)
        #expect(machine.handle(.received(trying)) == [.passToTU(.response(trying))])
        #expect(machine.state == .proceeding)
        #expect(machine.handle(.timerFired(.e)) == [.send(.request(options)), .startTimer(.e, after: .seconds(4))])
    }

    @Test func customT2CapsTimerE() {
        let timers = TransactionTimers(t1: .milliseconds(100), t2: .milliseconds(300))
        var (machine, _) = NonInviteClientTransaction.start(request: options, over: .unreliable, timers: timers)
        #expect(machine.handle(.timerFired(.e)).last == .startTimer(.e, after: .milliseconds(200)))
        #expect(machine.handle(.timerFired(.e)).last == .startTimer(.e, after: .milliseconds(300)))
        #expect(machine.handle(.timerFired(.e)).last == .startTimer(.e, after: .milliseconds(300)))
    }

    @Test func timerFReportsTimeoutInTryingAndProceeding() {
        var (trying, _) = NonInviteClientTransaction.start(request: options, over: .unreliable)
        #expect(trying.handle(.timerFired(.f)) == [.cancelTimer(.e), .timedOut(.f), .terminated])
        #expect(trying.state == .terminated)

        var (proceeding, _) = NonInviteClientTransaction.start(request: options, over: .reliable)
        _ = proceeding.handle(.received(Fixture.response(100, to: options, toTag: nil)))
        #expect(proceeding.handle(.timerFired(.f)) == [.timedOut(.f), .terminated])
    }

    @Test func finalOverUDPWaitsT4InCompletedAbsorbingRetransmissions() {
        var (machine, _) = NonInviteClientTransaction.start(request: options, over: .unreliable)
        let ok = Fixture.response(200, to: options)
        #expect(
            machine.handle(.received(ok))
                == [.cancelTimer(.e), .cancelTimer(.f), .passToTU(.response(ok)), .startTimer(.k, after: .seconds(5))])
        #expect(machine.state == .completed)
        #expect(machine.handle(.received(ok)) == [])
        #expect(machine.handle(.timerFired(.e)) == [])
        #expect(machine.handle(.timerFired(.k)) == [.terminated])
        #expect(machine.state == .terminated)
    }

    @Test func timerKFollowsT4() {
        var (machine, _) = NonInviteClientTransaction.start(
            request: options, over: .unreliable, timers: TransactionTimers(t4: .seconds(2)))
        #expect(machine.handle(.received(Fixture.response(404, to: options))).last == .startTimer(.k, after: .seconds(2)))
    }

    @Test func finalOverTLSTerminatesAtOnceBecauseTimerKIsZero() {
        var (machine, _) = NonInviteClientTransaction.start(request: options, over: .reliable)
        let forbidden = Fixture.response(403, to: options)
        #expect(machine.handle(.received(forbidden)) == [.cancelTimer(.f), .passToTU(.response(forbidden)), .terminated])
    }

    @Test func transportErrorTerminates() {
        var (machine, _) = NonInviteClientTransaction.start(request: options, over: .unreliable)
        #expect(machine.handle(.transportError) == [.cancelTimer(.e), .cancelTimer(.f), .transportError, .terminated])
        #expect(machine.state == .terminated)
    }
}
