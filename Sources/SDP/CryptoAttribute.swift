/// An SRTP crypto suite named in `a=crypto` (RFC 4568 §6.2, RFC 7714 §14.1).
public enum CryptoSuite: Sendable, Hashable, CustomStringConvertible {
    case aesCM128HMACSHA1_80
    case aesCM128HMACSHA1_32
    case aeadAES128GCM
    case aeadAES256GCM
    /// Any other suite, kept by name so the offer still parses; it is never selected.
    case other(String)

    /// Names are matched exactly, as every implementation writes them; a known name never
    /// becomes `.other`.
    public init(name: String) {
        switch name {
        case "AES_CM_128_HMAC_SHA1_80": self = .aesCM128HMACSHA1_80
        case "AES_CM_128_HMAC_SHA1_32": self = .aesCM128HMACSHA1_32
        case "AEAD_AES_128_GCM": self = .aeadAES128GCM
        case "AEAD_AES_256_GCM": self = .aeadAES256GCM
        default: self = .other(name)
        }
    }

    public var name: String {
        switch self {
        case .aesCM128HMACSHA1_80: "AES_CM_128_HMAC_SHA1_80"
        case .aesCM128HMACSHA1_32: "AES_CM_128_HMAC_SHA1_32"
        case .aeadAES128GCM: "AEAD_AES_128_GCM"
        case .aeadAES256GCM: "AEAD_AES_256_GCM"
        case .other(let name): name
        }
    }

    public var description: String { name }

    /// The suites this edge can run (libsrtp with OpenSSL).
    public static let supported: [CryptoSuite] = [
        .aesCM128HMACSHA1_80, .aesCM128HMACSHA1_32, .aeadAES128GCM, .aeadAES256GCM,
    ]

    public var isSupported: Bool {
        if case .other = self { return false }
        return true
    }

    /// Master key length in bytes.
    public var keyLength: Int? {
        switch self {
        case .aesCM128HMACSHA1_80, .aesCM128HMACSHA1_32, .aeadAES128GCM: 16
        case .aeadAES256GCM: 32
        case .other: nil
        }
    }

    /// Master salt length in bytes: 112 bits for AES-CM (RFC 3711), 96 bits for GCM (RFC 7714).
    public var saltLength: Int? {
        switch self {
        case .aesCM128HMACSHA1_80, .aesCM128HMACSHA1_32: 14
        case .aeadAES128GCM, .aeadAES256GCM: 12
        case .other: nil
        }
    }

    /// The length of the inline key||salt.
    public var keySaltLength: Int? {
        guard let keyLength, let saltLength else { return nil }
        return keyLength + saltLength
    }
}

/// One `inline:<key||salt>[|<lifetime>][|<MKI>:<length>]` key parameter.
public struct SRTPKeyParameter: Sendable, Hashable {
    /// Master key lifetime in packets, kept in the form it was written.
    public enum Lifetime: Sendable, Hashable, CustomStringConvertible {
        case packets(UInt64)
        /// `2^n`, n in 0...63.
        case powerOfTwo(UInt8)

        public var packetCount: UInt64 {
            switch self {
            case .packets(let count): count
            case .powerOfTwo(let exponent): 1 << UInt64(exponent)
            }
        }

        public var description: String {
            switch self {
            case .packets(let count): String(count)
            case .powerOfTwo(let exponent): "2^" + String(exponent)
            }
        }
    }

    /// Master key identifier: a value carried in `length` bytes of every packet.
    public struct MKI: Sendable, Hashable {
        public var value: UInt64
        /// 1...128 bytes, the range libsrtp accepts.
        public var length: UInt8

        public init(value: UInt64, length: UInt8) {
            self.value = value
            self.length = length
        }
    }

    /// Master key followed by master salt.
    public var keySalt: [UInt8]
    public var lifetime: Lifetime?
    public var mki: MKI?

    public init(keySalt: [UInt8], lifetime: Lifetime? = nil, mki: MKI? = nil) {
        self.keySalt = keySalt
        self.lifetime = lifetime
        self.mki = mki
    }

    /// The wire form; the key is always written with base64 padding.
    public var value: String {
        var text = "inline:" + Base64.encode(keySalt)
        if let lifetime { text += "|" + lifetime.description }
        if let mki { text += "|" + String(mki.value) + ":" + String(mki.length) }
        return text
    }
}

/// `a=crypto:<tag> <crypto-suite> <key-params> [<session-param> …]` (RFC 4568 §9.1).
public struct CryptoAttribute: Sendable, Hashable {
    /// 1 to 9 digits; the answer repeats the tag of the line it accepts.
    public var tag: UInt32
    public var suite: CryptoSuite
    /// Several keys are separated by ';' on the wire; each then carries an MKI.
    public var keyParameters: [SRTPKeyParameter]
    /// Verbatim, e.g. "UNENCRYPTED_SRTCP", "KDR=10", "FEC_ORDER=FEC_SRTP", "WSH=128".
    public var sessionParameters: [String]

    public init(tag: UInt32, suite: CryptoSuite, keyParameters: [SRTPKeyParameter], sessionParameters: [String] = []) {
        self.tag = tag
        self.suite = suite
        self.keyParameters = keyParameters
        self.sessionParameters = sessionParameters
    }

    /// Parses the attribute value (what follows `a=crypto:`). Error messages never quote key
    /// material, so they can be logged and sent in a Warning header.
    public init(parsing value: String) throws(SDPAttributeError) {
        let fields = splitFields(Bytes(value.utf8))
        guard fields.count >= 3 else {
            throw Self.fail("expected '<tag> <crypto-suite> <key-params> [<session-param> …]', found \(fields.count) field(s)")
        }
        guard fields[0].count <= 9, case .value(let tag) = parseDecimal(fields[0]) else {
            throw Self.fail("tag \(quoted(fields[0])) is not a number of 1 to 9 digits")
        }
        guard !fields[1].isEmpty, fields[1].allSatisfy(Self.isSuiteByte) else {
            throw Self.fail("crypto suite \(quoted(fields[1])) is not made of letters, digits and '_'")
        }
        let suite = CryptoSuite(name: string(fields[1]))

        var keys: [SRTPKeyParameter] = []
        for (index, keyParameter) in split(fields[2], on: ASCII.semicolon).enumerated() {
            keys.append(try Self.parseKeyParameter(keyParameter, number: index + 1, suite: suite))
        }
        if keys.count > 1 {
            let lengths = Set(keys.map { $0.mki?.length })
            guard lengths.count == 1, lengths.first! != nil else {
                throw Self.fail("\(keys.count) keys need an MKI each, all of the same length (RFC 4568 §6.1)")
            }
        }

        var sessionParameters: [String] = []
        for parameter in fields.dropFirst(3) {
            guard parameter.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
                throw Self.fail("session parameter \(quoted(parameter)) has a character that is not visible ASCII")
            }
            sessionParameters.append(string(parameter))
        }
        self.init(tag: UInt32(tag), suite: suite, keyParameters: keys, sessionParameters: sessionParameters)
    }

    /// The attribute value, e.g. "1 AES_CM_128_HMAC_SHA1_80 inline:…|2^20|1:4".
    public var value: String {
        var text = String(tag) + " " + suite.name + " "
        text += keyParameters.map(\.value).joined(separator: ";")
        for parameter in sessionParameters { text += " " + parameter }
        return text
    }

    public var attribute: SDPAttribute { SDPAttribute("crypto", value) }

    private static func fail(_ reason: String) -> SDPAttributeError {
        SDPAttributeError(attribute: "crypto", reason: reason)
    }

    private static func isSuiteByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "_")
    }

    private static func parseKeyParameter(_ text: Bytes, number: Int, suite: CryptoSuite) throws(SDPAttributeError)
        -> SRTPKeyParameter
    {
        let which = "key parameter \(number)"
        guard let colon = text.firstIndex(of: ASCII.colon) else {
            throw fail("\(which) is not '<method>:<key info>'")
        }
        let method = text[..<colon]
        guard method.elementsEqual("inline".utf8) else {
            throw fail("\(which): key method \(quoted(method)) is not supported, only inline")
        }
        let parts = split(text[(colon + 1)...], on: ASCII.pipe)
        guard parts.count <= 3 else { throw fail("\(which) has more than a key, a lifetime and an MKI") }

        let keySalt: [UInt8]
        do {
            keySalt = try Base64.decode(parts[0])
        } catch {
            throw fail("\(which): inline key \(error.reason)")
        }
        if let expected = suite.keySaltLength, keySalt.count != expected {
            throw fail("\(which): inline key||salt is \(keySalt.count) bytes, \(suite.name) needs \(expected)")
        }

        var lifetime: SRTPKeyParameter.Lifetime?
        var mki: SRTPKeyParameter.MKI?
        for part in parts.dropFirst() {
            if let mkiColon = part.firstIndex(of: ASCII.colon) {
                guard mki == nil else { throw fail("\(which) has more than one MKI") }
                mki = try parseMKI(value: part[..<mkiColon], length: part[(mkiColon + 1)...], which: which)
            } else {
                guard mki == nil else { throw fail("\(which): the lifetime must come before the MKI") }
                guard lifetime == nil else { throw fail("\(which) has more than one lifetime") }
                lifetime = try parseLifetime(part, which: which)
            }
        }
        return SRTPKeyParameter(keySalt: keySalt, lifetime: lifetime, mki: mki)
    }

    private static func parseLifetime(_ text: Bytes, which: String) throws(SDPAttributeError) -> SRTPKeyParameter.Lifetime {
        if text.starts(with: "2^".utf8) {
            let exponent = text.dropFirst(2)
            guard case .value(let value) = parseDecimal(exponent), value <= 63 else {
                throw fail("\(which): lifetime \(quoted(text)) is not 2^n with n in 0...63")
            }
            return .powerOfTwo(UInt8(value))
        }
        switch parseDecimal(text) {
        case .value(let value): return .packets(value)
        case .tooLarge: throw fail("\(which): lifetime \(quoted(text)) does not fit 64 bits")
        case .notANumber: throw fail("\(which): lifetime \(quoted(text)) is not a number or 2^n")
        }
    }

    private static func parseMKI(value: Bytes, length: Bytes, which: String) throws(SDPAttributeError)
        -> SRTPKeyParameter.MKI
    {
        guard length.count <= 3, case .value(let byteCount) = parseDecimal(length) else {
            throw fail("\(which): MKI length \(quoted(length)) is not a number of 1 to 3 digits")
        }
        guard byteCount >= 1, byteCount <= 128 else {
            throw fail("\(which): MKI length \(byteCount) is out of range 1...128")
        }
        let number: UInt64
        switch parseDecimal(value) {
        case .value(let parsed): number = parsed
        case .tooLarge: throw fail("\(which): MKI value \(quoted(value)) does not fit 64 bits")
        case .notANumber: throw fail("\(which): MKI value \(quoted(value)) is not a number")
        }
        if byteCount < 8, number >> (8 * byteCount) != 0 {
            throw fail("\(which): MKI value \(number) does not fit in \(byteCount) byte(s)")
        }
        return SRTPKeyParameter.MKI(value: number, length: UInt8(byteCount))
    }
}

extension MediaDescription {
    /// Every `a=crypto` of the stream; the first malformed one is an error. Offer/answer instead
    /// skips malformed lines and picks among the rest.
    public func cryptoAttributes() throws(SDPAttributeError) -> [CryptoAttribute] {
        var result: [CryptoAttribute] = []
        for attribute in attributes where attribute.name == "crypto" {
            result.append(try CryptoAttribute(parsing: attribute.value ?? ""))
        }
        return result
    }
}
