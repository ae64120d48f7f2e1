import SIP

extension Dialog {
    /// A new request in the dialog (§12.2.1.1): the next local CSeq, From and To with both tags,
    /// the Call-ID, Max-Forwards 70, and Request-URI and Route from the route set. `headers` come
    /// after those (a re-INVITE's Contact, Content-Type); the transport adds the Via.
    public mutating func makeRequest(
        _ method: SIPMethod, headers extra: [(SIPHeaderName, String)] = [], body: [UInt8] = []
    ) throws(DialogError) -> SIPRequest {
        guard method != .ack, method != .cancel else { throw .needsDedicatedBuilder(method) }
        guard state != .terminated else { throw .dialogTerminated }
        // §12.2.1.1: a UAS that has sent nothing starts anywhere below 2^31 (§8.1.1.5); 1 keeps
        // the most room and is as good as any other choice.
        let next = localSequence.map { $0 + 1 } ?? 1
        guard next < 0x8000_0000 else { throw .sequenceExhausted }
        localSequence = next
        return compose(method, sequence: next, extra: extra, body: body)
    }

    /// The ACK for a 2xx to the INVITE with CSeq `sequence` (§13.2.2.4): routed like any
    /// in-dialog request but with the INVITE's sequence number, because it belongs to that
    /// INVITE and is not a new request. It may carry the answer when the 2xx held the offer.
    public func makeAck(
        forInviteSequence sequence: UInt32, headers extra: [(SIPHeaderName, String)] = [], body: [UInt8] = []
    ) throws(DialogError) -> SIPRequest {
        guard state == .confirmed else { throw state == .terminated ? .dialogTerminated : .notConfirmed }
        return compose(.ack, sequence: sequence, extra: extra, body: body)
    }

    /// Where an in-dialog request goes (§12.2.1.1). A first route with `lr` is a loose router:
    /// the Request-URI is the remote target and the route set goes in Route as it is. Without `lr`
    /// it is a strict (RFC 2543) router, which expects to find itself in the Request-URI: it gets
    /// the first route (less the parts a Request-URI may not carry), the other routes follow, and
    /// the remote target goes last so the last strict router can restore it.
    public static func requestTarget(routeSet: [NameAddress], remoteTarget: SIPURI) -> (requestURI: SIPURI, routes: [NameAddress]) {
        guard let first = routeSet.first, case .sip(var strictRouter) = first.uri, strictRouter.parameter("lr") == nil else {
            return (remoteTarget, routeSet)
        }
        // §19.1.1: a Request-URI has no URI headers and no method parameter.
        strictRouter.headers = []
        strictRouter.parameters.removeAll { $0.name.lowercased() == "method" }
        return (strictRouter, Array(routeSet.dropFirst()) + [NameAddress(uri: .sip(remoteTarget))])
    }

    private func compose(_ method: SIPMethod, sequence: UInt32, extra: [(SIPHeaderName, String)], body: [UInt8]) -> SIPRequest {
        let (requestURI, routes) = Dialog.requestTarget(routeSet: routeSet, remoteTarget: remoteTarget)
        var headers = SIPHeaders()
        for route in routes { headers.append(.route, route.description) }
        headers.append(.maxForwards, "70")
        headers.append(.from, localAddress.description)
        headers.append(.to, remoteAddress.description)
        headers.append(.callID, id.callID)
        headers.append(.cseq, "\(sequence) \(method.rawValue)")
        for (name, value) in extra { headers.append(name, value) }
        headers.append(.contentLength, String(body.count))
        return SIPRequest(method: method, uri: .sip(requestURI), headers: headers, body: body)
    }
}
