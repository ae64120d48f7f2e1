/// A Digest challenge, the value of `WWW-Authenticate` or `Proxy-Authenticate` (RFC 3261 §22.1,
/// RFC 7616 §3.3, RFC 8760).
public struct DigestChallenge: Hashable, Sendable, CustomStringConvertible {
    public var realm: String
    /// The protection space URIs of `domain`, split on white space; empty when absent.
    public var domain: [String]
    public var nonce: String
    public var opaque: String?
    public var stale: Bool
    /// The algorithm as written; nil when absent, which means MD5.
    public var algorithm: SIPDigestAlgorithm?
    /// The `qop` options as written (e.g. `["auth", "auth-int"]`); empty when absent.
    public var qopOptions: [String]
    /// Parameters this type does not model (e.g. `charset`, `userhash`), kept in order.
    public var extensions: [AuthParameter]

    public init(
        realm: String, nonce: String, algorithm: SIPDigestAlgorithm? = nil, qopOptions: [String] = ["auth"],
        opaque: String? = nil, stale: Bool = false, domain: [String] = [], extensions: [AuthParameter] = []
    ) {
        self.realm = realm
        self.domain = domain
        self.nonce = nonce
        self.opaque = opaque
        self.stale = stale
        self.algorithm = algorithm
        self.qopOptions = qopOptions
        self.extensions = extensions
    }

    /// The algorithm to compute with: MD5 when none is named.
    public var effectiveAlgorithm: SIPDigestAlgorithm { algorithm ?? .md5 }

    /// Whether the server offers `qop=auth`.
    public var offersAuthQOP: Bool { qopOptions.contains { $0.lowercased() == "auth" } }

    /// Parses a header value; errors name `header`.
    public init(parsing value: String, header: SIPHeaderName = .wwwAuthenticate) throws(SIPParseError) {
        let element = header.canonical
        var table = AuthParameterTable(
            remaining: try AuthHeaderParser.parseDigest(value, element: element), element: element)
        realm = try table.require("realm")
        nonce = try table.require("nonce")
        opaque = table.take("opaque")
        if let text = table.take("domain") {
            domain = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        } else {
            domain = []
        }
        if let text = table.take("stale") {
            switch text.lowercased() {
            case "true": stale = true
            case "false": stale = false
            default: throw SIPParseError(element: element, reason: "stale must be true or false")
            }
        } else {
            stale = false
        }
        if let text = table.take("algorithm") {
            algorithm = try SIPDigestAlgorithm(token: text, element: element)
        } else {
            algorithm = nil
        }
        if let text = table.take("qop") {
            var options: [String] = []
            for option in text.split(separator: ",", omittingEmptySubsequences: false) {
                let trimmed = String(option.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
                guard AuthHeaderParser.isToken(trimmed) else {
                    throw SIPParseError(element: element, reason: "qop options are not a list of tokens")
                }
                options.append(trimmed)
            }
            qopOptions = options
        } else {
            qopOptions = []
        }
        extensions = table.remaining
    }

    /// The canonical header value: `Digest realm="…", nonce="…", …`.
    public var description: String {
        var output = "Digest realm="
        AuthHeaderParser.appendQuoted(realm, into: &output)
        if !domain.isEmpty {
            output.append(", domain=")
            AuthHeaderParser.appendQuoted(domain.joined(separator: " "), into: &output)
        }
        output.append(", nonce=")
        AuthHeaderParser.appendQuoted(nonce, into: &output)
        if let opaque {
            output.append(", opaque=")
            AuthHeaderParser.appendQuoted(opaque, into: &output)
        }
        if stale { output.append(", stale=true") }
        if let algorithm { output.append(", algorithm=\(algorithm.rawValue)") }
        if !qopOptions.isEmpty {
            output.append(", qop=")
            AuthHeaderParser.appendQuoted(qopOptions.joined(separator: ","), into: &output)
        }
        for parameter in extensions { AuthHeaderParser.append(parameter, into: &output) }
        return output
    }
}
