/// Digest credentials, the value of `Authorization` or `Proxy-Authorization` (RFC 3261 §22.2,
/// RFC 7616 §3.4, RFC 8760). Only `qop=auth` (or no qop) and `userhash=false` are accepted.
public struct DigestCredentials: Hashable, Sendable, CustomStringConvertible {
    public var username: String
    public var realm: String
    public var nonce: String
    /// The `digest-uri` (`uri` parameter), as written.
    public var uri: String
    /// The request-digest, lower-case hex of the algorithm's length.
    public var response: String
    /// The algorithm as written; nil when absent, which means MD5.
    public var algorithm: SIPDigestAlgorithm?
    public var cnonce: String?
    public var opaque: String?
    /// `auth` when present (the only value accepted).
    public var qop: String?
    /// The nonce count as written: exactly eight hex digits.
    public var nonceCount: String?
    /// Parameters this type does not model, kept in order.
    public var extensions: [AuthParameter]

    public init(
        username: String, realm: String, nonce: String, uri: String, response: String,
        algorithm: SIPDigestAlgorithm? = nil, cnonce: String? = nil, opaque: String? = nil, qop: String? = nil,
        nonceCount: String? = nil, extensions: [AuthParameter] = []
    ) {
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response
        self.algorithm = algorithm
        self.cnonce = cnonce
        self.opaque = opaque
        self.qop = qop
        self.nonceCount = nonceCount
        self.extensions = extensions
    }

    /// The algorithm to compute with: MD5 when none is named.
    public var effectiveAlgorithm: SIPDigestAlgorithm { algorithm ?? .md5 }

    /// The nonce count as a number, for replay checks.
    public var nonceCountValue: UInt32? { nonceCount.flatMap { UInt32($0, radix: 16) } }

    /// `nc`, `cnonce` and `qop` when qop is in use.
    public var qopParameters: DigestQOPParameters? {
        guard let qop, let cnonce, let nonceCount else { return nil }
        return DigestQOPParameters(nonceCount: nonceCount, cnonce: cnonce, qop: qop)
    }

    /// The scheme that begins an authorization or challenge header value (`Digest`, `Basic`,
    /// `NoOneKnowsThisScheme`…), or nil if it does not begin with a token.
    public static func authenticationScheme(of value: String) -> String? {
        AuthHeaderParser.scheme(of: value)
    }

    /// Parses a header value; errors name `header`.
    public init(parsing value: String, header: SIPHeaderName = .authorization) throws(SIPParseError) {
        let element = header.canonical
        var table = AuthParameterTable(
            remaining: try AuthHeaderParser.parseDigest(value, element: element), element: element)
        username = try table.require("username")
        realm = try table.require("realm")
        nonce = try table.require("nonce")
        uri = try table.require("uri")
        let responseText = try table.require("response")
        if let text = table.take("algorithm") {
            algorithm = try SIPDigestAlgorithm(token: text, element: element)
        } else {
            algorithm = nil
        }
        let expectedLength = (algorithm ?? .md5).hexLength
        guard responseText.utf8.allSatisfy(Grammar.isHexDigit) else {
            throw SIPParseError(element: element, reason: "response is not hex")
        }
        guard responseText.utf8.count == expectedLength else {
            throw SIPParseError(
                element: element,
                reason: "response has \(responseText.utf8.count) hex digits, \((algorithm ?? .md5).rawValue) needs \(expectedLength)")
        }
        response = responseText.lowercased()
        cnonce = table.take("cnonce")
        opaque = table.take("opaque")
        if let text = table.take("qop") {
            guard text.lowercased() == "auth" else {
                throw SIPParseError(element: element, reason: "qop \(AuthHeaderParser.printable(text)) is not supported")
            }
            qop = "auth"
        } else {
            qop = nil
        }
        if let text = table.take("nc") {
            guard text.utf8.count == 8, text.utf8.allSatisfy(Grammar.isHexDigit) else {
                throw SIPParseError(element: element, reason: "nc must be 8 hex digits")
            }
            nonceCount = text
        } else {
            nonceCount = nil
        }
        if qop != nil {
            guard cnonce != nil else { throw SIPParseError(element: element, reason: "missing cnonce (qop is auth)") }
            guard nonceCount != nil else { throw SIPParseError(element: element, reason: "missing nc (qop is auth)") }
        } else {
            guard cnonce == nil, nonceCount == nil else {
                throw SIPParseError(element: element, reason: "cnonce or nc without qop")
            }
        }
        if let text = table.take("userhash") {
            switch text.lowercased() {
            case "false": break
            case "true": throw SIPParseError(element: element, reason: "userhash=true is not supported")
            default: throw SIPParseError(element: element, reason: "userhash must be true or false")
            }
        }
        extensions = table.remaining
    }

    /// Credentials answering `challenge` for a request, as a user agent (e.g. the trunk toward
    /// the call manager) builds them. Uses `qop=auth` when the challenge offers it. Throws when
    /// `hashing` refuses the challenge's algorithm (MD5 in FIPS mode).
    public static func answering(
        _ challenge: DigestChallenge, username: String, password: String, method: String, uri: String,
        cnonce: String, nonceCount: UInt32 = 1, using hashing: DigestHashing
    ) throws(DigestHashingError) -> DigestCredentials {
        let algorithm = challenge.effectiveAlgorithm
        let ha1 = try algorithm.ha1(username: username, realm: challenge.realm, password: password, using: hashing)
        let ha2 = try algorithm.ha2(method: method, uri: uri, using: hashing)
        var qopParameters: DigestQOPParameters?
        if challenge.offersAuthQOP {
            let hex = String(nonceCount, radix: 16)
            qopParameters = DigestQOPParameters(
                nonceCount: String(repeating: "0", count: 8 - hex.count) + hex, cnonce: cnonce)
        }
        let response = try algorithm.response(ha1: ha1, nonce: challenge.nonce, ha2: ha2, qop: qopParameters, using: hashing)
        return DigestCredentials(
            username: username, realm: challenge.realm, nonce: challenge.nonce, uri: uri, response: response,
            algorithm: challenge.algorithm, cnonce: qopParameters?.cnonce, opaque: challenge.opaque,
            qop: qopParameters?.qop, nonceCount: qopParameters?.nonceCount)
    }

    /// The canonical header value: `Digest username="…", realm="…", …`.
    public var description: String {
        var output = "Digest username="
        AuthHeaderParser.appendQuoted(username, into: &output)
        output.append(", realm=")
        AuthHeaderParser.appendQuoted(realm, into: &output)
        output.append(", nonce=")
        AuthHeaderParser.appendQuoted(nonce, into: &output)
        output.append(", uri=")
        AuthHeaderParser.appendQuoted(uri, into: &output)
        output.append(", response=")
        AuthHeaderParser.appendQuoted(response, into: &output)
        if let algorithm { output.append(", algorithm=\(algorithm.rawValue)") }
        if let cnonce {
            output.append(", cnonce=")
            AuthHeaderParser.appendQuoted(cnonce, into: &output)
        }
        if let opaque {
            output.append(", opaque=")
            AuthHeaderParser.appendQuoted(opaque, into: &output)
        }
        if let qop { output.append(", qop=\(qop)") }
        if let nonceCount { output.append(", nc=\(nonceCount)") }
        for parameter in extensions { AuthHeaderParser.append(parameter, into: &output) }
        return output
    }
}
