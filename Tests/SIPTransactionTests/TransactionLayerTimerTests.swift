import SIP
import SIPTransaction
import Testing

/// Every timer, run through the layer on the fake clock: when it fires and what it does.
@Suite struct TransactionLayerTimerTests {
    let invite = Fixture.invite()
    let options = Fixture.options()

    @Test func inviteOverUDPIsRetransmittedByTimerAUntilTimerB() throws {
        var layer = Layer()
        let (id, first) = try layer.sendRequest(invite, over: .unreliable, context: .callManager, now: .start)
        #expect(first == [.send(.request(invite), context: .callManager, transaction: id)])
        #expect(layer.nextDeadline == seconds(0.5))

        let log = runTimers(&layer, until: seconds(60))
        let sendTimes = log.filter { $0.action.sentMessage == .request(invite) }.map(\.time)
        #expect(sendTimes == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5].map(seconds))
        let rest = log.filter { $0.action.sentMessage == nil }
        #expect(rest.map(\.time) == [seconds(32), seconds(32)])
        #expect(rest.map(\.action) == [.timedOut(id, .b), .terminated(id)])
        #expect(layer.count == 0)
        #expect(layer.nextDeadline == nil)
    }

    @Test func inviteOverTCPOnlyRunsTimerB() throws {
        var layer = Layer()
        let (id, _) = try layer.sendRequest(invite, over: .reliable, context: .callManager, now: .start)
        #expect(layer.nextDeadline == seconds(32))
        #expect(layer.advance(to: seconds(31.999)) == [])
        #expect(layer.advance(to: seconds(32)) == [.timedOut(id, .b), .terminated(id)])
    }

    @Test func provisionalResponseDisarmsTimersAAndB() throws {
        var layer = Layer()
        let (id, _) = try layer.sendRequest(invite, over: .unreliable, context: .callManager, now: .start)
        let ringing = Fixture.response(180, to: invite)
        let routing = layer.receive(.response(ringing), over: .unreliable, context: .callManager, now: seconds(0.3))
        #expect(routing == .matched(id, [.passToTU(.response(ringing), transaction: id)]))
        #expect(layer.nextDeadline == nil)
        #expect(layer.advance(to: seconds(100)) == [])
        #expect(layer.count == 1)
    }

    @Test func timerDRemovesTheInviteClient32sAfterTheFailure() throws {
        var layer = Layer()
        let (id, _) = try layer.sendRequest(invite, over: .unreliable, context: .callManager, now: .start)
        let busy = Fixture.response(486, to: invite)
        let ack = invite.ack(acknowledging: busy)
        let routing = layer.receive(.response(busy), over: .unreliable, context: .callManager, now: seconds(2))
        #expect(
            routing
                == .matched(
                    id, [.send(.request(ack), context: .callManager, transaction: id), .passToTU(.response(busy), transaction: id)]))
        #expect(layer.nextDeadline == seconds(34))
        #expect(
            layer.receive(.response(busy), over: .unreliable, context: .callManager, now: seconds(10))
                == .matched(id, [.send(.request(ack), context: .callManager, transaction: id)]))
        #expect(layer.advance(to: seconds(33.9)) == [])
        #expect(layer.advance(to: seconds(34)) == [.terminated(id)])
        #expect(
            layer.receive(.response(busy), over: .unreliable, context: .callManager, now: seconds(35)) == .unmatchedResponse(busy))
    }

    @Test func timerMKeepsTheInviteClientFor64T1AfterA2xx() throws {
        var layer = Layer()
        let (id, _) = try layer.sendRequest(invite, over: .reliable, context: .callManager, now: .start)
        let ok = Fixture.response(200, to: invite)
        _ = layer.receive(.response(ok), over: .reliable, context: .callManager, now: seconds(1))
        #expect(layer.nextDeadline == seconds(33))
        #expect(
            layer.receive(.response(ok), over: .reliable, context: .callManager, now: seconds(5))
                == .matched(id, [.passToTU(.response(ok), transaction: id)]))
        #expect(layer.advance(to: seconds(33)) == [.terminated(id)])
    }

    @Test func nonInviteOverUDPIsRetransmittedByTimerECappedAtT2UntilTimerF() throws {
        var layer = Layer()
        let (id, _) = try layer.sendRequest(options, over: .unreliable, context: .phone, now: .start)
        let log = runTimers(&layer, until: seconds(60))
        let sendTimes = log.filter { $0.action.sentMessage == .request(options) }.map(\.time)
        #expect(sendTimes == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5].map(seconds))
        #expect(log.filter { $0.action.sentMessage == nil }.map(\.action) == [.timedOut(id, .f), .terminated(id)])
        #expect(log.last?.time == seconds(32))
    }

    @Test func timerEWaitsT2AfterAProvisionalResponse() throws {
        var layer = Layer()
        let (_, _) = try layer.sendRequest(options, over: .unreliable, context: .phone, now: .start)
        _ = layer.advance(to: seconds(0.5))
        #expect(layer.nextDeadline == seconds(1.5))
        _ = layer.receive(
            .response(Fixture.response(100, to: options, toTag: nil)), over: .unreliable, context: .phone, now: seconds(1))
        _ = layer.advance(to: seconds(1.5))
        #expect(layer.nextDeadline == seconds(5.5))
    }

    @Test func timerKRemovesTheNonInviteClientT4AfterTheResponse() throws {
        var layer = Layer()
        let (id, _) = try layer.sendRequest(options, over: .unreliable, context: .phone, now: .start)
        let ok = Fixture.response(200, to: options)
        _ = layer.receive(.response(ok), over: .unreliable, context: .phone, now: seconds(0.2))
        #expect(layer.nextDeadline == seconds(5.2))
        #expect(layer.receive(.response(ok), over: .unreliable, context: .phone, now: seconds(3)) == .matched(id, []))
        #expect(layer.advance(to: seconds(5.2)) == [.terminated(id)])
    }

    @Test func nonInviteOverTLSLeavesTheTableWithTheResponse() throws {
        var layer = Layer()
        let (id, _) = try layer.sendRequest(options, over: .reliable, context: .phone, now: .start)
        let ok = Fixture.response(200, to: options)
        #expect(
            layer.receive(.response(ok), over: .reliable, context: .phone, now: seconds(0.2))
                == .matched(id, [.passToTU(.response(ok), transaction: id), .terminated(id)]))
        #expect(layer.count == 0)
        #expect(layer.nextDeadline == nil)
    }

    @Test func inviteServerSends100TryingAt200ms() throws {
        var layer = Layer()
        guard case .created(let id, _) = layer.receive(.request(invite), over: .unreliable, context: .phone, now: seconds(1))
        else { throw Failure("INVITE did not create a transaction") }
        #expect(layer.nextDeadline == seconds(1.2))
        #expect(layer.advance(to: seconds(1.199)) == [])
        let actions = layer.advance(to: seconds(1.2))
        #expect(actions == [.send(.response(SIPResponse.trying(for: invite)), context: .phone, transaction: id)])
        #expect(layer.nextDeadline == nil)
    }

    @Test func inviteServerRetransmitsAFailureByTimerGUntilTimerH() throws {
        var layer = Layer()
        guard case .created(let id, _) = layer.receive(.request(invite), over: .unreliable, context: .phone, now: .start)
        else { throw Failure("INVITE did not create a transaction") }
        let busy = Fixture.response(486, to: invite)
        #expect(try layer.respond(busy, to: id, now: seconds(1)) == [.send(.response(busy), context: .phone, transaction: id)])
        let log = runTimers(&layer, until: seconds(60))
        let sendTimes = log.filter { $0.action.sentMessage == .response(busy) }.map(\.time)
        #expect(sendTimes == [1.5, 2.5, 4.5, 8.5, 12.5, 16.5, 20.5, 24.5, 28.5, 32.5].map(seconds))
        #expect(log.filter { $0.action.sentMessage == nil }.map(\.action) == [.timedOut(id, .h), .terminated(id)])
        #expect(log.last?.time == seconds(33))
    }

    @Test func timerIEndsTheConfirmedStateT4AfterTheACK() throws {
        var layer = Layer()
        guard case .created(let id, _) = layer.receive(.request(invite), over: .unreliable, context: .phone, now: .start)
        else { throw Failure("INVITE did not create a transaction") }
        let busy = Fixture.response(486, to: invite)
        _ = try layer.respond(busy, to: id, now: seconds(0.1))
        let ack = Fixture.ackForFailure(invite, response: busy)
        #expect(layer.receive(.request(ack), over: .unreliable, context: .phone, now: seconds(0.3)) == .matched(id, []))
        #expect(layer.nextDeadline == seconds(5.3))
        #expect(layer.receive(.request(ack), over: .unreliable, context: .phone, now: seconds(1)) == .matched(id, []))
        #expect(layer.advance(to: seconds(5.3)) == [.terminated(id)])
        #expect(layer.count == 0)
    }

    @Test func inviteServerOverTLSEndsWithTheACK() throws {
        var layer = Layer()
        guard case .created(let id, _) = layer.receive(.request(invite), over: .reliable, context: .phone, now: .start)
        else { throw Failure("INVITE did not create a transaction") }
        let busy = Fixture.response(486, to: invite)
        _ = try layer.respond(busy, to: id, now: seconds(0.1))
        #expect(layer.nextDeadline == seconds(32.1))
        let ack = Fixture.ackForFailure(invite, response: busy)
        #expect(layer.receive(.request(ack), over: .reliable, context: .phone, now: seconds(0.3)) == .matched(id, [.terminated(id)]))
        #expect(layer.nextDeadline == nil)
    }

    @Test func timerLKeepsAbsorbingInviteRetransmissionsFor64T1AfterA2xx() throws {
        var layer = Layer()
        guard case .created(let id, _) = layer.receive(.request(invite), over: .unreliable, context: .phone, now: .start)
        else { throw Failure("INVITE did not create a transaction") }
        _ = try layer.respond(Fixture.response(200, to: invite), to: id, now: seconds(0.1))
        #expect(layer.nextDeadline == seconds(32.1))
        #expect(layer.receive(.request(invite), over: .unreliable, context: .phone, now: seconds(20)) == .matched(id, []))
        #expect(layer.advance(to: seconds(32.1)) == [.terminated(id)])
        guard case .created(let second, _) = layer.receive(.request(invite), over: .unreliable, context: .phone, now: seconds(33))
        else { throw Failure("after Timer L the INVITE is new again") }
        #expect(second != id)
    }

    @Test func timerJRemovesTheNonInviteServer64T1AfterTheResponse() throws {
        var layer = Layer()
        guard case .created(let id, _) = layer.receive(.request(options), over: .unreliable, context: .callManager, now: .start)
        else { throw Failure("OPTIONS did not create a transaction") }
        let ok = Fixture.response(200, to: options)
        _ = try layer.respond(ok, to: id, now: seconds(0.05))
        #expect(layer.nextDeadline == seconds(32.05))
        #expect(
            layer.receive(.request(options), over: .unreliable, context: .callManager, now: seconds(4))
                == .matched(id, [.send(.response(ok), context: .callManager, transaction: id)]))
        #expect(layer.advance(to: seconds(32.05)) == [.terminated(id)])
    }

    @Test func configuredT1ScalesEveryTimeout() throws {
        var layer = Layer(timers: TransactionTimers(t1: .milliseconds(100), t2: .milliseconds(400)))
        let (id, _) = try layer.sendRequest(options, over: .unreliable, context: .phone, now: .start)
        let log = runTimers(&layer, until: seconds(60))
        let sendTimes = log.filter { $0.action.sentMessage != nil }.map(\.time)
        #expect(sendTimes == [0.1, 0.3, 0.7, 1.1, 1.5, 1.9, 2.3, 2.7, 3.1, 3.5, 3.9, 4.3, 4.7, 5.1, 5.5, 5.9, 6.3].map(seconds))
        #expect(log.last?.action == .terminated(id))
        #expect(log.last?.time == seconds(6.4))
    }

    @Test func lateWakeUpFiresOverdueTimersInDeadlineOrder() throws {
        var layer = Layer()
        let (inviteID, _) = try layer.sendRequest(invite, over: .reliable, context: .callManager, now: .start)
        let (optionsID, _) = try layer.sendRequest(options, over: .reliable, context: .phone, now: seconds(1))
        #expect(
            layer.advance(to: seconds(40))
                == [.timedOut(inviteID, .b), .terminated(inviteID), .timedOut(optionsID, .f), .terminated(optionsID)])
    }
}
