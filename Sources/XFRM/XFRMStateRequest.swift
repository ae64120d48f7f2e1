/// The transforms of an ESP SA, named as the kernel's crypto API names them.
public enum XFRMAlgorithms: Sendable, Hashable, CustomStringConvertible {
    /// An AEAD transform, e.g. `rfc4106(gcm(aes))` with key||salt and a 128-bit ICV.
    case aead(name: String, key: [UInt8], icvBits: Int)
    /// A cipher and an authenticator, e.g. `cbc(aes)` with `hmac(sha256)` truncated to 128 bits.
    case cipherAndAuthentication(cipher: String, cipherKey: [UInt8], authentication: String, authenticationKey: [UInt8], truncationBits: Int)

    /// AES-GCM ESP (RFC 4106) with a 16-byte AES-128 key followed by the 4-byte salt.
    public static func rfc4106AES128GCM(keyAndSalt: [UInt8]) -> XFRMAlgorithms {
        .aead(name: "rfc4106(gcm(aes))", key: keyAndSalt, icvBits: 128)
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

/// A request to install an ESP SA.
public struct XFRMStateRequest: Sendable, Hashable, CustomStringConvertible {
    public var source: XFRMAddress
    public var destination: XFRMAddress
    /// Host byte order.
    public var spi: UInt32
    public var mode: XFRMMode
    public var reqid: UInt32
    /// Replay window in packets (0 disables replay protection).
    public var replayWindow: UInt8
    public var algorithms: XFRMAlgorithms

    public init(
        source: XFRMAddress, destination: XFRMAddress, spi: UInt32, mode: XFRMMode = .transport,
        reqid: UInt32 = 0, replayWindow: UInt8 = 32, algorithms: XFRMAlgorithms
    ) {
        self.source = source
        self.destination = destination
        self.spi = spi
        self.mode = mode
        self.reqid = reqid
        self.replayWindow = replayWindow
        self.algorithms = algorithms
    }

    public var description: String {
        "src \(source) dst \(destination) proto esp spi 0x\(String(spi, radix: 16)) mode \(mode) reqid \(reqid) \(algorithms)"
    }
}
