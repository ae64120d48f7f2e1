import XFRM

/// Exactly what the kernel must hold for the trunk to be protected: computed from the
/// configuration and the keys, without a kernel.
public struct TrunkDesiredState: Sendable, Hashable {
    /// One protected flow the policies must cover, with its peer.
    public struct Policy: Sendable, Hashable, CustomStringConvertible {
        public var peer: TrunkPeer
        public var request: XFRMPolicyRequest
        /// `false` for the ICMPv6 neighbour-discovery bypasses (no template).
        public var protects: Bool

        public var description: String { request.description }
    }

    public struct State: Sendable, Hashable, CustomStringConvertible {
        public var peer: TrunkPeer
        public var direction: TrunkDirection
        public var request: XFRMStateRequest

        public var description: String { request.description }
    }

    public var policies: [Policy]
    /// Empty with external keying: the IKE daemon owns the SAs.
    public var states: [State]

    public init(policies: [Policy], states: [State]) {
        self.policies = policies
        self.states = states
    }

    /// The policies and SAs for `configuration`; `keys` is required with manual keying (and
    /// ignored with external keying, where nothing is installed).
    public static func compute(configuration: TrunkProtectionConfiguration, keys: TrunkKeys?) throws(TrunkConfigurationError) -> TrunkDesiredState {
        try configuration.validate()
        var policies: [Policy] = []
        var states: [State] = []
        for peer in configuration.pairs {
            policies.append(contentsOf: Self.policies(for: peer, configuration: configuration))
            guard configuration.keying == .manual else { continue }
            guard let keys else {
                throw TrunkConfigurationError(file: nil, line: nil, problems: ["manual keying needs the key file (key_file: \(configuration.keyFile))"])
            }
            for direction in TrunkDirection.allCases {
                guard let entry = keys.entry(peer: peer.remote, direction: direction) else {
                    throw TrunkConfigurationError(file: nil, line: nil, problems: ["the keys have no \(direction.rawValue) SA for \(peer.remote)"])
                }
                let (source, destination) = direction == .outbound ? (peer.local, peer.remote) : (peer.remote, peer.local)
                states.append(State(
                    peer: peer, direction: direction,
                    request: XFRMStateRequest(
                        source: source, destination: destination, spi: entry.spi, proto: .esp, mode: .transport,
                        reqid: configuration.reqid, replayWindow: configuration.replayWindow, algorithms: entry.algorithms,
                        lifetime: configuration.lifetime, selector: .hosts(source, destination))))
            }
        }
        return TrunkDesiredState(policies: policies, states: states)
    }

    /// The protected selectors of one peer in both directions (out: edge to call manager).
    public static func selectors(for peer: TrunkPeer, configuration: TrunkProtectionConfiguration) -> [(XFRMPolicyDirection, XFRMSelector)] {
        let local = peer.local
        let remote = peer.remote
        switch configuration.coverage {
        case .all:
            return [(.outbound, .hosts(local, remote)), (.inbound, .hosts(remote, local))]
        case .sipPorts:
            var result: [(XFRMPolicyDirection, XFRMSelector)] = []
            for proto in configuration.sipProtocols {
                for port in configuration.sipPorts {
                    // Requests to the call manager's SIP port and its answers...
                    result.append((.outbound, .hosts(local, remote, ipProtocol: proto.number, destinationPort: port)))
                    result.append((.inbound, .hosts(remote, local, ipProtocol: proto.number, sourcePort: port)))
                    // ...and requests from the call manager to the edge's SIP port and their answers.
                    result.append((.inbound, .hosts(remote, local, ipProtocol: proto.number, destinationPort: port)))
                    result.append((.outbound, .hosts(local, remote, ipProtocol: proto.number, sourcePort: port)))
                }
            }
            return result
        }
    }

    static func policies(for peer: TrunkPeer, configuration: TrunkProtectionConfiguration) -> [Policy] {
        var result: [Policy] = []
        if configuration.coverage == .all && peer.local.family == .ipv6 {
            // Neighbour solicitations and advertisements between the two hosts stay in clear, as
            // every IPv6 peer (and a router's crypto map) expects; without them a peer that does not
            // encrypt ND could never resolve the edge's address.
            for type: UInt16 in [135, 136] {
                for (direction, source, destination) in [(XFRMPolicyDirection.outbound, peer.local, peer.remote), (.inbound, peer.remote, peer.local)] {
                    let selector = XFRMSelector(
                        source: source, sourcePrefixLength: 128, destination: destination, destinationPrefixLength: 128,
                        ipProtocol: 58, sourcePort: type, destinationPort: 0, sourcePortMask: 0xFFFF, destinationPortMask: 0)
                    result.append(Policy(
                        peer: peer,
                        request: XFRMPolicyRequest(selector: selector, direction: direction, priority: configuration.priority - 1, action: .allow),
                        protects: false))
                }
            }
        }
        for (direction, selector) in selectors(for: peer, configuration: configuration) {
            let (source, destination) = direction == .outbound ? (peer.local, peer.remote) : (peer.remote, peer.local)
            let template = XFRMTemplate(
                family: peer.local.family, source: source, destination: destination, proto: .esp, spi: 0, mode: .transport,
                reqid: configuration.reqid, optional: false)
            result.append(Policy(
                peer: peer,
                request: XFRMPolicyRequest(selector: selector, direction: direction, priority: configuration.priority, action: .allow, templates: [template]),
                protects: true))
        }
        return result
    }
}
