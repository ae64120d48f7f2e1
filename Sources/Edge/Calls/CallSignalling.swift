import SIP

/// What the B2BUA needs of the SIP stack to place and carry its legs. The runtime provides it
/// over its transports and transactions; the call layer sees flows and messages, never sockets.
public protocol CallSignalling: Sendable {
    /// A live flow to a registered phone: the connection it registered on, or a new one.
    func flow(toward binding: Binding) async throws -> BindingFlow
    /// A flow to a call manager over the trunk for a call's leg: the first that answers, and only
    /// while the trunk's IPsec gate lets signalling through. Throws why not.
    func callManagerFlow() async throws -> BindingFlow
    /// Whether a request on this flow came from a call manager over the trunk.
    func isCallManager(_ flow: BindingFlow) -> Bool
    /// The edge's own address on a flow, for its Contact and, when the relay listens on every
    /// address, for its SDP.
    func localAddress(of flow: BindingFlow) -> (host: String, port: Int)?
    /// Sends an INVITE as a client transaction. `sent` receives it as it went out (with the
    /// edge's Via) before any response can arrive, so that a CANCEL can be built from it;
    /// `provisional` every 1xx. Returns the first final response.
    func invite(
        _ request: SIPRequest, over flow: BindingFlow, sent: @escaping @Sendable (SIPRequest) -> Void,
        provisional: @escaping @Sendable (SIPResponse) -> Void
    ) async throws -> SIPResponse
    /// Cancels an INVITE `invite` sent (RFC 3261 §9.1); the INVITE then ends with its 487.
    func cancel(_ sentInvite: SIPRequest, over flow: BindingFlow, reason: String?) async
    /// Sends the ACK for a 2xx: outside any transaction, with a Via of its own (§13.2.2.4).
    func ack(_ ack: SIPRequest, over flow: BindingFlow)
    /// Sends a request as a client transaction and returns its final response.
    func request(_ request: SIPRequest, over flow: BindingFlow, deadline: Duration) async throws -> SIPResponse
}
