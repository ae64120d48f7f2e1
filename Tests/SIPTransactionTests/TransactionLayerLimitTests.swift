import SIP
import SIPTransaction
import Testing

@Suite struct TransactionLayerLimitTests {
    let invite = Fixture.invite()
    let options = Fixture.options()

    @Test func fullTableRefusesNewTransactionsButStillMatchesRunningOnes() throws {
        var layer = Layer(capacity: 2)
        let (clientID, _) = try layer.sendRequest(invite, over: .reliable, context: .callManager, now: .start)
        guard case .created(let serverID, _) = layer.receive(.request(options), over: .reliable, context: .callManager, now: .start)
        else { throw Failure("OPTIONS did not create a transaction") }
        #expect(layer.count == 2)

        let another = Fixture.invite(branch: "z9hG4bKthird")
        #expect(throws: TransactionLayerError.full(capacity: 2)) {
            try layer.sendRequest(another, over: .reliable, context: .callManager, now: seconds(1))
        }
        #expect(
            layer.receive(.request(another), over: .reliable, context: .phone, now: seconds(1))
                == .refused(another, .full(capacity: 2)))
        #expect(layer.receive(.request(options), over: .reliable, context: .callManager, now: seconds(1)) == .matched(serverID, []))
        let ringing = Fixture.response(180, to: invite)
        #expect(
            layer.receive(.response(ringing), over: .reliable, context: .callManager, now: seconds(1))
                == .matched(clientID, [.passToTU(.response(ringing), transaction: clientID)]))

        _ = try layer.respond(Fixture.response(200, to: options), to: serverID, now: seconds(2))
        #expect(layer.count == 1)
        guard case .created = layer.receive(.request(another), over: .reliable, context: .phone, now: seconds(2)) else {
            throw Failure("a freed slot must take a new transaction")
        }
    }

    @Test func secondClientTransactionWithTheSameBranchIsRefused() throws {
        var layer = Layer()
        _ = try layer.sendRequest(invite, over: .unreliable, context: .callManager, now: .start)
        #expect(throws: TransactionLayerError.duplicate(ClientTransactionKey(branch: "z9hG4bKnashds8", method: .invite))) {
            try layer.sendRequest(invite, over: .unreliable, context: .callManager, now: seconds(1))
        }
    }

    @Test func ackIsNotSentThroughAClientTransaction() {
        var layer = Layer()
        let ack = Fixture.ackForSuccess(invite, response: Fixture.response(200, to: invite))
        #expect(throws: TransactionLayerError.ackIsNotATransaction) {
            try layer.sendRequest(ack, over: .unreliable, context: .callManager, now: .start)
        }
        #expect(layer.count == 0)
    }

    @Test func requestWithoutBranchCannotStartAClientTransaction() {
        var layer = Layer()
        var request = options
        request.headers.set(.via, "SIP/2.0/UDP edge.example.com")
        #expect(throws: TransactionLayerError.malformed(SIPParseError(element: "Via", reason: "top Via has no branch"))) {
            try layer.sendRequest(request, over: .unreliable, context: .callManager, now: .start)
        }
    }

    @Test func respondingNeedsARunningServerTransaction() throws {
        var layer = Layer()
        let (clientID, _) = try layer.sendRequest(invite, over: .unreliable, context: .callManager, now: .start)
        #expect(throws: TransactionLayerError.notAServerTransaction(clientID)) {
            try layer.respond(Fixture.response(200, to: invite), to: clientID, now: .start)
        }
        let gone = TransactionID(rawValue: 999)
        #expect(throws: TransactionLayerError.unknownTransaction(gone)) {
            try layer.respond(Fixture.response(200, to: invite), to: gone, now: .start)
        }
    }

    @Test func idsAreNotReusedAfterTermination() throws {
        var layer = Layer()
        let (first, _) = try layer.sendRequest(options, over: .reliable, context: .phone, now: .start)
        _ = layer.transportFailed(first, now: .start)
        let (second, _) = try layer.sendRequest(options, over: .reliable, context: .phone, now: .start)
        #expect(first != second)
        #expect(first < second)
    }
}
