/// A header field name. Known names compare by identity whatever their spelling or compact
/// form; unknown names compare case-insensitively and keep the spelling they arrived with.
///
/// A known name holds only a small integer, so copying it costs no reference counting; its
/// canonical spelling comes from a table of string literals.
public struct SIPHeaderName: Hashable, Sendable, CustomStringConvertible {
    /// The headers this stack knows by name.
    enum Known: UInt8, Sendable, CaseIterable {
        case accept = 0
        case acceptEncoding = 1
        case acceptLanguage = 2
        case alertInfo = 3
        case allow = 4
        case allowEvents = 5
        case authenticationInfo = 6
        case authorization = 7
        case callID = 8
        case callInfo = 9
        case contact = 10
        case contentDisposition = 11
        case contentEncoding = 12
        case contentLanguage = 13
        case contentLength = 14
        case contentType = 15
        case cseq = 16
        case date = 17
        case errorInfo = 18
        case event = 19
        case expires = 20
        case flowTimer = 21
        case from = 22
        case identity = 23
        case inReplyTo = 24
        case maxForwards = 25
        case mimeVersion = 26
        case minExpires = 27
        case minSE = 28
        case organization = 29
        case path = 30
        case priority = 31
        case privacy = 32
        case proxyAuthenticate = 33
        case proxyAuthorization = 34
        case proxyRequire = 35
        case pAssertedIdentity = 36
        case rack = 37
        case reason = 38
        case recordRoute = 39
        case referTo = 40
        case referredBy = 41
        case replyTo = 42
        case require = 43
        case retryAfter = 44
        case route = 45
        case rseq = 46
        case server = 47
        case serviceRoute = 48
        case sessionExpires = 49
        case subject = 50
        case subscriptionState = 51
        case supported = 52
        case timestamp = 53
        case to = 54
        case unsupported = 55
        case userAgent = 56
        case via = 57
        case warning = 58
        case wwwAuthenticate = 59
    }

    enum Storage: Sendable {
        case known(Known)
        /// The spelling as received or given.
        case unknown(String)
    }

    let storage: Storage

    public init(_ name: String) {
        if let known = SIPHeaderName.lookup(name) {
            self = known
        } else {
            self.storage = .unknown(name)
        }
    }

    init(_ known: Known) {
        self.storage = .known(known)
    }

    /// The known header this name is, or nil for an unknown name.
    var known: Known? {
        if case .known(let known) = storage { return known }
        return nil
    }

    /// The spelling used on the wire: the long form for known headers.
    public var canonical: String {
        switch storage {
        case .known(let known): known.canonical
        case .unknown(let spelling): spelling
        }
    }

    /// Runs `body` over the bytes of `canonical`.
    @inline(__always)
    func withCanonicalBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        var spelling = canonical
        return spelling.withUTF8(body)
    }

    /// Headers whose value is a comma-separated list (RFC 3261 §7.3.1), so several lines may be
    /// combined and one line may carry several values.
    public var isList: Bool {
        known?.isList ?? false
    }

    public var description: String { canonical }

    public static func == (lhs: SIPHeaderName, rhs: SIPHeaderName) -> Bool {
        switch (lhs.storage, rhs.storage) {
        case (.known(let left), .known(let right)): left == right
        case (.unknown(let left), .unknown(let right)): Grammar.equalIgnoringCase(left, right)
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch storage {
        case .known(let known):
            hasher.combine(0 as UInt8)
            hasher.combine(known.rawValue)
        case .unknown(let spelling):
            hasher.combine(1 as UInt8)
            hasher.combine(spelling.lowercased())
        }
    }

    public static var accept: SIPHeaderName { SIPHeaderName(.accept) }
    public static var acceptEncoding: SIPHeaderName { SIPHeaderName(.acceptEncoding) }
    public static var acceptLanguage: SIPHeaderName { SIPHeaderName(.acceptLanguage) }
    public static var alertInfo: SIPHeaderName { SIPHeaderName(.alertInfo) }
    public static var allow: SIPHeaderName { SIPHeaderName(.allow) }
    public static var allowEvents: SIPHeaderName { SIPHeaderName(.allowEvents) }
    public static var authenticationInfo: SIPHeaderName { SIPHeaderName(.authenticationInfo) }
    public static var authorization: SIPHeaderName { SIPHeaderName(.authorization) }
    public static var callID: SIPHeaderName { SIPHeaderName(.callID) }
    public static var callInfo: SIPHeaderName { SIPHeaderName(.callInfo) }
    public static var contact: SIPHeaderName { SIPHeaderName(.contact) }
    public static var contentDisposition: SIPHeaderName { SIPHeaderName(.contentDisposition) }
    public static var contentEncoding: SIPHeaderName { SIPHeaderName(.contentEncoding) }
    public static var contentLanguage: SIPHeaderName { SIPHeaderName(.contentLanguage) }
    public static var contentLength: SIPHeaderName { SIPHeaderName(.contentLength) }
    public static var contentType: SIPHeaderName { SIPHeaderName(.contentType) }
    public static var cseq: SIPHeaderName { SIPHeaderName(.cseq) }
    public static var date: SIPHeaderName { SIPHeaderName(.date) }
    public static var errorInfo: SIPHeaderName { SIPHeaderName(.errorInfo) }
    public static var event: SIPHeaderName { SIPHeaderName(.event) }
    public static var expires: SIPHeaderName { SIPHeaderName(.expires) }
    public static var flowTimer: SIPHeaderName { SIPHeaderName(.flowTimer) }
    public static var from: SIPHeaderName { SIPHeaderName(.from) }
    public static var identity: SIPHeaderName { SIPHeaderName(.identity) }
    public static var inReplyTo: SIPHeaderName { SIPHeaderName(.inReplyTo) }
    public static var maxForwards: SIPHeaderName { SIPHeaderName(.maxForwards) }
    public static var mimeVersion: SIPHeaderName { SIPHeaderName(.mimeVersion) }
    public static var minExpires: SIPHeaderName { SIPHeaderName(.minExpires) }
    public static var minSE: SIPHeaderName { SIPHeaderName(.minSE) }
    public static var organization: SIPHeaderName { SIPHeaderName(.organization) }
    public static var path: SIPHeaderName { SIPHeaderName(.path) }
    public static var priority: SIPHeaderName { SIPHeaderName(.priority) }
    public static var privacy: SIPHeaderName { SIPHeaderName(.privacy) }
    public static var proxyAuthenticate: SIPHeaderName { SIPHeaderName(.proxyAuthenticate) }
    public static var proxyAuthorization: SIPHeaderName { SIPHeaderName(.proxyAuthorization) }
    public static var proxyRequire: SIPHeaderName { SIPHeaderName(.proxyRequire) }
    public static var pAssertedIdentity: SIPHeaderName { SIPHeaderName(.pAssertedIdentity) }
    public static var rack: SIPHeaderName { SIPHeaderName(.rack) }
    public static var reason: SIPHeaderName { SIPHeaderName(.reason) }
    public static var recordRoute: SIPHeaderName { SIPHeaderName(.recordRoute) }
    public static var referTo: SIPHeaderName { SIPHeaderName(.referTo) }
    public static var referredBy: SIPHeaderName { SIPHeaderName(.referredBy) }
    public static var replyTo: SIPHeaderName { SIPHeaderName(.replyTo) }
    public static var require: SIPHeaderName { SIPHeaderName(.require) }
    public static var retryAfter: SIPHeaderName { SIPHeaderName(.retryAfter) }
    public static var route: SIPHeaderName { SIPHeaderName(.route) }
    public static var rseq: SIPHeaderName { SIPHeaderName(.rseq) }
    public static var server: SIPHeaderName { SIPHeaderName(.server) }
    public static var serviceRoute: SIPHeaderName { SIPHeaderName(.serviceRoute) }
    public static var sessionExpires: SIPHeaderName { SIPHeaderName(.sessionExpires) }
    public static var subject: SIPHeaderName { SIPHeaderName(.subject) }
    public static var subscriptionState: SIPHeaderName { SIPHeaderName(.subscriptionState) }
    public static var supported: SIPHeaderName { SIPHeaderName(.supported) }
    public static var timestamp: SIPHeaderName { SIPHeaderName(.timestamp) }
    public static var to: SIPHeaderName { SIPHeaderName(.to) }
    public static var unsupported: SIPHeaderName { SIPHeaderName(.unsupported) }
    public static var userAgent: SIPHeaderName { SIPHeaderName(.userAgent) }
    public static var via: SIPHeaderName { SIPHeaderName(.via) }
    public static var warning: SIPHeaderName { SIPHeaderName(.warning) }
    public static var wwwAuthenticate: SIPHeaderName { SIPHeaderName(.wwwAuthenticate) }

    static func lookup(_ name: String) -> SIPHeaderName? {
        var copy = name
        return copy.withUTF8 { lookup($0) }
    }

    /// Finds a known header by its bytes without allocating: RFC 3261 §7.3.3, RFC 3515,
    /// RFC 3892, RFC 4028, RFC 3265 and RFC 8224 compact forms, then long names by length and
    /// first letter, compared case-insensitively.
    static func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> SIPHeaderName? {
        guard let known = Known.lookup(bytes) else { return nil }
        return SIPHeaderName(known)
    }

    /// Builds a name from received bytes: the known name, or the spelling as received.
    static func received(_ bytes: UnsafeBufferPointer<UInt8>) -> SIPHeaderName {
        if let known = Known.lookup(bytes) { return SIPHeaderName(known) }
        return SIPHeaderName(unknownSpelling: bytes.text)
    }

    private init(unknownSpelling: String) {
        self.storage = .unknown(unknownSpelling)
    }
}

extension SIPHeaderName.Known {
    var canonical: String {
        switch self {
        case .accept: "Accept"
        case .acceptEncoding: "Accept-Encoding"
        case .acceptLanguage: "Accept-Language"
        case .alertInfo: "Alert-Info"
        case .allow: "Allow"
        case .allowEvents: "Allow-Events"
        case .authenticationInfo: "Authentication-Info"
        case .authorization: "Authorization"
        case .callID: "Call-ID"
        case .callInfo: "Call-Info"
        case .contact: "Contact"
        case .contentDisposition: "Content-Disposition"
        case .contentEncoding: "Content-Encoding"
        case .contentLanguage: "Content-Language"
        case .contentLength: "Content-Length"
        case .contentType: "Content-Type"
        case .cseq: "CSeq"
        case .date: "Date"
        case .errorInfo: "Error-Info"
        case .event: "Event"
        case .expires: "Expires"
        case .flowTimer: "Flow-Timer"
        case .from: "From"
        case .identity: "Identity"
        case .inReplyTo: "In-Reply-To"
        case .maxForwards: "Max-Forwards"
        case .mimeVersion: "MIME-Version"
        case .minExpires: "Min-Expires"
        case .minSE: "Min-SE"
        case .organization: "Organization"
        case .path: "Path"
        case .priority: "Priority"
        case .privacy: "Privacy"
        case .proxyAuthenticate: "Proxy-Authenticate"
        case .proxyAuthorization: "Proxy-Authorization"
        case .proxyRequire: "Proxy-Require"
        case .pAssertedIdentity: "P-Asserted-Identity"
        case .rack: "RAck"
        case .reason: "Reason"
        case .recordRoute: "Record-Route"
        case .referTo: "Refer-To"
        case .referredBy: "Referred-By"
        case .replyTo: "Reply-To"
        case .require: "Require"
        case .retryAfter: "Retry-After"
        case .route: "Route"
        case .rseq: "RSeq"
        case .server: "Server"
        case .serviceRoute: "Service-Route"
        case .sessionExpires: "Session-Expires"
        case .subject: "Subject"
        case .subscriptionState: "Subscription-State"
        case .supported: "Supported"
        case .timestamp: "Timestamp"
        case .to: "To"
        case .unsupported: "Unsupported"
        case .userAgent: "User-Agent"
        case .via: "Via"
        case .warning: "Warning"
        case .wwwAuthenticate: "WWW-Authenticate"
        }
    }

    var isList: Bool {
        switch self {
        case .accept, .acceptEncoding, .acceptLanguage, .alertInfo, .allow, .allowEvents, .callInfo, .contact, .contentEncoding, .contentLanguage, .errorInfo, .inReplyTo, .path, .privacy, .proxyRequire, .pAssertedIdentity, .reason, .recordRoute, .require, .route, .serviceRoute, .supported, .unsupported, .via, .warning: true
        default: false
        }
    }

    static func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> Self? {
        let count = bytes.count
        guard count > 0 else { return nil }
        let first = Grammar.lowercase(bytes[0])
        if count == 1 {
            switch first {
            case UInt8(ascii: "i"): return .callID
            case UInt8(ascii: "m"): return .contact
            case UInt8(ascii: "e"): return .contentEncoding
            case UInt8(ascii: "l"): return .contentLength
            case UInt8(ascii: "c"): return .contentType
            case UInt8(ascii: "f"): return .from
            case UInt8(ascii: "s"): return .subject
            case UInt8(ascii: "k"): return .supported
            case UInt8(ascii: "t"): return .to
            case UInt8(ascii: "v"): return .via
            case UInt8(ascii: "o"): return .event
            case UInt8(ascii: "r"): return .referTo
            case UInt8(ascii: "b"): return .referredBy
            case UInt8(ascii: "x"): return .sessionExpires
            case UInt8(ascii: "u"): return .allowEvents
            case UInt8(ascii: "y"): return .identity
            default: return nil
            }
        }
        switch count {
        case 2:
            switch first {
            case UInt8(ascii: "t"): return bytes.equalsLowercase("to") ? .to : nil
            default: return nil
            }
        case 3:
            switch first {
            case UInt8(ascii: "v"): return bytes.equalsLowercase("via") ? .via : nil
            default: return nil
            }
        case 4:
            switch first {
            case UInt8(ascii: "c"): return bytes.equalsLowercase("cseq") ? .cseq : nil
            case UInt8(ascii: "d"): return bytes.equalsLowercase("date") ? .date : nil
            case UInt8(ascii: "f"): return bytes.equalsLowercase("from") ? .from : nil
            case UInt8(ascii: "p"): return bytes.equalsLowercase("path") ? .path : nil
            case UInt8(ascii: "r"):
                if bytes.equalsLowercase("rack") { return .rack }
                if bytes.equalsLowercase("rseq") { return .rseq }
                return nil
            default: return nil
            }
        case 5:
            switch first {
            case UInt8(ascii: "a"): return bytes.equalsLowercase("allow") ? .allow : nil
            case UInt8(ascii: "e"): return bytes.equalsLowercase("event") ? .event : nil
            case UInt8(ascii: "r"): return bytes.equalsLowercase("route") ? .route : nil
            default: return nil
            }
        case 6:
            switch first {
            case UInt8(ascii: "a"): return bytes.equalsLowercase("accept") ? .accept : nil
            case UInt8(ascii: "m"): return bytes.equalsLowercase("min-se") ? .minSE : nil
            case UInt8(ascii: "r"): return bytes.equalsLowercase("reason") ? .reason : nil
            case UInt8(ascii: "s"): return bytes.equalsLowercase("server") ? .server : nil
            default: return nil
            }
        case 7:
            switch first {
            case UInt8(ascii: "c"):
                if bytes.equalsLowercase("call-id") { return .callID }
                if bytes.equalsLowercase("contact") { return .contact }
                return nil
            case UInt8(ascii: "e"): return bytes.equalsLowercase("expires") ? .expires : nil
            case UInt8(ascii: "p"): return bytes.equalsLowercase("privacy") ? .privacy : nil
            case UInt8(ascii: "r"): return bytes.equalsLowercase("require") ? .require : nil
            case UInt8(ascii: "s"): return bytes.equalsLowercase("subject") ? .subject : nil
            case UInt8(ascii: "w"): return bytes.equalsLowercase("warning") ? .warning : nil
            default: return nil
            }
        case 8:
            switch first {
            case UInt8(ascii: "i"): return bytes.equalsLowercase("identity") ? .identity : nil
            case UInt8(ascii: "p"): return bytes.equalsLowercase("priority") ? .priority : nil
            case UInt8(ascii: "r"):
                if bytes.equalsLowercase("refer-to") { return .referTo }
                if bytes.equalsLowercase("reply-to") { return .replyTo }
                return nil
            default: return nil
            }
        case 9:
            switch first {
            case UInt8(ascii: "c"): return bytes.equalsLowercase("call-info") ? .callInfo : nil
            case UInt8(ascii: "s"): return bytes.equalsLowercase("supported") ? .supported : nil
            case UInt8(ascii: "t"): return bytes.equalsLowercase("timestamp") ? .timestamp : nil
            default: return nil
            }
        case 10:
            switch first {
            case UInt8(ascii: "a"): return bytes.equalsLowercase("alert-info") ? .alertInfo : nil
            case UInt8(ascii: "e"): return bytes.equalsLowercase("error-info") ? .errorInfo : nil
            case UInt8(ascii: "f"): return bytes.equalsLowercase("flow-timer") ? .flowTimer : nil
            case UInt8(ascii: "u"): return bytes.equalsLowercase("user-agent") ? .userAgent : nil
            default: return nil
            }
        case 11:
            switch first {
            case UInt8(ascii: "i"): return bytes.equalsLowercase("in-reply-to") ? .inReplyTo : nil
            case UInt8(ascii: "m"): return bytes.equalsLowercase("min-expires") ? .minExpires : nil
            case UInt8(ascii: "r"):
                if bytes.equalsLowercase("referred-by") { return .referredBy }
                if bytes.equalsLowercase("retry-after") { return .retryAfter }
                return nil
            case UInt8(ascii: "u"): return bytes.equalsLowercase("unsupported") ? .unsupported : nil
            default: return nil
            }
        case 12:
            switch first {
            case UInt8(ascii: "a"): return bytes.equalsLowercase("allow-events") ? .allowEvents : nil
            case UInt8(ascii: "c"): return bytes.equalsLowercase("content-type") ? .contentType : nil
            case UInt8(ascii: "m"):
                if bytes.equalsLowercase("max-forwards") { return .maxForwards }
                if bytes.equalsLowercase("mime-version") { return .mimeVersion }
                return nil
            case UInt8(ascii: "o"): return bytes.equalsLowercase("organization") ? .organization : nil
            case UInt8(ascii: "r"): return bytes.equalsLowercase("record-route") ? .recordRoute : nil
            default: return nil
            }
        case 13:
            switch first {
            case UInt8(ascii: "a"): return bytes.equalsLowercase("authorization") ? .authorization : nil
            case UInt8(ascii: "p"): return bytes.equalsLowercase("proxy-require") ? .proxyRequire : nil
            case UInt8(ascii: "s"): return bytes.equalsLowercase("service-route") ? .serviceRoute : nil
            default: return nil
            }
        case 14:
            switch first {
            case UInt8(ascii: "c"): return bytes.equalsLowercase("content-length") ? .contentLength : nil
            default: return nil
            }
        case 15:
            switch first {
            case UInt8(ascii: "a"):
                if bytes.equalsLowercase("accept-encoding") { return .acceptEncoding }
                if bytes.equalsLowercase("accept-language") { return .acceptLanguage }
                return nil
            case UInt8(ascii: "s"): return bytes.equalsLowercase("session-expires") ? .sessionExpires : nil
            default: return nil
            }
        case 16:
            switch first {
            case UInt8(ascii: "c"):
                if bytes.equalsLowercase("content-encoding") { return .contentEncoding }
                if bytes.equalsLowercase("content-language") { return .contentLanguage }
                return nil
            case UInt8(ascii: "w"): return bytes.equalsLowercase("www-authenticate") ? .wwwAuthenticate : nil
            default: return nil
            }
        case 18:
            switch first {
            case UInt8(ascii: "p"): return bytes.equalsLowercase("proxy-authenticate") ? .proxyAuthenticate : nil
            case UInt8(ascii: "s"): return bytes.equalsLowercase("subscription-state") ? .subscriptionState : nil
            default: return nil
            }
        case 19:
            switch first {
            case UInt8(ascii: "a"): return bytes.equalsLowercase("authentication-info") ? .authenticationInfo : nil
            case UInt8(ascii: "c"): return bytes.equalsLowercase("content-disposition") ? .contentDisposition : nil
            case UInt8(ascii: "p"):
                if bytes.equalsLowercase("proxy-authorization") { return .proxyAuthorization }
                if bytes.equalsLowercase("p-asserted-identity") { return .pAssertedIdentity }
                return nil
            default: return nil
            }
        default: return nil
        }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Case-insensitive comparison with a literal of the same length (at least 2) made of
    /// lower-case ASCII letters and `-`, a word at a time: a letter matches itself in either
    /// case, anything else only itself, exactly as comparing `Grammar.lowercase` of each byte.
    @inline(__always)
    fileprivate func equalsLowercase(_ literal: StaticString) -> Bool {
        let count = self.count
        let received = UnsafeRawPointer(baseAddress!)
        let known = UnsafeRawPointer(literal.utf8Start)
        if count >= 8 {
            var offset = 0
            while offset + 8 < count {
                guard Self.wordsMatch(received, known, offset, as: UInt64.self) else { return false }
                offset += 8
            }
            return Self.wordsMatch(received, known, count - 8, as: UInt64.self)
        }
        if count >= 4 {
            return Self.wordsMatch(received, known, 0, as: UInt32.self)
                && Self.wordsMatch(received, known, count - 4, as: UInt32.self)
        }
        return Self.wordsMatch(received, known, 0, as: UInt16.self)
            && Self.wordsMatch(received, known, count - 2, as: UInt16.self)
    }

    @inline(__always)
    private static func wordsMatch<Word: FixedWidthInteger & UnsignedInteger>(
        _ received: UnsafeRawPointer, _ known: UnsafeRawPointer, _ offset: Int, as: Word.Type
    ) -> Bool {
        let word = received.loadUnaligned(fromByteOffset: offset, as: Word.self)
        let literal = known.loadUnaligned(fromByteOffset: offset, as: Word.self)
        // Lower-case letters have bit 0x40 and `-` has not: fold case only where the literal has a letter.
        let caseBits = (literal & Word(truncatingIfNeeded: 0x4040_4040_4040_4040 as UInt64)) >> 1
        return word | caseBits == literal
    }
}
