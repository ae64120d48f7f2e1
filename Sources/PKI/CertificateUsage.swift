internal import COpenSSL

/// The keyUsage extension's bits (RFC 5280 §4.2.1.3), as OpenSSL reports them.
public struct KeyUsage: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let digitalSignature = KeyUsage(rawValue: UInt32(KU_DIGITAL_SIGNATURE))
    public static let nonRepudiation = KeyUsage(rawValue: UInt32(KU_NON_REPUDIATION))
    public static let keyEncipherment = KeyUsage(rawValue: UInt32(KU_KEY_ENCIPHERMENT))
    public static let dataEncipherment = KeyUsage(rawValue: UInt32(KU_DATA_ENCIPHERMENT))
    public static let keyAgreement = KeyUsage(rawValue: UInt32(KU_KEY_AGREEMENT))
    public static let keyCertSign = KeyUsage(rawValue: UInt32(KU_KEY_CERT_SIGN))
    public static let cRLSign = KeyUsage(rawValue: UInt32(KU_CRL_SIGN))

    static let names: [(KeyUsage, String)] = [
        (.digitalSignature, "digitalSignature"), (.nonRepudiation, "nonRepudiation"),
        (.keyEncipherment, "keyEncipherment"), (.dataEncipherment, "dataEncipherment"),
        (.keyAgreement, "keyAgreement"), (.keyCertSign, "keyCertSign"), (.cRLSign, "cRLSign"),
    ]

    /// OpenSSL's configuration names, comma-separated (`digitalSignature,keyEncipherment`).
    public var description: String {
        Self.names.filter { contains($0.0) }.map(\.1).joined(separator: ",")
    }
}

/// A purpose from the extendedKeyUsage extension (RFC 5280 §4.2.1.12).
public enum ExtendedKeyUsage: Sendable, Hashable, CustomStringConvertible {
    case serverAuth
    case clientAuth
    case codeSigning
    case emailProtection
    case timeStamping
    case ocspSigning
    /// Any other purpose, by dotted OID.
    case other(oid: String)

    public init(oid: String) {
        switch oid {
        case "1.3.6.1.5.5.7.3.1": self = .serverAuth
        case "1.3.6.1.5.5.7.3.2": self = .clientAuth
        case "1.3.6.1.5.5.7.3.3": self = .codeSigning
        case "1.3.6.1.5.5.7.3.4": self = .emailProtection
        case "1.3.6.1.5.5.7.3.8": self = .timeStamping
        case "1.3.6.1.5.5.7.3.9": self = .ocspSigning
        default: self = .other(oid: oid)
        }
    }

    public var oid: String {
        switch self {
        case .serverAuth: "1.3.6.1.5.5.7.3.1"
        case .clientAuth: "1.3.6.1.5.5.7.3.2"
        case .codeSigning: "1.3.6.1.5.5.7.3.3"
        case .emailProtection: "1.3.6.1.5.5.7.3.4"
        case .timeStamping: "1.3.6.1.5.5.7.3.8"
        case .ocspSigning: "1.3.6.1.5.5.7.3.9"
        case .other(let oid): oid
        }
    }

    /// OpenSSL's short name (`serverAuth`), or the OID.
    public var description: String {
        switch self {
        case .serverAuth: "serverAuth"
        case .clientAuth: "clientAuth"
        case .codeSigning: "codeSigning"
        case .emailProtection: "emailProtection"
        case .timeStamping: "timeStamping"
        case .ocspSigning: "OCSPSigning"
        case .other(let oid): oid
        }
    }
}
