/// How a device proves itself and protects its media, as the call manager's phone security
/// profile names it.
public enum SecurityProfile: String, Sendable, Hashable, CaseIterable {
    /// Plain UDP/TCP signalling, digest authentication, RTP.
    case nonSecure = "non-secure"
    /// TLS with the phone's certificate; media may be RTP.
    case authenticated
    /// TLS with the phone's certificate and SRTP only.
    case encrypted

    /// Whether the device must register over TLS with its certificate.
    public var requiresTLS: Bool { self != .nonSecure }

    /// Cisco's `deviceSecurityMode`: 1 non-secure, 2 authenticated, 3 encrypted.
    public var ciscoDeviceSecurityMode: Int {
        switch self {
        case .nonSecure: 1
        case .authenticated: 2
        case .encrypted: 3
        }
    }
}

/// One directory number on a device.
public struct DeviceLine: Sendable, Hashable {
    /// The user part of the line's address of record, e.g. `2001`.
    public var number: String
    public var displayName: String?

    public init(number: String, displayName: String? = nil) {
        self.number = number
        self.displayName = displayName
    }
}

/// Digest credentials of a non-secure device.
public struct DigestAccount: Sendable, Hashable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}

/// A phone (or other SIP device) the branch knows.
public struct Device: Sendable, Hashable, Identifiable {
    /// `SEP<MAC>` for Cisco phones, or any name; under TLS the certificate's identity must equal it.
    public var name: String
    public var mac: MACAddress?
    public var lines: [DeviceLine]
    public var displayName: String?
    public var security: SecurityProfile
    public var digest: DigestAccount?

    public var id: String { name }

    public init(
        name: String, mac: MACAddress? = nil, lines: [DeviceLine], displayName: String? = nil,
        security: SecurityProfile, digest: DigestAccount? = nil
    ) {
        self.name = name
        self.mac = mac
        self.lines = lines
        self.displayName = displayName
        self.security = security
        self.digest = digest
    }

    /// A device named `SEP` + 12 hex digits carries its MAC in its name.
    public var macFromName: MACAddress? {
        guard name.count == 15, name.uppercased().hasPrefix("SEP") else { return nil }
        return MACAddress(name.dropFirst(3))
    }

    /// Why this entry cannot be used, or nil.
    public var problem: String? {
        if name.isEmpty { return "the name is empty" }
        if !name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "\\") }) {
            return "the name must be printable ASCII without spaces or slashes"
        }
        if lines.isEmpty { return "the device has no line" }
        for line in lines where line.number.isEmpty || !line.number.utf8.allSatisfy(Self.isUserCharacter) {
            return "line '\(line.number)' is not a valid SIP user part"
        }
        if security == .nonSecure, digest == nil { return "a non-secure device needs digest credentials" }
        if let fromName = macFromName, let mac, fromName != mac { return "the name says MAC \(fromName) but mac is \(mac)" }
        return nil
    }

    private static func isUserCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "+"), UInt8(ascii: "*"), UInt8(ascii: "#"): true
        default: false
        }
    }
}
