import SIP

/// The non-INVITE client transaction of RFC 3261 §17.1.2.
public struct NonInviteClientTransaction: Hashable, Sendable {
    public enum State: Hashable, Sendable {
        case trying
        case proceeding
        case completed
        case terminated
    }

    public private(set) var state: State
    public let request: SIPRequest
    public let reliability: TransportReliability
    public let timers: TransactionTimers
    private var retransmitInterval: Duration

    /// Sends the request and enters Trying.
    public static func start(
        request: SIPRequest, over reliability: TransportReliability, timers: TransactionTimers = TransactionTimers()
    ) -> (transaction: NonInviteClientTransaction, actions: [TransactionAction]) {
        let transaction = NonInviteClientTransaction(request: request, reliability: reliability, timers: timers)
        var actions: [TransactionAction] = [.send(.request(request))]
        if reliability == .unreliable { actions.append(.startTimer(.e, after: timers.t1)) }
        actions.append(.startTimer(.f, after: timers.transactionTimeout))
        return (transaction, actions)
    }

    private init(request: SIPRequest, reliability: TransportReliability, timers: TransactionTimers) {
        self.state = .trying
        self.request = request
        self.reliability = reliability
        self.timers = timers
        self.retransmitInterval = timers.t1
    }

    public mutating func handle(_ event: ClientTransactionEvent) -> [TransactionAction] {
        switch (state, event) {
        case (.trying, .timerFired(.e)), (.proceeding, .timerFired(.e)):
            // §17.1.2.2: doubling up to T2 while Trying; once a provisional response shows the
            // server is alive, every retransmission waits T2.
            retransmitInterval = state == .trying ? min(retransmitInterval * 2, timers.t2) : timers.t2
            return [.send(.request(request)), .startTimer(.e, after: retransmitInterval)]
        case (.trying, .timerFired(.f)), (.proceeding, .timerFired(.f)):
            let cancels = runningTimers.filter { $0 != .f }.map(TransactionAction.cancelTimer)
            state = .terminated
            return cancels + [.timedOut(.f), .terminated]
        case (.trying, .transportError), (.proceeding, .transportError):
            let cancels = runningTimers.map(TransactionAction.cancelTimer)
            state = .terminated
            return cancels + [.transportError, .terminated]
        case (.trying, .received(let response)), (.proceeding, .received(let response)):
            if response.isProvisional {
                state = .proceeding
                return [.passToTU(.response(response))]
            }
            let cancels = runningTimers.map(TransactionAction.cancelTimer)
            var actions = cancels + [.passToTU(.response(response))]
            if reliability == .unreliable {
                state = .completed
                actions.append(.startTimer(.k, after: timers.t4))
            } else {
                state = .terminated
                actions.append(.terminated)
            }
            return actions
        case (.completed, .timerFired(.k)):
            state = .terminated
            return [.terminated]
        default:
            // Completed absorbs response retransmissions; stale timers change nothing.
            return []
        }
    }

    private var runningTimers: [TransactionTimer] {
        switch state {
        case .trying, .proceeding: reliability == .unreliable ? [.e, .f] : [.f]
        case .completed: [.k]
        case .terminated: []
        }
    }
}
