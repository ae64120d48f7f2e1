import SIP

/// What identifies a client transaction among responses (§17.1.3): the branch of the top Via,
/// which the client chose, and the CSeq method, because a CANCEL shares its INVITE's branch.
public struct ClientTransactionKey: Hashable, Sendable, CustomStringConvertible {
    public var branch: String
    public var method: SIPMethod

    public init(branch: String, method: SIPMethod) {
        self.branch = branch
        self.method = method
    }

    /// The key of the transaction this request will start.
    public init(request: SIPRequest) throws(SIPParseError) {
        self.init(branch: try Self.branch(of: request.headers), method: request.method)
    }

    /// The key of the transaction this response answers.
    public init(response: SIPResponse) throws(SIPParseError) {
        self.init(branch: try Self.branch(of: response.headers), method: try response.headers.cseq().method)
    }

    public var description: String { "\(branch) \(method)" }

    private static func branch(of headers: SIPHeaders) throws(SIPParseError) -> String {
        guard let branch = try headers.topVia().branch, !branch.isEmpty else {
            throw SIPParseError(element: "Via", reason: "top Via has no branch")
        }
        return branch
    }
}

/// The sent-by of a Via: where the previous hop wants responses (§18.2.2). Hosts compare
/// case-insensitively; a missing port is kept apart from an explicit one, as written.
public struct SentBy: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int?

    public init(host: String, port: Int?) {
        self.host = host.lowercased()
        self.port = port
    }

    public init(_ via: Via) { self.init(host: via.host, port: via.port) }

    public var description: String { port.map { "\(host):\($0)" } ?? host }
}

/// What identifies a server transaction among requests (§17.2.3).
public enum ServerTransactionKey: Hashable, Sendable {
    /// A request whose top Via branch starts with the magic cookie: branch, sent-by and method.
    case rfc3261(branch: String, sentBy: SentBy, method: SIPMethod)
    /// A request from an RFC 2543 element. The To tag is compared apart from the key, because the
    /// ACK carries the tag of the response while every other request carries the tag of the request.
    case rfc2543(RFC2543RequestIdentity)

    /// The key of the transaction this request belongs to; an ACK belongs to its INVITE's.
    public init(request: SIPRequest) throws(SIPParseError) {
        let topVia = try request.headers.topVia()
        let method = request.method == .ack ? SIPMethod.invite : request.method
        if topVia.isRFC3261Branch, let branch = topVia.branch {
            self = .rfc3261(branch: branch, sentBy: SentBy(topVia), method: method)
            return
        }
        self = .rfc2543(
            RFC2543RequestIdentity(
                requestURI: request.uri,
                fromTag: try request.headers.from().tag,
                callID: try request.headers.callID(),
                sequence: try request.headers.cseq().sequence,
                method: method,
                topVia: topVia))
    }

    public var method: SIPMethod {
        switch self {
        case .rfc3261(_, _, let method): method
        case .rfc2543(let identity): identity.method
        }
    }

    /// For the key of a CANCEL, the key of the INVITE it cancels: the same except for the method (§9.2).
    public var cancelledInvite: ServerTransactionKey {
        switch self {
        case .rfc3261(let branch, let sentBy, _):
            return .rfc3261(branch: branch, sentBy: sentBy, method: .invite)
        case .rfc2543(var identity):
            identity.method = .invite
            return .rfc2543(identity)
        }
    }

    /// The To-tag half of RFC 2543 matching: a request matches when its To tag equals the one of
    /// the request that created the transaction, an ACK when its To tag equals the one of the
    /// response the transaction sent. RFC 3261 keys need no such check.
    public static func rfc2543ToTagMatches(
        _ request: SIPRequest, original: SIPRequest, lastResponse: SIPResponse?
    ) -> Bool {
        let tag = (try? request.headers.to())?.tag
        if request.method == .ack {
            guard let lastResponse, let responseTo = try? lastResponse.headers.to() else { return false }
            return tag == responseTo.tag
        }
        return tag == (try? original.headers.to())?.tag
    }
}

/// The fields an RFC 2543 request is matched by (§17.2.3), apart from the To tag.
public struct RFC2543RequestIdentity: Hashable, Sendable {
    public var requestURI: URI
    public var fromTag: String?
    public var callID: String
    public var sequence: UInt32
    public var method: SIPMethod
    public var topVia: Via

    public init(requestURI: URI, fromTag: String?, callID: String, sequence: UInt32, method: SIPMethod, topVia: Via) {
        self.requestURI = requestURI
        self.fromTag = fromTag
        self.callID = callID
        self.sequence = sequence
        self.method = method
        self.topVia = topVia
    }
}
