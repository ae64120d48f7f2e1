/// The IPsec protocol of an SA.
public enum XFRMProtocol: Sendable, Hashable, CustomStringConvertible {
    case esp
    case ah
    case ipcomp
    case other(UInt8)

    public init(number: UInt8) {
        switch number {
        case 50: self = .esp
        case 51: self = .ah
        case 108: self = .ipcomp
        default: self = .other(number)
        }
    }

    /// The IP protocol number (ESP 50, AH 51, IPComp 108).
    public var number: UInt8 {
        switch self {
        case .esp: 50
        case .ah: 51
        case .ipcomp: 108
        case .other(let number): number
        }
    }

    public var description: String {
        switch self {
        case .esp: "esp"
        case .ah: "ah"
        case .ipcomp: "comp"
        case .other(let number): "proto \(number)"
        }
    }
}

/// How an SA encapsulates traffic (`XFRM_MODE_*`).
public enum XFRMMode: Sendable, Hashable, CustomStringConvertible {
    case transport
    case tunnel
    case other(UInt8)

    public init(number: UInt8) {
        switch number {
        case 0: self = .transport
        case 1: self = .tunnel
        default: self = .other(number)
        }
    }

    public var number: UInt8 {
        switch self {
        case .transport: 0
        case .tunnel: 1
        case .other(let number): number
        }
    }

    public var description: String {
        switch self {
        case .transport: "transport"
        case .tunnel: "tunnel"
        case .other(let number): "mode \(number)"
        }
    }
}

/// Soft and hard limits of an SA or policy (`struct xfrm_lifetime_cfg`). `UInt64.max` is the
/// kernel's `XFRM_INF` (no byte or packet limit); 0 seconds means no time limit.
///
/// The kernel treats a byte or packet limit of 0 literally (the SA expires on its first packet),
/// so requests always carry a complete lifetime, `unlimited` unless configured.
public struct XFRMLifetime: Sendable, Hashable, CustomStringConvertible {
    public var softByteLimit: UInt64
    public var hardByteLimit: UInt64
    public var softPacketLimit: UInt64
    public var hardPacketLimit: UInt64
    /// Seconds after the SA was added.
    public var softAddExpiresSeconds: UInt64
    public var hardAddExpiresSeconds: UInt64
    /// Seconds after the SA was first used.
    public var softUseExpiresSeconds: UInt64
    public var hardUseExpiresSeconds: UInt64

    public init(
        softByteLimit: UInt64 = .max, hardByteLimit: UInt64 = .max,
        softPacketLimit: UInt64 = .max, hardPacketLimit: UInt64 = .max,
        softAddExpiresSeconds: UInt64 = 0, hardAddExpiresSeconds: UInt64 = 0,
        softUseExpiresSeconds: UInt64 = 0, hardUseExpiresSeconds: UInt64 = 0
    ) {
        self.softByteLimit = softByteLimit
        self.hardByteLimit = hardByteLimit
        self.softPacketLimit = softPacketLimit
        self.hardPacketLimit = hardPacketLimit
        self.softAddExpiresSeconds = softAddExpiresSeconds
        self.hardAddExpiresSeconds = hardAddExpiresSeconds
        self.softUseExpiresSeconds = softUseExpiresSeconds
        self.hardUseExpiresSeconds = hardUseExpiresSeconds
    }

    /// No limit of any kind (what `ip xfrm` installs when none is given).
    public static let unlimited = XFRMLifetime()

    public var isUnlimited: Bool { self == .unlimited }

    public var description: String {
        func limit(_ value: UInt64) -> String { value == .max ? "INF" : String(value) }
        return "soft \(limit(softByteLimit)) bytes/\(limit(softPacketLimit)) packets/\(softAddExpiresSeconds)s add/\(softUseExpiresSeconds)s use, "
            + "hard \(limit(hardByteLimit)) bytes/\(limit(hardPacketLimit)) packets/\(hardAddExpiresSeconds)s add/\(hardUseExpiresSeconds)s use"
    }
}

/// What an SA or policy has carried so far (`struct xfrm_lifetime_cur`).
public struct XFRMCurrentLifetime: Sendable, Hashable {
    public var bytes: UInt64
    public var packets: UInt64
    /// Seconds since the epoch when the SA was added; 0 if unknown.
    public var addTime: UInt64
    /// Seconds since the epoch of first use; 0 if never used.
    public var useTime: UInt64

    public init(bytes: UInt64 = 0, packets: UInt64 = 0, addTime: UInt64 = 0, useTime: UInt64 = 0) {
        self.bytes = bytes
        self.packets = packets
        self.addTime = addTime
        self.useTime = useTime
    }
}

/// An SA's error counters (`struct xfrm_stats`).
public struct XFRMStatistics: Sendable, Hashable {
    /// Packets dropped because they fell outside the replay window.
    public var replayWindow: UInt32
    /// Packets dropped as replays.
    public var replay: UInt32
    /// Packets dropped because authentication (ICV) failed: the usual sign of wrong keys.
    public var integrityFailed: UInt32

    public init(replayWindow: UInt32 = 0, replay: UInt32 = 0, integrityFailed: UInt32 = 0) {
        self.replayWindow = replayWindow
        self.replay = replay
        self.integrityFailed = integrityFailed
    }

    public var total: UInt64 { UInt64(replayWindow) + UInt64(replay) + UInt64(integrityFailed) }
}

/// An XFRM mark (`struct xfrm_mark`): an SA or policy applies to packets whose
/// `skb->mark & mask == value`.
public struct XFRMMark: Sendable, Hashable, CustomStringConvertible {
    public var value: UInt32
    public var mask: UInt32

    public init(value: UInt32, mask: UInt32 = 0xFFFF_FFFF) {
        self.value = value
        self.mask = mask
    }

    public var description: String {
        "mark 0x\(String(value, radix: 16))/0x\(String(mask, radix: 16))"
    }
}

/// A policy or SA selector: which traffic it covers.
public struct XFRMSelector: Sendable, Hashable, CustomStringConvertible {
    public var source: XFRMAddress?
    public var sourcePrefixLength: Int
    public var destination: XFRMAddress?
    public var destinationPrefixLength: Int
    /// IP protocol number, 0 for any.
    public var ipProtocol: UInt8
    /// Host byte order. For ICMP the source "port" is the ICMP type and the destination "port"
    /// the code, as the kernel matches them.
    public var sourcePort: UInt16
    public var sourcePortMask: UInt16
    public var destinationPort: UInt16
    public var destinationPortMask: UInt16

    /// A port of 0 with no mask given means any port; any other port is matched exactly.
    public init(
        source: XFRMAddress?, sourcePrefixLength: Int, destination: XFRMAddress?, destinationPrefixLength: Int,
        ipProtocol: UInt8 = 0, sourcePort: UInt16 = 0, destinationPort: UInt16 = 0,
        sourcePortMask: UInt16? = nil, destinationPortMask: UInt16? = nil
    ) {
        self.source = source
        self.sourcePrefixLength = sourcePrefixLength
        self.destination = destination
        self.destinationPrefixLength = destinationPrefixLength
        self.ipProtocol = ipProtocol
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sourcePortMask = sourcePortMask ?? (sourcePort == 0 ? 0 : 0xFFFF)
        self.destinationPortMask = destinationPortMask ?? (destinationPort == 0 ? 0 : 0xFFFF)
    }

    /// Exactly the traffic between two hosts (`/32` or `/128` each way), optionally one protocol
    /// and ports.
    public static func hosts(
        _ source: XFRMAddress, _ destination: XFRMAddress, ipProtocol: UInt8 = 0,
        sourcePort: UInt16 = 0, destinationPort: UInt16 = 0
    ) -> XFRMSelector {
        XFRMSelector(
            source: source, sourcePrefixLength: source.family.length * 8,
            destination: destination, destinationPrefixLength: destination.family.length * 8,
            ipProtocol: ipProtocol, sourcePort: sourcePort, destinationPort: destinationPort)
    }

    /// The address family, taken from whichever address is present.
    public var family: XFRMAddress.Family? { source?.family ?? destination?.family }

    public var description: String {
        let src = source.map { "\($0)/\(sourcePrefixLength)" } ?? "any"
        let dst = destination.map { "\($0)/\(destinationPrefixLength)" } ?? "any"
        var text = "src \(src) dst \(dst)"
        if ipProtocol != 0 { text += " proto \(IPProtocolName.name(ipProtocol))" }
        if sourcePortMask != 0 { text += " sport \(sourcePort)" }
        if destinationPortMask != 0 { text += " dport \(destinationPort)" }
        return text
    }
}

/// Short names for the IP protocols selectors use.
public enum IPProtocolName {
    public static func name(_ number: UInt8) -> String {
        switch number {
        case 0: "any"
        case 1: "icmp"
        case 6: "tcp"
        case 17: "udp"
        case 58: "ipv6-icmp"
        case 132: "sctp"
        default: String(number)
        }
    }
}

/// The direction a policy applies to (`XFRM_POLICY_IN/OUT/FWD`).
public enum XFRMPolicyDirection: Sendable, Hashable, CustomStringConvertible {
    case inbound
    case outbound
    case forward
    case other(Int)

    public init(number: Int) {
        switch number {
        case 0: self = .inbound
        case 1: self = .outbound
        case 2: self = .forward
        default: self = .other(number)
        }
    }

    public var number: Int {
        switch self {
        case .inbound: 0
        case .outbound: 1
        case .forward: 2
        case .other(let number): number
        }
    }

    public var description: String {
        switch self {
        case .inbound: "in"
        case .outbound: "out"
        case .forward: "fwd"
        case .other(let number): "dir \(number)"
        }
    }
}

/// What a policy does with matching traffic.
public enum XFRMPolicyAction: Sendable, Hashable, CustomStringConvertible {
    /// Let it pass, transformed by the policy's templates (none: in clear).
    case allow
    /// Drop it.
    case block

    public var description: String { self == .allow ? "allow" : "block" }
}

/// One SA a policy requires (`struct xfrm_user_tmpl`).
public struct XFRMTemplate: Sendable, Hashable, CustomStringConvertible {
    public var family: XFRMAddress.Family
    /// Tunnel endpoints, or the hosts in transport mode; `nil` for any.
    public var source: XFRMAddress?
    public var destination: XFRMAddress?
    public var proto: XFRMProtocol
    /// 0 for any SPI (so that rekeying with new SPIs needs no new policy).
    public var spi: UInt32
    public var mode: XFRMMode
    /// Binds the policy to SAs of the same reqid; 0 for any.
    public var reqid: UInt32
    /// `level use` when true (traffic may pass without the SA); `level required` otherwise.
    public var optional: Bool

    public init(
        family: XFRMAddress.Family, source: XFRMAddress? = nil, destination: XFRMAddress? = nil,
        proto: XFRMProtocol = .esp, spi: UInt32 = 0, mode: XFRMMode = .transport, reqid: UInt32 = 0,
        optional: Bool = false
    ) {
        self.family = family
        self.source = source
        self.destination = destination
        self.proto = proto
        self.spi = spi
        self.mode = mode
        self.reqid = reqid
        self.optional = optional
    }

    public var description: String {
        let src = source.map(String.init(describing:)) ?? "any"
        let dst = destination.map(String.init(describing:)) ?? "any"
        return "tmpl src \(src) dst \(dst) proto \(proto) spi 0x\(String(spi, radix: 16)) mode \(mode) reqid \(reqid) level \(optional ? "use" : "required")"
    }
}

/// The transforms an installed SA uses, as read back (names and sizes, never key material).
public enum XFRMAlgorithmInfo: Sendable, Hashable, CustomStringConvertible {
    case none
    case aead(name: String, keyBits: Int, icvBits: Int)
    case cipherAndAuthentication(cipher: String, cipherKeyBits: Int, authentication: String, authenticationKeyBits: Int, truncationBits: Int)
    /// Only a cipher, only an authenticator, or a compression transform.
    case other(String)

    public var description: String {
        switch self {
        case .none: "no transform"
        case .aead(let name, let keyBits, let icvBits): "aead \(name) \(keyBits)-bit key \(icvBits)-bit ICV"
        case .cipherAndAuthentication(let cipher, let cipherKeyBits, let authentication, let authenticationKeyBits, let truncationBits):
            "enc \(cipher) \(cipherKeyBits)-bit key, auth \(authentication) \(authenticationKeyBits)-bit key \(truncationBits)-bit ICV"
        case .other(let text): text
        }
    }
}

/// An SA as read back from the kernel (no key material is read).
public struct XFRMState: Sendable, Hashable, CustomStringConvertible {
    public var source: XFRMAddress?
    public var destination: XFRMAddress?
    /// Host byte order.
    public var spi: UInt32
    public var proto: XFRMProtocol
    public var mode: XFRMMode
    public var reqid: UInt32
    public var replayWindow: Int
    public var algorithms: XFRMAlgorithmInfo
    public var selector: XFRMSelector?
    public var lifetime: XFRMLifetime
    public var current: XFRMCurrentLifetime
    public var statistics: XFRMStatistics
    public var mark: XFRMMark?

    public init(
        source: XFRMAddress?, destination: XFRMAddress?, spi: UInt32, proto: XFRMProtocol, mode: XFRMMode, reqid: UInt32,
        replayWindow: Int = 0, algorithms: XFRMAlgorithmInfo = .none, selector: XFRMSelector? = nil,
        lifetime: XFRMLifetime = .unlimited, current: XFRMCurrentLifetime = XFRMCurrentLifetime(),
        statistics: XFRMStatistics = XFRMStatistics(), mark: XFRMMark? = nil
    ) {
        self.source = source
        self.destination = destination
        self.spi = spi
        self.proto = proto
        self.mode = mode
        self.reqid = reqid
        self.replayWindow = replayWindow
        self.algorithms = algorithms
        self.selector = selector
        self.lifetime = lifetime
        self.current = current
        self.statistics = statistics
        self.mark = mark
    }

    /// The kernel's identity of an SA: destination, SPI and protocol.
    public var id: XFRMStateID? {
        destination.map { XFRMStateID(destination: $0, spi: spi, proto: proto) }
    }

    /// A placeholder the kernel creates while it waits for a key manager (`ACQUIRE`): SPI 0.
    public var isLarval: Bool { spi == 0 }

    public var description: String {
        let spiText = String(spi, radix: 16)
        return "src \(source.map(String.init(describing:)) ?? "?") dst \(destination.map(String.init(describing:)) ?? "?") proto \(proto) spi 0x\(spiText) mode \(mode) reqid \(reqid)"
    }
}

/// What identifies an SA in the kernel (`struct xfrm_usersa_id`).
public struct XFRMStateID: Sendable, Hashable, CustomStringConvertible {
    public var destination: XFRMAddress
    public var spi: UInt32
    public var proto: XFRMProtocol

    public init(destination: XFRMAddress, spi: UInt32, proto: XFRMProtocol = .esp) {
        self.destination = destination
        self.spi = spi
        self.proto = proto
    }

    public var description: String { "dst \(destination) proto \(proto) spi 0x\(String(spi, radix: 16))" }
}

/// A security policy as read back from the kernel.
public struct XFRMPolicy: Sendable, Hashable, CustomStringConvertible {
    public var index: UInt32
    public var direction: XFRMPolicyDirection
    public var priority: UInt32
    public var action: XFRMPolicyAction
    public var selector: XFRMSelector
    public var templates: [XFRMTemplate]
    public var mark: XFRMMark?
    public var lifetime: XFRMLifetime
    public var current: XFRMCurrentLifetime

    public init(
        index: UInt32, direction: XFRMPolicyDirection, priority: UInt32, action: XFRMPolicyAction, selector: XFRMSelector,
        templates: [XFRMTemplate], mark: XFRMMark? = nil, lifetime: XFRMLifetime = .unlimited,
        current: XFRMCurrentLifetime = XFRMCurrentLifetime()
    ) {
        self.index = index
        self.direction = direction
        self.priority = priority
        self.action = action
        self.selector = selector
        self.templates = templates
        self.mark = mark
        self.lifetime = lifetime
        self.current = current
    }

    /// `true` for `allow`, `false` for `block`.
    public var allows: Bool { action == .allow }

    /// Number of SA templates the policy requires.
    public var templateCount: Int { templates.count }

    public var description: String {
        var text = "\(selector) dir \(direction) priority \(priority) \(action) index \(index)"
        if let mark { text += " \(mark)" }
        for template in templates { text += " \(template)" }
        return text
    }
}

/// Everything installed in the kernel's SAD and SPD at one moment.
public struct XFRMSnapshot: Sendable, Hashable {
    public var states: [XFRMState]
    public var policies: [XFRMPolicy]

    public init(states: [XFRMState], policies: [XFRMPolicy]) {
        self.states = states
        self.policies = policies
    }
}
