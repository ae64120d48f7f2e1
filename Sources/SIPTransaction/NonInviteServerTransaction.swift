import SIP

/// The non-INVITE server transaction of RFC 3261 §17.2.2.
public struct NonInviteServerTransaction: Hashable, Sendable {
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
    /// The response most recently sent, resent when the request is retransmitted.
    public private(set) var lastResponse: SIPResponse?

    /// Enters Trying for a new request and passes it to the TU.
    public static func start(
        request: SIPRequest, over reliability: TransportReliability, timers: TransactionTimers = TransactionTimers()
    ) -> (transaction: NonInviteServerTransaction, actions: [TransactionAction]) {
        let transaction = NonInviteServerTransaction(request: request, reliability: reliability, timers: timers)
        return (transaction, [.passToTU(.request(request))])
    }

    private init(request: SIPRequest, reliability: TransportReliability, timers: TransactionTimers) {
        self.state = .trying
        self.request = request
        self.reliability = reliability
        self.timers = timers
    }

    public mutating func handle(_ event: ServerTransactionEvent) -> [TransactionAction] {
        switch (state, event) {
        case (.trying, .respond(let response)), (.proceeding, .respond(let response)):
            lastResponse = response
            if response.isProvisional {
                state = .proceeding
                return [.send(.response(response))]
            }
            guard reliability == .unreliable else {
                state = .terminated
                return [.send(.response(response)), .terminated]
            }
            state = .completed
            return [.send(.response(response)), .startTimer(.j, after: timers.nonInviteServerLinger ?? timers.transactionTimeout)]
        case (.proceeding, .received), (.completed, .received):
            return lastResponse.map { [.send(.response($0))] } ?? []
        case (.proceeding, .transportError):
            state = .terminated
            return [.transportError, .terminated]
        case (.completed, .transportError):
            state = .terminated
            return [.cancelTimer(.j), .transportError, .terminated]
        case (.completed, .timerFired(.j)):
            state = .terminated
            return [.terminated]
        default:
            // Retransmissions in Trying are absorbed (the TU has not answered yet), a second final
            // response is discarded (§17.2.2), and stale timers change nothing.
            return []
        }
    }
}
