import SIP
import Testing

@testable import SIPTransaction

@Suite struct NonInviteServerLingerTests {
    @Test(arguments: [nil, Duration.seconds(5)])
    func timerJFollowsTheConfiguredLingerOverUDP(linger: Duration?) throws {
        let timers = TransactionTimers(nonInviteServerLinger: linger)
        var layer = TransactionLayer<Int, ContinuousClock.Instant>(capacity: 10, timers: timers)
        let start = ContinuousClock.now
        let request = try #require(try SIPMessage(parsing: Array(
            "REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKlinger\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: l\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n".utf8)).request)
        guard case .created(let id, _) = layer.receive(.request(request), over: .unreliable, context: 1, now: start) else {
            Issue.record("no transaction")
            return
        }
        _ = try layer.respond(SIPResponse(respondingTo: request, statusCode: 200, reasonPhrase: "OK", toTag: "t"), to: id, now: start)
        #expect(layer.nextDeadline == start + (linger ?? .seconds(32)))
        _ = layer.advance(to: start + (linger ?? .seconds(32)))
        #expect(layer.count == 0)
    }
}
