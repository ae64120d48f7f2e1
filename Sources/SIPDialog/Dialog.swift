import SIP

/// The dialog state of RFC 3261 §12: what a UA must remember between requests so that each new
/// request in the dialog reaches the peer along the same path, and the peer's requests can be
/// checked for order.
///
/// A value with no I/O: it is built from the messages that create it, updated by the messages
/// that follow, and asked for the requests to send. The caller's transactions carry them.
public struct Dialog: Hashable, Sendable {
    public enum State: Hashable, Sendable {
        /// Created by a 1xx with a To tag; the INVITE may still fail or be answered by another fork.
        case early
        case confirmed
        case terminated
    }

    /// Which side created the dialog; it decides how the route set was ordered.
    public enum Role: Hashable, Sendable {
        case uac
        case uas
    }

    public internal(set) var id: DialogID
    public let role: Role
    public internal(set) var state: State
    /// Our address with our tag: the From of every request we send in the dialog.
    public let localAddress: NameAddress
    /// The peer's address with its tag: the To of every request we send.
    public let remoteAddress: NameAddress
    /// Where requests go: the peer's Contact, replaced by target refreshes (§12.2).
    public internal(set) var remoteTarget: SIPURI
    /// The proxies that asked to stay on the path, in the order a request visits them.
    public internal(set) var routeSet: [NameAddress]
    /// The CSeq number of the last request we sent; nil for a UAS that has sent none yet.
    public internal(set) var localSequence: UInt32?
    /// The highest CSeq number the peer has used; older requests are out of order (§12.2.2).
    public internal(set) var remoteSequence: UInt32?
    /// A sips Request-URI made the dialog secure (§12.1.1): TLS on every hop, sips everywhere.
    public let isSecure: Bool

    public var localURI: URI { localAddress.uri }
    public var remoteURI: URI { remoteAddress.uri }

    /// The dialog a UAC holds after sending `request` and receiving `response` (§12.1.2): early for
    /// a 1xx with a To tag, confirmed for a 2xx. The route set is the response's Record-Route
    /// reversed, because the response travelled the path backwards.
    public init(asUACFor request: SIPRequest, response: SIPResponse) throws(DialogError) {
        guard (101..<300).contains(response.statusCode) else { throw .notDialogCreating(statusCode: response.statusCode) }
        let requestHeaders = request.headers
        let responseHeaders = response.headers
        let from = try parsed { () throws(SIPParseError) in try requestHeaders.from() }
        let id = try DialogID(receivedResponse: response)
        let callID = try parsed { () throws(SIPParseError) in try requestHeaders.callID() }
        guard id.callID == callID, id.localTag == from.tag else { throw .notInDialog }
        let sequence = try parsed { () throws(SIPParseError) in try requestHeaders.cseq() }.sequence
        let isSecure = request.uri.sipURI?.isSecure ?? false
        let contact = try Dialog.target(in: responseHeaders, secure: isSecure)
        // §12.1.2 takes the remote target from the response's Contact. A 2xx must carry one
        // (§13.3.1.4); a 1xx may not, and then the Request-URI stands in until the 2xx arrives.
        if response.isSuccess, contact == nil {
            throw .malformed(SIPParseError(element: "Contact", reason: "missing in a 2xx that creates a dialog"))
        }
        guard let target = contact ?? request.uri.sipURI else {
            throw .malformed(SIPParseError(element: "Request-URI", reason: "a dialog needs a sip or sips URI"))
        }
        self.id = id
        self.role = .uac
        self.state = response.isSuccess ? .confirmed : .early
        self.localAddress = from
        self.remoteAddress = try parsed { () throws(SIPParseError) in try responseHeaders.to() }
        self.remoteTarget = target
        self.routeSet = try Dialog.routeSet(in: responseHeaders).reversed()
        self.localSequence = sequence
        self.remoteSequence = nil
        self.isSecure = isSecure
    }

    /// The dialog a UAS holds after receiving `request` and sending `response` with its own To
    /// tag (§12.1.1). The route set is the request's Record-Route in order: the way back to the
    /// caller is the way the request came.
    public init(asUASFor request: SIPRequest, sending response: SIPResponse) throws(DialogError) {
        guard (101..<300).contains(response.statusCode) else { throw .notDialogCreating(statusCode: response.statusCode) }
        let requestHeaders = request.headers
        let responseHeaders = response.headers
        let from = try parsed { () throws(SIPParseError) in try requestHeaders.from() }
        guard let remoteTag = from.tag, !remoteTag.isEmpty else { throw .missingTag("From") }
        let to = try parsed { () throws(SIPParseError) in try responseHeaders.to() }
        guard let localTag = to.tag, !localTag.isEmpty else { throw .missingTag("To") }
        let callID = try parsed { () throws(SIPParseError) in try requestHeaders.callID() }
        let sequence = try parsed { () throws(SIPParseError) in try requestHeaders.cseq() }.sequence
        let isSecure = request.uri.sipURI?.isSecure ?? false
        guard let target = try Dialog.target(in: requestHeaders, secure: isSecure) else {
            throw .malformed(SIPParseError(element: "Contact", reason: "missing in a request that creates a dialog"))
        }
        self.id = DialogID(callID: callID, localTag: localTag, remoteTag: remoteTag)
        self.role = .uas
        self.state = response.isSuccess ? .confirmed : .early
        self.localAddress = to
        self.remoteAddress = from
        self.remoteTarget = target
        self.routeSet = try Dialog.routeSet(in: requestHeaders)
        self.localSequence = nil
        self.remoteSequence = sequence
        self.isSecure = isSecure
    }

    /// A UAS that later sends the final response to the dialog-creating request: a 2xx confirms an
    /// early dialog, a failure ends it (§12.3).
    public mutating func didSend(finalResponse response: SIPResponse) -> DialogChange {
        guard state == .early, response.statusCode >= 200 else { return .none }
        state = response.isSuccess ? .confirmed : .terminated
        return response.isSuccess ? .confirmed : .terminated
    }

    /// A UAC's early dialog answered by its final response (§13.2.2.4): a 2xx confirms it with
    /// the remote target and route set the 2xx gives, keeping the CSeq the early dialog reached
    /// (a PRACK or UPDATE in it counted); a failure ends it.
    public mutating func received(finalResponse response: SIPResponse) throws(DialogError) -> DialogChange {
        guard role == .uac, state == .early, response.statusCode >= 200 else { return .none }
        guard response.isSuccess else {
            state = .terminated
            return .terminated
        }
        guard (try? response.headers.to().tag) == id.remoteTag else { throw .notInDialog }
        guard let target = try Dialog.target(in: response.headers, secure: isSecure) else {
            throw .malformed(SIPParseError(element: "Contact", reason: "missing in a 2xx that creates a dialog"))
        }
        remoteTarget = target
        routeSet = try Dialog.routeSet(in: response.headers).reversed()
        state = .confirmed
        return .confirmed
    }

    /// The TU ends the dialog on its own account: after a BYE for a fork it does not want, or when
    /// the INVITE transaction ends with early dialogs still unanswered (§13.2.2.4).
    public mutating func terminate() {
        state = .terminated
    }

    /// Requests that replace the remote target from their Contact (§12.2, RFC 3311 for UPDATE).
    public static func isTargetRefresh(_ method: SIPMethod) -> Bool {
        method == .invite || method == .update
    }

    /// The one Contact a dialog takes as remote target, nil when there is none. Several, `*`, or
    /// a URI that is not sip/sips cannot be a target (§8.1.1.8); nor can a sip URI in a secure
    /// dialog, which would let a later request leave TLS (fail closed).
    static func target(in headers: SIPHeaders, secure: Bool) throws(DialogError) -> SIPURI? {
        let contacts = try parsed { () throws(SIPParseError) in try headers.contacts() }
        guard let first = contacts.first else { return nil }
        guard contacts.count == 1, case .address(let address) = first else {
            throw .malformed(SIPParseError(element: "Contact", reason: "a dialog needs exactly one Contact address"))
        }
        guard let uri = address.uri.sipURI else {
            throw .malformed(SIPParseError(element: "Contact", reason: "\(address.uri.scheme) URI cannot be a dialog's remote target"))
        }
        if secure, !uri.isSecure {
            throw .malformed(SIPParseError(element: "Contact", reason: "a sips dialog needs a sips Contact"))
        }
        return uri
    }

    /// The Record-Route values as written; each must be a sip/sips URI because requests are routed to it.
    static func routeSet(in headers: SIPHeaders) throws(DialogError) -> [NameAddress] {
        let routes = try parsed { () throws(SIPParseError) in try headers.addresses(.recordRoute) }
        for route in routes where route.uri.sipURI == nil {
            throw .malformed(SIPParseError(element: "Record-Route", reason: "\(route.uri.scheme) URI cannot be routed to"))
        }
        return routes
    }
}

/// What a message did to a dialog, so the caller can act on it without comparing before and after.
public enum DialogChange: Hashable, Sendable {
    case none
    /// The dialog went from early to confirmed (a 2xx).
    case confirmed
    /// A target refresh replaced the remote target.
    case remoteTargetRefreshed
    case terminated
}
