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

/// An SA as read back from the kernel (no key material is read).
public struct XFRMState: Sendable, Hashable, CustomStringConvertible {
    public var source: XFRMAddress?
    public var destination: XFRMAddress?
    /// Host byte order.
    public var spi: UInt32
    public var proto: XFRMProtocol
    public var mode: XFRMMode
    public var reqid: UInt32

    public init(source: XFRMAddress?, destination: XFRMAddress?, spi: UInt32, proto: XFRMProtocol, mode: XFRMMode, reqid: UInt32) {
        self.source = source
        self.destination = destination
        self.spi = spi
        self.proto = proto
        self.mode = mode
        self.reqid = reqid
    }

    public var description: String {
        let spiText = String(spi, radix: 16)
        return "src \(source.map(String.init(describing:)) ?? "?") dst \(destination.map(String.init(describing:)) ?? "?") proto \(proto) spi 0x\(spiText) mode \(mode) reqid \(reqid)"
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
    /// Host byte order, 0 for any.
    public var sourcePort: UInt16
    public var destinationPort: UInt16

    public init(
        source: XFRMAddress?, sourcePrefixLength: Int, destination: XFRMAddress?, destinationPrefixLength: Int,
        ipProtocol: UInt8 = 0, sourcePort: UInt16 = 0, destinationPort: UInt16 = 0
    ) {
        self.source = source
        self.sourcePrefixLength = sourcePrefixLength
        self.destination = destination
        self.destinationPrefixLength = destinationPrefixLength
        self.ipProtocol = ipProtocol
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
    }

    public var description: String {
        let src = source.map { "\($0)/\(sourcePrefixLength)" } ?? "any"
        let dst = destination.map { "\($0)/\(destinationPrefixLength)" } ?? "any"
        return "src \(src) dst \(dst)" + (ipProtocol == 0 ? "" : " proto \(ipProtocol)")
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

    public var description: String {
        switch self {
        case .inbound: "in"
        case .outbound: "out"
        case .forward: "fwd"
        case .other(let number): "dir \(number)"
        }
    }
}

/// A security policy as read back from the kernel.
public struct XFRMPolicy: Sendable, Hashable, CustomStringConvertible {
    public var index: UInt32
    public var direction: XFRMPolicyDirection
    public var priority: UInt32
    /// `true` for `allow`, `false` for `block`.
    public var allows: Bool
    public var selector: XFRMSelector
    /// Number of SA templates the policy requires.
    public var templateCount: Int

    public init(index: UInt32, direction: XFRMPolicyDirection, priority: UInt32, allows: Bool, selector: XFRMSelector, templateCount: Int) {
        self.index = index
        self.direction = direction
        self.priority = priority
        self.allows = allows
        self.selector = selector
        self.templateCount = templateCount
    }

    public var description: String {
        "\(selector) dir \(direction) priority \(priority) \(allows ? "allow" : "block") index \(index) templates \(templateCount)"
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
