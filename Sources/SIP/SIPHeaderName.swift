/// A header field name. Known names compare by identity whatever their spelling or compact
/// form; unknown names compare case-insensitively and keep the spelling they arrived with.
public struct SIPHeaderName: Hashable, Sendable, CustomStringConvertible {
    /// The spelling used on the wire: the long form for known headers.
    public let canonical: String
    let lowercased: String

    public init(_ name: String) {
        if let known = SIPHeaderName.lookup(name) {
            self = known
        } else {
            self.canonical = name
            self.lowercased = name.lowercased()
        }
    }

    private init(known canonical: String) {
        self.canonical = canonical
        self.lowercased = canonical.lowercased()
    }

    public var description: String { canonical }

    public static func == (lhs: SIPHeaderName, rhs: SIPHeaderName) -> Bool { lhs.lowercased == rhs.lowercased }
    public func hash(into hasher: inout Hasher) { hasher.combine(lowercased) }

    /// Headers whose value is a comma-separated list (RFC 3261 §7.3.1), so several lines may be
    /// combined and one line may carry several values.
    public var isList: Bool { SIPHeaderName.listHeaders.contains(lowercased) }

    /// Headers that must appear at most once with a single value.
    public var isSingleValued: Bool { SIPHeaderName.singleValuedHeaders.contains(lowercased) }

    public static let accept = SIPHeaderName(known: "Accept")
    public static let acceptEncoding = SIPHeaderName(known: "Accept-Encoding")
    public static let acceptLanguage = SIPHeaderName(known: "Accept-Language")
    public static let alertInfo = SIPHeaderName(known: "Alert-Info")
    public static let allow = SIPHeaderName(known: "Allow")
    public static let allowEvents = SIPHeaderName(known: "Allow-Events")
    public static let authenticationInfo = SIPHeaderName(known: "Authentication-Info")
    public static let authorization = SIPHeaderName(known: "Authorization")
    public static let callID = SIPHeaderName(known: "Call-ID")
    public static let callInfo = SIPHeaderName(known: "Call-Info")
    public static let contact = SIPHeaderName(known: "Contact")
    public static let contentDisposition = SIPHeaderName(known: "Content-Disposition")
    public static let contentEncoding = SIPHeaderName(known: "Content-Encoding")
    public static let contentLanguage = SIPHeaderName(known: "Content-Language")
    public static let contentLength = SIPHeaderName(known: "Content-Length")
    public static let contentType = SIPHeaderName(known: "Content-Type")
    public static let cseq = SIPHeaderName(known: "CSeq")
    public static let date = SIPHeaderName(known: "Date")
    public static let errorInfo = SIPHeaderName(known: "Error-Info")
    public static let event = SIPHeaderName(known: "Event")
    public static let expires = SIPHeaderName(known: "Expires")
    public static let flowTimer = SIPHeaderName(known: "Flow-Timer")
    public static let from = SIPHeaderName(known: "From")
    public static let identity = SIPHeaderName(known: "Identity")
    public static let inReplyTo = SIPHeaderName(known: "In-Reply-To")
    public static let maxForwards = SIPHeaderName(known: "Max-Forwards")
    public static let mimeVersion = SIPHeaderName(known: "MIME-Version")
    public static let minExpires = SIPHeaderName(known: "Min-Expires")
    public static let minSE = SIPHeaderName(known: "Min-SE")
    public static let organization = SIPHeaderName(known: "Organization")
    public static let path = SIPHeaderName(known: "Path")
    public static let priority = SIPHeaderName(known: "Priority")
    public static let privacy = SIPHeaderName(known: "Privacy")
    public static let proxyAuthenticate = SIPHeaderName(known: "Proxy-Authenticate")
    public static let proxyAuthorization = SIPHeaderName(known: "Proxy-Authorization")
    public static let proxyRequire = SIPHeaderName(known: "Proxy-Require")
    public static let pAssertedIdentity = SIPHeaderName(known: "P-Asserted-Identity")
    public static let rack = SIPHeaderName(known: "RAck")
    public static let reason = SIPHeaderName(known: "Reason")
    public static let recordRoute = SIPHeaderName(known: "Record-Route")
    public static let referTo = SIPHeaderName(known: "Refer-To")
    public static let referredBy = SIPHeaderName(known: "Referred-By")
    public static let replyTo = SIPHeaderName(known: "Reply-To")
    public static let require = SIPHeaderName(known: "Require")
    public static let retryAfter = SIPHeaderName(known: "Retry-After")
    public static let route = SIPHeaderName(known: "Route")
    public static let rseq = SIPHeaderName(known: "RSeq")
    public static let server = SIPHeaderName(known: "Server")
    public static let serviceRoute = SIPHeaderName(known: "Service-Route")
    public static let sessionExpires = SIPHeaderName(known: "Session-Expires")
    public static let subject = SIPHeaderName(known: "Subject")
    public static let subscriptionState = SIPHeaderName(known: "Subscription-State")
    public static let supported = SIPHeaderName(known: "Supported")
    public static let timestamp = SIPHeaderName(known: "Timestamp")
    public static let to = SIPHeaderName(known: "To")
    public static let unsupported = SIPHeaderName(known: "Unsupported")
    public static let userAgent = SIPHeaderName(known: "User-Agent")
    public static let via = SIPHeaderName(known: "Via")
    public static let warning = SIPHeaderName(known: "Warning")
    public static let wwwAuthenticate = SIPHeaderName(known: "WWW-Authenticate")

    private static let all: [SIPHeaderName] = [
        accept, acceptEncoding, acceptLanguage, alertInfo, allow, allowEvents, authenticationInfo, authorization,
        callID, callInfo, contact, contentDisposition, contentEncoding, contentLanguage, contentLength, contentType,
        cseq, date, errorInfo, event, expires, flowTimer, from, identity, inReplyTo, maxForwards, mimeVersion,
        minExpires, minSE, organization, path, priority, privacy, proxyAuthenticate, proxyAuthorization,
        proxyRequire, pAssertedIdentity, rack, reason, recordRoute, referTo, referredBy, replyTo, require,
        retryAfter, route, rseq, server, serviceRoute, sessionExpires, subject, subscriptionState, supported,
        timestamp, to, unsupported, userAgent, via, warning, wwwAuthenticate,
    ]

    /// RFC 3261 §7.3.3, RFC 3515, RFC 3892, RFC 4028, RFC 3265, RFC 8224 compact forms.
    private static let compactForms: [UInt8: SIPHeaderName] = [
        UInt8(ascii: "i"): callID, UInt8(ascii: "m"): contact, UInt8(ascii: "e"): contentEncoding,
        UInt8(ascii: "l"): contentLength, UInt8(ascii: "c"): contentType, UInt8(ascii: "f"): from,
        UInt8(ascii: "s"): subject, UInt8(ascii: "k"): supported, UInt8(ascii: "t"): to, UInt8(ascii: "v"): via,
        UInt8(ascii: "o"): event, UInt8(ascii: "r"): referTo, UInt8(ascii: "b"): referredBy,
        UInt8(ascii: "x"): sessionExpires, UInt8(ascii: "u"): allowEvents, UInt8(ascii: "y"): identity,
    ]

    /// Known names indexed by length, so a lookup compares only names that can match.
    private static let byLength: [[(bytes: [UInt8], name: SIPHeaderName)]] = {
        var table = Array(repeating: [(bytes: [UInt8], name: SIPHeaderName)](), count: 32)
        for name in all { table[name.lowercased.utf8.count].append((Array(name.lowercased.utf8), name)) }
        return table
    }()

    private static let listHeaders: Set<String> = Set(
        [
            accept, acceptEncoding, acceptLanguage, alertInfo, allow, allowEvents, callInfo, contact,
            contentEncoding, contentLanguage, errorInfo, inReplyTo, path, proxyRequire, pAssertedIdentity,
            reason, recordRoute, require, route, serviceRoute, supported, unsupported, via, warning, privacy,
        ].map(\.lowercased))

    private static let singleValuedHeaders: Set<String> = Set(
        [callID, contentLength, contentType, cseq, from, to, maxForwards, expires, minExpires].map(\.lowercased))

    static func lookup(_ name: String) -> SIPHeaderName? {
        var copy = name
        return copy.withUTF8 { lookup($0) }
    }

    /// Finds a known header by its bytes without allocating.
    static func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> SIPHeaderName? {
        if bytes.count == 1 { return compactForms[Grammar.lowercase(bytes[0])] }
        guard bytes.count < byLength.count else { return nil }
        candidates: for candidate in byLength[bytes.count] {
            for index in 0..<bytes.count where Grammar.lowercase(bytes[index]) != candidate.bytes[index] {
                continue candidates
            }
            return candidate.name
        }
        return nil
    }

    /// Builds a name from received bytes: the known name, or the spelling as received.
    static func received(_ bytes: UnsafeBufferPointer<UInt8>) -> SIPHeaderName {
        if let known = lookup(bytes) { return known }
        let spelling = bytes.text
        return SIPHeaderName(unknown: spelling)
    }

    private init(unknown spelling: String) {
        self.canonical = spelling
        self.lowercased = spelling.lowercased()
    }
}
