extension SIPRequest {
    /// A request outside any dialog (RFC 3261 §8.1.1): Max-Forwards 70, From with a fresh tag,
    /// To, Call-ID and CSeq, then `extra` and an empty body. The transport adds the Via.
    public init(
        outOfDialog method: SIPMethod, uri: URI, from: String, to: String, callID: String, cseq: UInt32,
        extra: [(SIPHeaderName, String)] = []
    ) {
        var headers = SIPHeaders()
        headers.append(.maxForwards, "70")
        headers.append(.from, "<\(from)>;tag=\(SIPIdentifiers.tag())")
        headers.append(.to, "<\(to)>")
        headers.append(.callID, callID)
        headers.append(.cseq, "\(cseq) \(method.rawValue)")
        for (name, value) in extra { headers.append(name, value) }
        headers.append(.contentLength, "0")
        self.init(method: method, uri: uri, headers: headers)
    }
}
