import SIP

/// The edge's request handling. It sees requests and answers them; the runtime carries the
/// answers over the transports and transactions, which the core never touches.
public struct EdgeCore: Sendable {
    public let policy: RequestPolicy

    public init(capabilities: EdgeCapabilities = EdgeCapabilities()) {
        self.policy = RequestPolicy(capabilities: capabilities)
    }

    /// The response to a request addressed to the edge, or nil when none is due (ACK).
    public func handle(_ request: SIPRequest) -> SIPResponse? {
        switch policy.evaluate(request) {
        case .absorb: return nil
        case .respond(let response): return response
        case .serve:
            switch request.method {
            case .options: return policy.optionsResponse(to: request)
            default: return policy.response(to: request, 500, reason: "Server Internal Error (no handler for \(request.method))")
            }
        }
    }
}
