import XFRM

/// A value of one `trunk_ipsec` setting as the configuration loader (Runtime's
/// `ConfigurationLoader`) hands it over: a scalar or a list.
public enum TrunkSettingValue: Sendable, Hashable {
    case scalar(String)
    case list([String])

    var items: [String] {
        switch self {
        case .scalar(let value): [value]
        case .list(let values): values
        }
    }
}

extension TrunkProtectionConfiguration {
    /// Every key `apply(key:value:)` knows, in the order the documentation lists them.
    public static let knownKeys = [
        "keying", "local", "call_managers", "coverage", "sip_ports", "sip_protocols", "suite", "reqid", "priority",
        "lifetime_soft_bytes", "lifetime_hard_bytes", "lifetime_soft_packets", "lifetime_hard_packets",
        "lifetime_soft_seconds", "lifetime_hard_seconds", "lifetime_soft_use_seconds", "lifetime_hard_use_seconds",
        "replay_window", "key_file", "repair", "verify_interval", "rekey_grace", "network_namespace",
    ]

    /// Sets one key from its text value, as the YAML section `trunk_ipsec` of the edge's
    /// configuration spells it. The error names the key and the reason; the caller adds the file
    /// and line.
    public mutating func apply(key: String, value: TrunkSettingValue) throws(TrunkSettingError) {
        func scalar() throws(TrunkSettingError) -> String {
            guard case .scalar(let text) = value else { throw TrunkSettingError(key: key, reason: "expects a single value, not a list") }
            return text
        }
        func addresses() throws(TrunkSettingError) -> [XFRMAddress] {
            var result: [XFRMAddress] = []
            for item in value.items {
                guard let address = XFRMAddress(item) else {
                    throw TrunkSettingError(key: key, reason: "\"\(item)\" is not an IPv4 or IPv6 address")
                }
                result.append(address)
            }
            return result
        }
        func number<T: FixedWidthInteger & UnsignedInteger>(_ type: T.Type) throws(TrunkSettingError) -> T {
            let text = try scalar()
            guard let parsed = TrunkNumber.parse(text, as: T.self) else {
                throw TrunkSettingError(key: key, reason: "\"\(text)\" is not a number from 0 to \(T.max)")
            }
            return parsed
        }
        func limit() throws(TrunkSettingError) -> UInt64 {
            let text = try scalar()
            if text == "none" || text == "unlimited" { return .max }
            return try number(UInt64.self)
        }
        func seconds() throws(TrunkSettingError) -> UInt64 {
            let text = try scalar()
            if text == "none" || text == "unlimited" { return 0 }
            return try number(UInt64.self)
        }
        func choice<T: RawRepresentable>(_ type: T.Type, _ all: [T]) throws(TrunkSettingError) -> T where T.RawValue == String {
            let text = try scalar()
            guard let parsed = T(rawValue: text) else {
                throw TrunkSettingError(key: key, reason: "\"\(text)\" is not one of \(all.map(\.rawValue).joined(separator: ", "))")
            }
            return parsed
        }

        switch key {
        case "keying": keying = try choice(Keying.self, [.manual, .external])
        case "local": localAddresses = try addresses()
        case "call_managers": callManagers = try addresses()
        case "coverage": coverage = try choice(Coverage.self, [.sipPorts, .all])
        case "sip_ports":
            var ports: [UInt16] = []
            for item in value.items {
                guard let port = TrunkNumber.parse(item, as: UInt16.self), port != 0 else {
                    throw TrunkSettingError(key: key, reason: "\"\(item)\" is not a port from 1 to 65535")
                }
                ports.append(port)
            }
            sipPorts = ports
        case "sip_protocols":
            var protocols: [TransportProtocol] = []
            for item in value.items {
                guard let proto = TransportProtocol(rawValue: item) else {
                    throw TrunkSettingError(key: key, reason: "\"\(item)\" is not one of udp, tcp, sctp")
                }
                protocols.append(proto)
            }
            sipProtocols = protocols
        case "suite": suite = try choice(TrunkCipherSuite.self, TrunkCipherSuite.allCases)
        case "reqid": reqid = try number(UInt32.self)
        case "priority": priority = try number(UInt32.self)
        case "lifetime_soft_bytes": lifetime.softByteLimit = try limit()
        case "lifetime_hard_bytes": lifetime.hardByteLimit = try limit()
        case "lifetime_soft_packets": lifetime.softPacketLimit = try limit()
        case "lifetime_hard_packets": lifetime.hardPacketLimit = try limit()
        case "lifetime_soft_seconds": lifetime.softAddExpiresSeconds = try seconds()
        case "lifetime_hard_seconds": lifetime.hardAddExpiresSeconds = try seconds()
        case "lifetime_soft_use_seconds": lifetime.softUseExpiresSeconds = try seconds()
        case "lifetime_hard_use_seconds": lifetime.hardUseExpiresSeconds = try seconds()
        case "replay_window": replayWindow = try number(UInt8.self)
        case "key_file": keyFile = try scalar()
        case "network_namespace": networkNamespace = try scalar()
        case "repair": repair = try choice(Repair.self, [.automatic, .manual])
        case "verify_interval":
            let value = try number(UInt32.self)
            verifyIntervalSeconds = Int(value)
        case "rekey_grace":
            let value = try number(UInt32.self)
            rekeyGraceSeconds = Int(value)
        default:
            throw TrunkSettingError(key: key, reason: "unknown key (known: \(Self.knownKeys.joined(separator: ", ")))")
        }
    }
}

/// One setting the edge refuses.
public struct TrunkSettingError: Error, Sendable, Hashable, CustomStringConvertible {
    public var key: String
    public var reason: String

    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String { "\(key): \(reason)" }
}

/// Decimal or `0x` hexadecimal numbers.
enum TrunkNumber {
    static func parse<T: FixedWidthInteger & UnsignedInteger>(_ text: String, as type: T.Type) -> T? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") {
            let digits = text.dropFirst(2)
            guard !digits.isEmpty, digits.count <= 2 * MemoryLayout<T>.size + 8 else { return nil }
            return T(digits, radix: 16)
        }
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return T(text, radix: 10)
    }
}

extension Substring {
    func unquoted() -> Substring {
        if count >= 2, let first, let last, first == last, first == "\"" || first == "'" {
            return dropFirst().dropLast()
        }
        return self
    }
}
