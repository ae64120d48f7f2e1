import SIP

/// The INVITE server transaction of RFC 3261 §17.2.1 with the Accepted state of RFC 6026 §8.7.
///
/// It answers `100 Trying` for a TU that is silent for 200 ms, absorbs INVITE retransmissions by
/// resending its last response, retransmits non-2xx final responses until the ACK arrives, and
/// leaves 2xx retransmission to the TU.
public struct InviteServerTransaction: Hashable, Sendable {
    public enum State: Hashable, Sendable {
        case proceeding
        case completed
        case confirmed
        case accepted
        case terminated
    }

    public private(set) var state: State
    public let request: SIPRequest
    public let reliability: TransportReliability
    public let timers: TransactionTimers
    /// The response most recently sent, resent when the INVITE is retransmitted.
    public private(set) var lastResponse: SIPResponse?
    private var isTryingTimerRunning: Bool
    private var retransmitInterval: Duration

    /// Enters Proceeding for a new INVITE and passes it to the TU.
    public static func start(
        request: SIPRequest, over reliability: TransportReliability, timers: TransactionTimers = TransactionTimers()
    ) -> (transaction: InviteServerTransaction, actions: [TransactionAction]) {
        let transaction = InviteServerTransaction(request: request, reliability: reliability, timers: timers)
        return (transaction, [.passToTU(.request(request)), .startTimer(.trying, after: timers.tryingDelay)])
    }

    private init(request: SIPRequest, reliability: TransportReliability, timers: TransactionTimers) {
        self.state = .proceeding
        self.request = request
        self.reliability = reliability
        self.timers = timers
        self.isTryingTimerRunning = true
        self.retransmitInterval = timers.t1
    }

    public mutating func handle(_ event: ServerTransactionEvent) -> [TransactionAction] {
        switch (state, event) {
        case (.proceeding, .timerFired(.trying)) where isTryingTimerRunning:
            isTryingTimerRunning = false
            let trying = SIPResponse.trying(for: request)
            lastResponse = trying
            return [.send(.response(trying))]
        case (.proceeding, .respond(let response)):
            return respondWhileProceeding(response)
        case (.proceeding, .received(let retransmission)) where retransmission.method != .ack,
             (.completed, .received(let retransmission)) where retransmission.method != .ack:
            return lastResponse.map { [.send(.response($0))] } ?? []
        case (.proceeding, .transportError), (.completed, .transportError):
            let cancels = runningTimers.map(TransactionAction.cancelTimer)
            state = .terminated
            return cancels + [.transportError, .terminated]
        case (.completed, .received(let ack)) where ack.method == .ack:
            let cancels = runningTimers.map(TransactionAction.cancelTimer)
            guard reliability == .unreliable else {
                state = .terminated
                return cancels + [.terminated]
            }
            state = .confirmed
            return cancels + [.startTimer(.i, after: timers.t4)]
        case (.completed, .timerFired(.g)):
            retransmitInterval = min(retransmitInterval * 2, timers.t2)
            return (lastResponse.map { [.send(.response($0))] } ?? []) + [.startTimer(.g, after: retransmitInterval)]
        case (.completed, .timerFired(.h)):
            let cancels = runningTimers.filter { $0 != .h }.map(TransactionAction.cancelTimer)
            state = .terminated
            return cancels + [.timedOut(.h), .terminated]
        case (.confirmed, .timerFired(.i)), (.accepted, .timerFired(.l)):
            state = .terminated
            return [.terminated]
        case (.accepted, .received(let ack)) where ack.method == .ack:
            // RFC 6026 §8.7: an ACK for the 2xx that matches this transaction belongs to the TU,
            // which stops retransmitting the 2xx.
            return [.passToTU(.request(ack))]
        case (.accepted, .respond(let response)) where response.isSuccess:
            // The TU retransmits its 2xx (§13.3.1.4) or sends another one; both go out unchanged.
            lastResponse = response
            return [.send(.response(response))]
        case (.accepted, .transportError):
            // Staying in Accepted keeps absorbing INVITE retransmissions, which would otherwise
            // reach the TU as new calls; the TU decides what the failed 2xx means for the dialog.
            return [.transportError]
        default:
            // INVITE retransmissions in Accepted and Confirmed are absorbed; responses from the TU
            // after a final one, and stale timers, are discarded.
            return []
        }
    }

    private mutating func respondWhileProceeding(_ response: SIPResponse) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        if isTryingTimerRunning {
            isTryingTimerRunning = false
            actions.append(.cancelTimer(.trying))
        }
        lastResponse = response
        actions.append(.send(.response(response)))
        switch response.statusCode {
        case ..<200:
            break
        case 200..<300:
            state = .accepted
            actions.append(.startTimer(.l, after: timers.transactionTimeout))
        default:
            state = .completed
            if reliability == .unreliable { actions.append(.startTimer(.g, after: timers.t1)) }
            actions.append(.startTimer(.h, after: timers.transactionTimeout))
        }
        return actions
    }

    private var runningTimers: [TransactionTimer] {
        switch state {
        case .proceeding: isTryingTimerRunning ? [.trying] : []
        case .completed: reliability == .unreliable ? [.g, .h] : [.h]
        case .confirmed: [.i]
        case .accepted: [.l]
        case .terminated: []
        }
    }
}
