import SIP

/// The routing steps of a proxy that relays a request (RFC 3261 §16.4, §16.6), as pure edits of
/// the request. `isMine` answers whether a URI names this element (its addresses, ports, the
/// names in its Record-Route); the caller knows its listeners, this code does not.
public enum ProxyRouting {
    /// §16.4, the strict-router artifact: an RFC 2543 router before us put our Record-Route URI in
    /// the Request-URI and moved the real Request-URI to the last Route. Put it back, so the request
    /// is routed on to where it was going. Our Record-Route URIs carry `lr`, which a Request-URI for
    /// this element's own domain would not, so a request simply addressed to us is left alone.
    /// Returns whether the Request-URI was restored.
    @discardableResult
    public static func restoreStrictRoutedRequestURI(
        _ request: inout SIPRequest, isMine: (URI) -> Bool
    ) throws(SIPParseError) -> Bool {
        guard isMine(request.uri), request.uri.sipURI?.parameter("lr") != nil else { return false }
        let routes = try request.headers.addresses(.route)
        guard let last = routes.last else { return false }
        var values = request.headers.values(.route)
        values.removeLast()
        replaceRoutes(in: &request.headers, with: values)
        request.uri = last.uri
        return true
    }

    /// §16.4: a top Route naming us is the loose-routing entry we asked for; it has done its work.
    /// An element that record-routes twice, once per side when it bridges transports (RFC 5658),
    /// finds two of its own in a row, and both go, or it would route the request to itself.
    /// Returns the removed values, which say on which of our addresses the path came in.
    @discardableResult
    public static func removeOwnTopRoutes(_ request: inout SIPRequest, isMine: (URI) -> Bool) throws(SIPParseError) -> [NameAddress] {
        let routes = try request.headers.addresses(.route)
        let own = Array(routes.prefix { isMine($0.uri) })
        for _ in own { request.headers.removeFirstValue(.route) }
        return own
    }

    /// §16.6 step 7, where the request goes next: the top Route (a loose router keeps the
    /// Request-URI as it is), or the Request-URI when there is no Route.
    public static func nextHop(_ request: SIPRequest) throws(SIPParseError) -> URI {
        try request.headers.addresses(.route).first?.uri ?? request.uri
    }

    /// §16.6 step 6: a top Route without `lr` is a strict router, which routes on the Request-URI
    /// and would lose the real one. It gets its own URI as Request-URI, and the real Request-URI
    /// goes last in Route, where the next loose router (§16.4) finds it. Returns whether it rewrote.
    @discardableResult
    public static func rewriteForStrictNextHop(_ request: inout SIPRequest) throws(SIPParseError) -> Bool {
        guard let top = try request.headers.addresses(.route).first, top.uri.sipURI?.parameter("lr") == nil else { return false }
        var values = request.headers.values(.route)
        values.removeFirst()
        values.append(NameAddress(uri: request.uri).description)
        replaceRoutes(in: &request.headers, with: values)
        request.uri = top.uri
        return true
    }

    /// The Record-Route value that keeps this element on the dialog's path (§16.6 step 4): our
    /// address with `lr`, so the peers route loosely through us, and sips when the request's
    /// Request-URI is sips, which the path must stay.
    public static func recordRoute(for request: SIPRequest, host: String, port: Int?, transport: String?) -> NameAddress {
        var uri = SIPURI(isSecure: request.uri.sipURI?.isSecure ?? false, host: host, port: port)
        if let transport { uri.setParameter("transport", transport.lowercased()) }
        uri.setParameter("lr", nil)
        return NameAddress(uri: .sip(uri))
    }

    /// Adds `recordRoute` above any Record-Route already there: the first one read is the last
    /// proxy the request went through (§16.6 step 4).
    public static func addRecordRoute(_ recordRoute: NameAddress, to request: inout SIPRequest) {
        let headers = request.headers
        let position = headers.firstIndex { $0.name == .recordRoute }
            ?? headers.lastIndex { $0.name == .via }.map { $0 + 1 }
            ?? 0
        request.headers.insert(.recordRoute, recordRoute.description, at: position)
    }

    public enum MaxForwardsOutcome: Hashable, Sendable {
        /// The request may go on; its Max-Forwards now holds `remaining`.
        case forward(remaining: Int)
        /// Answer this `483 Too Many Hops` instead of forwarding (§16.3 step 3).
        case tooManyHops(SIPResponse)
    }

    /// §16.6 step 3: one hop fewer, and a request that arrives with none left is refused (an
    /// OPTIONS the caller may answer itself instead, §16.3 step 3). A request without
    /// Max-Forwards gets 70 minus this hop. A malformed or repeated one throws (400).
    public static func decrementMaxForwards(_ request: inout SIPRequest) throws(SIPParseError) -> MaxForwardsOutcome {
        let received = try request.headers.maxForwards() ?? 70
        guard received > 0 else { return .tooManyHops(SIPResponse(respondingTo: request, statusCode: 483)) }
        request.headers.set(.maxForwards, String(received - 1))
        return .forward(remaining: received - 1)
    }

    /// Rewrites the Route lines as one value a line, in the place of the first, keeping each value as written.
    private static func replaceRoutes(in headers: inout SIPHeaders, with values: [String]) {
        let position = headers.firstIndex { $0.name == .route } ?? headers.endIndex
        headers.remove(.route)
        for (offset, value) in values.enumerated() {
            headers.insert(.route, value, at: min(position + offset, headers.endIndex))
        }
    }
}
