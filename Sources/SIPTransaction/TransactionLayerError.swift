import SIP

/// Why the transaction layer refused a request or a call.
public enum TransactionLayerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The table holds `capacity` transactions; a server should answer `503` statelessly.
    case full(capacity: Int)
    /// The request lacks what matching needs: a top Via (with a branch, for client requests),
    /// From, Call-ID or CSeq.
    case malformed(SIPParseError)
    /// A client transaction with this branch and method is still running.
    case duplicate(ClientTransactionKey)
    /// An ACK is not a transaction of its own: the ACK for a 2xx goes to the transport directly
    /// (§17.1.1.3), and the ACK for a non-2xx is the INVITE client transaction's job.
    case ackIsNotATransaction
    /// The transaction has terminated or never existed.
    case unknownTransaction(TransactionID)
    /// Responses can only be given to server transactions.
    case notAServerTransaction(TransactionID)

    public var description: String {
        switch self {
        case .full(let capacity): "transaction table full (\(capacity) transactions)"
        case .malformed(let error): "cannot match request: \(error)"
        case .duplicate(let key): "a client transaction \(key) is already running"
        case .ackIsNotATransaction: "ACK does not start a client transaction"
        case .unknownTransaction(let id): "no transaction \(id)"
        case .notAServerTransaction(let id): "\(id) is a client transaction"
        }
    }
}
