import SIP

/// What a transaction state machine asks its owner to do. Actions are listed in the order they
/// must be carried out.
public enum TransactionAction: Hashable, Sendable {
    /// Pass this message to the transport.
    case send(SIPMessage)
    /// Start (or restart) the timer to fire once `after` has elapsed from now.
    case startTimer(TransactionTimer, after: Duration)
    case cancelTimer(TransactionTimer)
    /// Pass this message to the transaction user: a response for a client transaction, the
    /// request (or an ACK for a 2xx) for a server transaction.
    case passToTU(SIPMessage)
    /// The transaction gave up when this timer fired (B, F or H); the TU must treat it as a
    /// `408 Request Timeout` (§8.1.3.1).
    case timedOut(TransactionTimer)
    /// The transport could not send a message of this transaction (§17.1.4, §17.2.4).
    case transportError
    /// The machine reached Terminated and can be discarded.
    case terminated
}

/// An input to a client transaction after it has been started with the TU's request.
public enum ClientTransactionEvent: Hashable, Sendable {
    /// A response the transport matched to this transaction (§17.1.3).
    case received(SIPResponse)
    case timerFired(TransactionTimer)
    case transportError
}

/// An input to a server transaction after it has been created by the request that started it.
public enum ServerTransactionEvent: Hashable, Sendable {
    /// A request the transport matched to this transaction (§17.2.3): a retransmission, or an ACK.
    case received(SIPRequest)
    /// A response from the TU.
    case respond(SIPResponse)
    case timerFired(TransactionTimer)
    case transportError
}
