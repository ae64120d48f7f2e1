/// The transforms of an ESP SA, named as the kernel's crypto API names them, with their keys.
public enum XFRMAlgorithms: Sendable, Hashable, CustomStringConvertible {
    /// An AEAD transform, e.g. `rfc4106(gcm(aes))` with key||salt and a 128-bit ICV.
    case aead(name: String, key: [UInt8], icvBits: Int)
    /// A cipher and an authenticator, e.g. `cbc(aes)` with `hmac(sha256)` truncated to 128 bits.
    case cipherAndAuthentication(cipher: String, cipherKey: [UInt8], authentication: String, authenticationKey: [UInt8], truncationBits: Int)

    /// AES-GCM ESP (RFC 4106) with a 16-byte AES-128 key followed by the 4-byte salt.
    public static func rfc4106AES128GCM(keyAndSalt: [UInt8]) -> XFRMAlgorithms {
        .aead(name: "rfc4106(gcm(aes))", key: keyAndSalt, icvBits: 128)
    }

    /// AES-GCM ESP (RFC 4106) with a 32-byte AES-256 key followed by the 4-byte salt.
    public static func rfc4106AES256GCM(keyAndSalt: [UInt8]) -> XFRMAlgorithms {
        .aead(name: "rfc4106(gcm(aes))", key: keyAndSalt, icvBits: 128)
    }

    /// AES-CBC with HMAC-SHA-256 truncated to 128 bits (RFC 4868).
    public static func aesCBCWithHMACSHA256(aesKey: [UInt8], hmacKey: [UInt8]) -> XFRMAlgorithms {
        .cipherAndAuthentication(cipher: "cbc(aes)", cipherKey: aesKey, authentication: "hmac(sha256)", authenticationKey: hmacKey, truncationBits: 128)
    }

    /// Names and sizes, as a read-back SA reports them.
    public var info: XFRMAlgorithmInfo {
        switch self {
        case .aead(let name, let key, let icvBits):
            .aead(name: name, keyBits: key.count * 8, icvBits: icvBits)
        case .cipherAndAuthentication(let cipher, let cipherKey, let authentication, let authenticationKey, let truncationBits):
            .cipherAndAuthentication(
                cipher: cipher, cipherKeyBits: cipherKey.count * 8, authentication: authentication,
                authenticationKeyBits: authenticationKey.count * 8, truncationBits: truncationBits)
        }
    }

    /// Never prints key material.
    public var description: String {
        switch self {
        case .aead(let name, let key, let icvBits):
            "aead \(name) (\(key.count * 8)-bit key, \(icvBits)-bit ICV)"
        case .cipherAndAuthentication(let cipher, let cipherKey, let authentication, let authenticationKey, let truncationBits):
            "enc \(cipher) (\(cipherKey.count * 8)-bit key) auth \(authentication) (\(authenticationKey.count * 8)-bit key, \(truncationBits)-bit ICV)"
        }
    }
}

/// A request to install (or update) an SA.
public struct XFRMStateRequest: Sendable, Hashable, CustomStringConvertible {
    public var source: XFRMAddress
    public var destination: XFRMAddress
    /// Host byte order.
    public var spi: UInt32
    public var proto: XFRMProtocol
    public var mode: XFRMMode
    public var reqid: UInt32
    /// Replay window in packets (0 disables replay protection).
    public var replayWindow: UInt8
    public var algorithms: XFRMAlgorithms
    public var lifetime: XFRMLifetime
    /// Which traffic the SA may carry; `nil` for any (what `ip xfrm state add` does without `sel`).
    public var selector: XFRMSelector?
    public var mark: XFRMMark?

    public init(
        source: XFRMAddress, destination: XFRMAddress, spi: UInt32, proto: XFRMProtocol = .esp, mode: XFRMMode = .transport,
        reqid: UInt32 = 0, replayWindow: UInt8 = 32, algorithms: XFRMAlgorithms, lifetime: XFRMLifetime = .unlimited,
        selector: XFRMSelector? = nil, mark: XFRMMark? = nil
    ) {
        self.source = source
        self.destination = destination
        self.spi = spi
        self.proto = proto
        self.mode = mode
        self.reqid = reqid
        self.replayWindow = replayWindow
        self.algorithms = algorithms
        self.lifetime = lifetime
        self.selector = selector
        self.mark = mark
    }

    public var id: XFRMStateID { XFRMStateID(destination: destination, spi: spi, proto: proto) }

    public var description: String {
        var text = "src \(source) dst \(destination) proto \(proto) spi 0x\(String(spi, radix: 16)) mode \(mode) reqid \(reqid) \(algorithms)"
        if let mark { text += " \(mark)" }
        return text
    }
}

/// A request to install (or update) a security policy.
public struct XFRMPolicyRequest: Sendable, Hashable, CustomStringConvertible {
    /// Must name both addresses (the family comes from them).
    public var selector: XFRMSelector
    public var direction: XFRMPolicyDirection
    /// Lower values win when several policies match.
    public var priority: UInt32
    public var action: XFRMPolicyAction
    public var templates: [XFRMTemplate]
    public var mark: XFRMMark?
    public var lifetime: XFRMLifetime
    /// 0 lets the kernel choose.
    public var index: UInt32

    public init(
        selector: XFRMSelector, direction: XFRMPolicyDirection, priority: UInt32 = 0, action: XFRMPolicyAction = .allow,
        templates: [XFRMTemplate] = [], mark: XFRMMark? = nil, lifetime: XFRMLifetime = .unlimited, index: UInt32 = 0
    ) {
        self.selector = selector
        self.direction = direction
        self.priority = priority
        self.action = action
        self.templates = templates
        self.mark = mark
        self.lifetime = lifetime
        self.index = index
    }

    public var description: String {
        var text = "\(selector) dir \(direction) priority \(priority) \(action)"
        if let mark { text += " \(mark)" }
        for template in templates { text += " \(template)" }
        return text
    }
}
