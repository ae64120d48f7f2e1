/// The timers of RFC 3261 §17 (Table 4) and RFC 6026, plus the INVITE server's 200 ms wait
/// before it sends `100 Trying` on the TU's behalf (§17.2.1). Timer C belongs to proxies and is
/// not run here.
public enum TransactionTimer: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// INVITE client: request retransmission, unreliable transports only.
    case a = "A"
    /// INVITE client: transaction timeout while Calling.
    case b = "B"
    /// INVITE client: wait for response retransmissions in Completed.
    case d = "D"
    /// Non-INVITE client: request retransmission, unreliable transports only.
    case e = "E"
    /// Non-INVITE client: transaction timeout.
    case f = "F"
    /// INVITE server: final (non-2xx) response retransmission, unreliable transports only.
    case g = "G"
    /// INVITE server: wait for the ACK.
    case h = "H"
    /// INVITE server: absorb ACK retransmissions in Confirmed.
    case i = "I"
    /// Non-INVITE server: absorb request retransmissions in Completed.
    case j = "J"
    /// Non-INVITE client: absorb response retransmissions in Completed.
    case k = "K"
    /// INVITE server (RFC 6026): absorb INVITE retransmissions after a 2xx, in Accepted.
    case l = "L"
    /// INVITE client (RFC 6026): pass retransmitted or forked 2xx responses to the TU, in Accepted.
    case m = "M"
    /// INVITE server: send `100 Trying` if the TU has not sent a provisional response by then.
    case trying = "Trying"

    public var description: String { self == .trying ? "100 Trying timer" : "Timer \(rawValue)" }
}

/// Timer base values (RFC 3261 §17.1.1.1, Table 4). The defaults are the RFC's; a deployment on
/// a network with a known round-trip time may lower T1.
public struct TransactionTimers: Hashable, Sendable {
    /// Round-trip time estimate.
    public var t1: Duration
    /// Longest retransmission interval for non-INVITE requests and INVITE responses.
    public var t2: Duration
    /// Longest time a message stays in the network.
    public var t4: Duration
    /// How long the INVITE server waits for the TU's provisional response before it sends `100 Trying`.
    public var tryingDelay: Duration
    /// Timer J: how long a non-INVITE server transaction over UDP keeps its final response for
    /// retransmitted requests. RFC 3261 says 64×T1 (32 s); a registrar under a registration storm
    /// may choose less, as Kamailio's 5 s wait timer does, to bound its transaction table.
    public var nonInviteServerLinger: Duration?

    public init(
        t1: Duration = .milliseconds(500), t2: Duration = .seconds(4), t4: Duration = .seconds(5),
        tryingDelay: Duration = .milliseconds(200), nonInviteServerLinger: Duration? = nil
    ) {
        self.nonInviteServerLinger = nonInviteServerLinger
        self.t1 = t1
        self.t2 = t2
        self.t4 = t4
        self.tryingDelay = tryingDelay
    }

    /// Timers B, F, H, J, L and M.
    public var transactionTimeout: Duration { t1 * 64 }

    /// Timer D must outlast every retransmission of the final response the server may still send,
    /// which is 64*T1 of the server's T1; the RFC's floor of 32 s covers servers with the default T1.
    public var responseRetransmissionWait: Duration { max(.seconds(32), transactionTimeout) }
}

/// Whether the transport that carries a transaction retransmits by itself. Over a reliable
/// transport (TCP, TLS, SCTP) timers A, E and G do not run and timers D, I and K are zero.
public enum TransportReliability: Hashable, Sendable {
    case reliable
    case unreliable
}
