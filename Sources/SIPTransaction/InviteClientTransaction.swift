import SIP

/// The INVITE client transaction of RFC 3261 §17.1.1 with the Accepted state of RFC 6026 §8.4.
///
/// It retransmits the INVITE over unreliable transports, acknowledges non-2xx final responses
/// itself, and passes every 2xx to the TU, which acknowledges those within the dialog.
public struct InviteClientTransaction: Hashable, Sendable {
    public enum State: Hashable, Sendable {
        case calling
        case proceeding
        case completed
        case accepted
        case terminated
    }

    public private(set) var state: State
    public let request: SIPRequest
    public let reliability: TransportReliability
    public let timers: TransactionTimers
    /// The ACK sent for the non-2xx final response, resent for each retransmission of it.
    public private(set) var ack: SIPRequest?
    private var retransmitInterval: Duration

    /// Sends the INVITE and enters Calling.
    public static func start(
        request: SIPRequest, over reliability: TransportReliability, timers: TransactionTimers = TransactionTimers()
    ) -> (transaction: InviteClientTransaction, actions: [TransactionAction]) {
        let transaction = InviteClientTransaction(request: request, reliability: reliability, timers: timers)
        var actions: [TransactionAction] = [.send(.request(request))]
        if reliability == .unreliable { actions.append(.startTimer(.a, after: timers.t1)) }
        actions.append(.startTimer(.b, after: timers.transactionTimeout))
        return (transaction, actions)
    }

    private init(request: SIPRequest, reliability: TransportReliability, timers: TransactionTimers) {
        self.state = .calling
        self.request = request
        self.reliability = reliability
        self.timers = timers
        self.retransmitInterval = timers.t1
    }

    public mutating func handle(_ event: ClientTransactionEvent) -> [TransactionAction] {
        switch (state, event) {
        case (.calling, .timerFired(.a)):
            // §17.1.1.2: INVITE intervals keep doubling with no T2 cap; Timer B ends them.
            retransmitInterval = retransmitInterval * 2
            return [.send(.request(request)), .startTimer(.a, after: retransmitInterval)]
        case (.calling, .timerFired(.b)):
            let cancels = runningTimers.filter { $0 != .b }.map(TransactionAction.cancelTimer)
            state = .terminated
            return cancels + [.timedOut(.b), .terminated]
        case (.calling, .transportError), (.completed, .transportError):
            let cancels = runningTimers.map(TransactionAction.cancelTimer)
            state = .terminated
            return cancels + [.transportError, .terminated]
        case (.calling, .received(let response)), (.proceeding, .received(let response)):
            return receiveBeforeFinal(response)
        case (.completed, .received(let response)) where response.statusCode >= 300:
            return ack.map { [.send(.request($0))] } ?? []
        case (.completed, .timerFired(.d)), (.accepted, .timerFired(.m)):
            state = .terminated
            return [.terminated]
        case (.accepted, .received(let response)) where response.isSuccess:
            return [.passToTU(.response(response))]
        default:
            // Provisional or non-2xx responses after a final one, stale timers, and transport
            // errors while nothing is being sent change nothing.
            return []
        }
    }

    private mutating func receiveBeforeFinal(_ response: SIPResponse) -> [TransactionAction] {
        // §17.1.1.2: no more retransmissions once the server has answered; Timer B only runs in Calling.
        let cancels = runningTimers.map(TransactionAction.cancelTimer)
        switch response.statusCode {
        case ..<200:
            state = .proceeding
            return cancels + [.passToTU(.response(response))]
        case 200..<300:
            state = .accepted
            return cancels + [.passToTU(.response(response)), .startTimer(.m, after: timers.transactionTimeout)]
        default:
            let ack = request.ack(acknowledging: response)
            self.ack = ack
            var actions = cancels + [.send(.request(ack)), .passToTU(.response(response))]
            if reliability == .unreliable {
                state = .completed
                actions.append(.startTimer(.d, after: timers.responseRetransmissionWait))
            } else {
                state = .terminated
                actions.append(.terminated)
            }
            return actions
        }
    }

    private var runningTimers: [TransactionTimer] {
        switch state {
        case .calling: reliability == .unreliable ? [.a, .b] : [.b]
        case .completed: [.d]
        case .accepted: [.m]
        case .proceeding, .terminated: []
        }
    }
}
