/// A digest algorithm of RFC 7616 / RFC 8760 that Outpost computes: `MD5` and `SHA-256`.
///
/// The `-sess` variants are recognised by the parser and refused with a precise error; any other
/// algorithm name is refused as unknown.
public enum SIPDigestAlgorithm: String, Hashable, Sendable, CaseIterable {
    case md5 = "MD5"
    case sha256 = "SHA-256"

    /// The length of a hex-encoded hash (and so of `response` and of an HA1) for this algorithm.
    public var hexLength: Int {
        switch self {
        case .md5: 32
        case .sha256: 64
        }
    }

    /// Parses an algorithm token case-insensitively; the error names `element`.
    init(token: String, element: String) throws(SIPParseError) {
        switch token.lowercased() {
        case "md5": self = .md5
        case "sha-256": self = .sha256
        case "md5-sess", "sha-256-sess", "sha-512-256-sess":
            throw SIPParseError(element: element, reason: "algorithm \(token) (session variant) is not supported")
        default:
            throw SIPParseError(element: element, reason: "unknown algorithm \(AuthHeaderParser.printable(token))")
        }
    }

    /// The lower-case hex hash of the UTF-8 bytes of `text`, computed by `hashing`.
    public func hexHash(_ text: String, using hashing: DigestHashing) throws(DigestHashingError) -> String {
        var text = text
        let digest = text.withUTF8 { utf8 in
            Result { () throws(DigestHashingError) in try hashing.hash(self, UnsafeRawBufferPointer(utf8)) }
        }
        return Self.hex(try digest.get())
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// `HA1 = H(username ":" realm ":" password)` (RFC 7616 §3.4.2, non-session algorithms).
    public func ha1(username: String, realm: String, password: String, using hashing: DigestHashing) throws(DigestHashingError) -> String {
        try hexHash("\(username):\(realm):\(password)", using: hashing)
    }

    /// `HA2 = H(method ":" digest-uri)` (qop absent or `auth`).
    public func ha2(method: String, uri: String, using hashing: DigestHashing) throws(DigestHashingError) -> String {
        try hexHash("\(method):\(uri)", using: hashing)
    }

    /// The request-digest. With `qop` (only `auth` is meaningful here):
    /// `H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)`; without: `H(HA1 ":" nonce ":" HA2)`
    /// (RFC 2069 compatibility, which RFC 3261 §22.4 requires).
    public func response(
        ha1: String, nonce: String, ha2: String, qop: DigestQOPParameters? = nil, using hashing: DigestHashing
    ) throws(DigestHashingError) -> String {
        if let qop {
            try hexHash("\(ha1):\(nonce):\(qop.nonceCount):\(qop.cnonce):\(qop.qop):\(ha2)", using: hashing)
        } else {
            try hexHash("\(ha1):\(nonce):\(ha2)", using: hashing)
        }
    }
}

/// The three values that `qop` brings into the response: `nc`, `cnonce` and the `qop` itself.
public struct DigestQOPParameters: Hashable, Sendable {
    /// The nonce count as sent: exactly eight hex digits.
    public var nonceCount: String
    public var cnonce: String
    public var qop: String

    public init(nonceCount: String, cnonce: String, qop: String = "auth") {
        self.nonceCount = nonceCount
        self.cnonce = cnonce
        self.qop = qop
    }
}

/// Digest computation and verification against a stored HA1, so a registrar keeps
/// `H(username:realm:password)` rather than the password.
public enum DigestVerifier {
    /// Whether `credentials` answer correctly for `method`, given the stored HA1 of the user for
    /// `credentials.realm` and the credentials' algorithm. The comparison takes the same time
    /// whatever bytes differ (for inputs of equal length).
    ///
    /// This checks the arithmetic only; the caller checks that the nonce is one it issued and is
    /// fresh, that `nc` increases, that `uri` matches the Request-URI and that realm and username
    /// are the ones it expects.
    ///
    /// An algorithm `hashing` refuses (MD5 in FIPS mode) verifies nothing: the answer is `false`.
    public static func verify(_ credentials: DigestCredentials, method: String, storedHA1: String, using hashing: DigestHashing) -> Bool {
        (try? check(credentials, method: method, storedHA1: storedHA1, using: hashing)) ?? false
    }

    /// `verify`, with the reason when `hashing` refuses the credentials' algorithm.
    public static func check(
        _ credentials: DigestCredentials, method: String, storedHA1: String, using hashing: DigestHashing
    ) throws(DigestHashingError) -> Bool {
        let algorithm = credentials.effectiveAlgorithm
        guard storedHA1.utf8.count == algorithm.hexLength else { return false }
        let ha2 = try algorithm.ha2(method: method, uri: credentials.uri, using: hashing)
        let expected = try algorithm.response(
            ha1: storedHA1.lowercased(), nonce: credentials.nonce, ha2: ha2, qop: credentials.qopParameters, using: hashing)
        return constantTimeEqual(expected, credentials.response.lowercased())
    }

    /// Equality of the UTF-8 bytes whose running time does not depend on where they differ.
    public static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8), right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<left.count {
            difference |= left[index] ^ right[index]
        }
        return difference == 0
    }
}
