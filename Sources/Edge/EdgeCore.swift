import SIP

/// The edge's request handling. It sees requests and decides their answers; the runtime carries
/// the answers over the transports and transactions, which the core never touches.
public struct EdgeCore: Sendable {
    public let policy: RequestPolicy
    public let registrar: Registrar?
    public let calls: CallRouter?

    public init(capabilities: EdgeCapabilities = EdgeCapabilities(), registrar: Registrar? = nil, calls: CallRouter? = nil) {
        var capabilities = capabilities
        if registrar != nil, !capabilities.allowedMethods.contains(.register) { capabilities.allowedMethods.append(.register) }
        if calls != nil {
            for method in CallRouter.methods where !capabilities.allowedMethods.contains(method) { capabilities.allowedMethods.append(method) }
            for name in CallRouter.extensions where !capabilities.supportedExtensions.contains(name) { capabilities.supportedExtensions.append(name) }
        }
        self.policy = RequestPolicy(capabilities: capabilities)
        self.registrar = registrar
        self.calls = calls
    }

    /// What the edge does with a request.
    public enum Decision: Sendable {
        /// Answer now; nil when no answer is due (an ACK).
        case respond(SIPResponse?)
        /// The answer goes to `reply` later: once the binding is durable, or once the call
        /// manager has answered a relayed REGISTER.
        case answerLater
    }

    /// Decides what to do with a request that came from `origin`. The transport layer never sees
    /// the registrar: it sends the answer it is given, now or through `reply`.
    public func handle(
        _ request: SIPRequest, from origin: RequestOrigin, reply: @escaping @Sendable (SIPResponse) -> Void
    ) -> Decision {
        if request.method == .ack {
            calls?.handleACK(request)
            return .respond(nil)
        }
        switch policy.evaluate(request) {
        case .absorb: return .respond(nil)
        case .respond(let response): return .respond(response)
        case .serve:
            switch request.method {
            case .options: return .respond(policy.optionsResponse(to: request))
            case .register where registrar != nil:
                registrar!.handle(request, origin: origin, reply: reply)
                return .answerLater
            case .invite, .bye, .cancel, .update, .info, .prack:
                guard let calls else { fallthrough }
                calls.handle(request, from: origin, reply: reply)
                return .answerLater
            default: return .respond(policy.response(to: request, 500, reason: "Server Internal Error (no handler for \(request.method))"))
            }
        }
    }
}
