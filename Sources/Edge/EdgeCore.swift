import SIP

/// The edge's request handling. It sees requests and answers them; the runtime carries the
/// answers over the transports and transactions, which the core never touches.
public struct EdgeCore: Sendable {
    public let policy: RequestPolicy
    public let registrar: Registrar?

    public init(capabilities: EdgeCapabilities = EdgeCapabilities(), registrar: Registrar? = nil) {
        var capabilities = capabilities
        if registrar != nil, !capabilities.allowedMethods.contains(.register) { capabilities.allowedMethods.append(.register) }
        self.policy = RequestPolicy(capabilities: capabilities)
        self.registrar = registrar
    }

    public enum Handling: Sendable {
        /// The answer is known now (nil: none is due, as for ACK).
        case answered(SIPResponse?)
        /// The registrar answers, once the binding is durable or the call manager has spoken.
        case register(Registrar)
    }

    public func handle(_ request: SIPRequest) -> Handling {
        switch policy.evaluate(request) {
        case .absorb: return .answered(nil)
        case .respond(let response): return .answered(response)
        case .serve:
            switch request.method {
            case .options: return .answered(policy.optionsResponse(to: request))
            case .register where registrar != nil: return .register(registrar!)
            default: return .answered(policy.response(to: request, 500, reason: "Server Internal Error (no handler for \(request.method))"))
            }
        }
    }
}
