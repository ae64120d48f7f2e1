/// A header field name. Known names compare by identity whatever their spelling or compact
/// form; unknown names compare case-insensitively and keep the spelling they arrived with.
public struct SIPHeaderName: Hashable, Sendable, CustomStringConvertible {
    /// The spelling used on the wire: the long form for known headers.
    public let canonical: String
    let lowercased: String
    /// A known header's identity, so lookups compare integers; -1 for unknown names.
    let id: Int16
    /// Headers whose value is a comma-separated list (RFC 3261 §7.3.1), so several lines may be
    /// combined and one line may carry several values.
    public let isList: Bool

    public init(_ name: String) {
        if let known = SIPHeaderName.lookup(name) {
            self = known
        } else {
            self.init(unknown: name)
        }
    }

    private init(known canonical: String, id: Int16, isList: Bool = false) {
        self.canonical = canonical
        self.lowercased = canonical.lowercased()
        self.id = id
        self.isList = isList
    }

    private init(unknown spelling: String) {
        self.canonical = spelling
        self.lowercased = spelling.lowercased()
        self.id = -1
        self.isList = false
    }

    public var description: String { canonical }

    public static func == (lhs: SIPHeaderName, rhs: SIPHeaderName) -> Bool {
        lhs.id == rhs.id && (lhs.id >= 0 || lhs.lowercased == rhs.lowercased)
    }

    public func hash(into hasher: inout Hasher) {
        if id >= 0 { hasher.combine(id) } else { hasher.combine(lowercased) }
    }

    public static let accept = SIPHeaderName(known: "Accept", id: 0, isList: true)
    public static let acceptEncoding = SIPHeaderName(known: "Accept-Encoding", id: 1, isList: true)
    public static let acceptLanguage = SIPHeaderName(known: "Accept-Language", id: 2, isList: true)
    public static let alertInfo = SIPHeaderName(known: "Alert-Info", id: 3, isList: true)
    public static let allow = SIPHeaderName(known: "Allow", id: 4, isList: true)
    public static let allowEvents = SIPHeaderName(known: "Allow-Events", id: 5, isList: true)
    public static let authenticationInfo = SIPHeaderName(known: "Authentication-Info", id: 6)
    public static let authorization = SIPHeaderName(known: "Authorization", id: 7)
    public static let callID = SIPHeaderName(known: "Call-ID", id: 8)
    public static let callInfo = SIPHeaderName(known: "Call-Info", id: 9, isList: true)
    public static let contact = SIPHeaderName(known: "Contact", id: 10, isList: true)
    public static let contentDisposition = SIPHeaderName(known: "Content-Disposition", id: 11)
    public static let contentEncoding = SIPHeaderName(known: "Content-Encoding", id: 12, isList: true)
    public static let contentLanguage = SIPHeaderName(known: "Content-Language", id: 13, isList: true)
    public static let contentLength = SIPHeaderName(known: "Content-Length", id: 14)
    public static let contentType = SIPHeaderName(known: "Content-Type", id: 15)
    public static let cseq = SIPHeaderName(known: "CSeq", id: 16)
    public static let date = SIPHeaderName(known: "Date", id: 17)
    public static let errorInfo = SIPHeaderName(known: "Error-Info", id: 18, isList: true)
    public static let event = SIPHeaderName(known: "Event", id: 19)
    public static let expires = SIPHeaderName(known: "Expires", id: 20)
    public static let flowTimer = SIPHeaderName(known: "Flow-Timer", id: 21)
    public static let from = SIPHeaderName(known: "From", id: 22)
    public static let identity = SIPHeaderName(known: "Identity", id: 23)
    public static let inReplyTo = SIPHeaderName(known: "In-Reply-To", id: 24, isList: true)
    public static let maxForwards = SIPHeaderName(known: "Max-Forwards", id: 25)
    public static let mimeVersion = SIPHeaderName(known: "MIME-Version", id: 26)
    public static let minExpires = SIPHeaderName(known: "Min-Expires", id: 27)
    public static let minSE = SIPHeaderName(known: "Min-SE", id: 28)
    public static let organization = SIPHeaderName(known: "Organization", id: 29)
    public static let path = SIPHeaderName(known: "Path", id: 30, isList: true)
    public static let priority = SIPHeaderName(known: "Priority", id: 31)
    public static let privacy = SIPHeaderName(known: "Privacy", id: 32, isList: true)
    public static let proxyAuthenticate = SIPHeaderName(known: "Proxy-Authenticate", id: 33)
    public static let proxyAuthorization = SIPHeaderName(known: "Proxy-Authorization", id: 34)
    public static let proxyRequire = SIPHeaderName(known: "Proxy-Require", id: 35, isList: true)
    public static let pAssertedIdentity = SIPHeaderName(known: "P-Asserted-Identity", id: 36, isList: true)
    public static let rack = SIPHeaderName(known: "RAck", id: 37)
    public static let reason = SIPHeaderName(known: "Reason", id: 38, isList: true)
    public static let recordRoute = SIPHeaderName(known: "Record-Route", id: 39, isList: true)
    public static let referTo = SIPHeaderName(known: "Refer-To", id: 40)
    public static let referredBy = SIPHeaderName(known: "Referred-By", id: 41)
    public static let replyTo = SIPHeaderName(known: "Reply-To", id: 42)
    public static let require = SIPHeaderName(known: "Require", id: 43, isList: true)
    public static let retryAfter = SIPHeaderName(known: "Retry-After", id: 44)
    public static let route = SIPHeaderName(known: "Route", id: 45, isList: true)
    public static let rseq = SIPHeaderName(known: "RSeq", id: 46)
    public static let server = SIPHeaderName(known: "Server", id: 47)
    public static let serviceRoute = SIPHeaderName(known: "Service-Route", id: 48, isList: true)
    public static let sessionExpires = SIPHeaderName(known: "Session-Expires", id: 49)
    public static let subject = SIPHeaderName(known: "Subject", id: 50)
    public static let subscriptionState = SIPHeaderName(known: "Subscription-State", id: 51)
    public static let supported = SIPHeaderName(known: "Supported", id: 52, isList: true)
    public static let timestamp = SIPHeaderName(known: "Timestamp", id: 53)
    public static let to = SIPHeaderName(known: "To", id: 54)
    public static let unsupported = SIPHeaderName(known: "Unsupported", id: 55, isList: true)
    public static let userAgent = SIPHeaderName(known: "User-Agent", id: 56)
    public static let via = SIPHeaderName(known: "Via", id: 57, isList: true)
    public static let warning = SIPHeaderName(known: "Warning", id: 58, isList: true)
    public static let wwwAuthenticate = SIPHeaderName(known: "WWW-Authenticate", id: 59)

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
}
