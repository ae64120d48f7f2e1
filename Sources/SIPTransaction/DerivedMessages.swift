import SIP

/// Messages built from the request that started a transaction, with the header values copied as
/// written so they compare equal to the originals at the far end.
extension SIPRequest {
    /// The ACK for a non-2xx final response to this INVITE (§17.1.1.3): same Request-URI, Call-ID,
    /// From and CSeq number, the To of the response, only the top Via, and the Route set.
    public func ack(acknowledging response: SIPResponse) -> SIPRequest {
        derived(method: .ack, to: response.headers[.to])
    }

    /// The CANCEL for this request (§9.1): as the request, with To unchanged and method CANCEL.
    public func cancelRequest() -> SIPRequest {
        derived(method: .cancel, to: headers[.to])
    }

    private func derived(method: SIPMethod, to: String?) -> SIPRequest {
        var derived = SIPHeaders()
        if let topVia = headers.values(.via).first { derived.append(.via, topVia) }
        for route in headers.lines(.route) { derived.append(.route, route) }
        // §8.1.1.6 asks every request for Max-Forwards; the derived request starts the same hop as this one.
        derived.append(.maxForwards, headers[.maxForwards] ?? "70")
        if let from = headers[.from] { derived.append(.from, from) }
        if let to { derived.append(.to, to) }
        if let callID = headers[.callID] { derived.append(.callID, callID) }
        if let sequence = (try? headers.cseq())?.sequence { derived.append(.cseq, "\(sequence) \(method.rawValue)") }
        return SIPRequest(method: method, uri: uri, headers: derived)
    }
}

extension SIPResponse {
    /// The `100 Trying` an INVITE server transaction sends for a TU that stays silent (§17.2.1),
    /// with the request's Timestamp echoed as §8.2.6.1 requires.
    public static func trying(for request: SIPRequest) -> SIPResponse {
        var response = SIPResponse(respondingTo: request, statusCode: 100)
        if let timestamp = request.headers[.timestamp] { response.headers.append(.timestamp, timestamp) }
        return response
    }
}
