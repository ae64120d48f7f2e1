import XFRM

/// One packet flow the trunk must protect, used to ask "what would the kernel do with it?".
public struct TrunkFlow: Sendable, Hashable, CustomStringConvertible {
    public var direction: XFRMPolicyDirection
    public var source: XFRMAddress
    public var destination: XFRMAddress
    public var ipProtocol: UInt8
    /// For ICMP: the type.
    public var sourcePort: UInt16
    /// For ICMP: the code.
    public var destinationPort: UInt16

    public init(
        direction: XFRMPolicyDirection, source: XFRMAddress, destination: XFRMAddress, ipProtocol: UInt8,
        sourcePort: UInt16, destinationPort: UInt16
    ) {
        self.direction = direction
        self.source = source
        self.destination = destination
        self.ipProtocol = ipProtocol
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
    }

    public var description: String {
        let name = IPProtocolName.name(ipProtocol)
        if ipProtocol == 1 || ipProtocol == 58 {
            return "\(direction) \(name) type \(sourcePort) \(source) -> \(destination)"
        }
        return "\(direction) \(name) \(Self.endpoint(source, sourcePort)) -> \(Self.endpoint(destination, destinationPort))"
    }

    private static func endpoint(_ address: XFRMAddress, _ port: UInt16) -> String {
        address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// Whether `selector` matches this flow as the kernel's `xfrm_selector_match` does.
    public func matches(_ selector: XFRMSelector) -> Bool {
        if let family = selector.family, family != source.family { return false }
        if let address = selector.source, !address.contains(source, prefixLength: selector.sourcePrefixLength) { return false }
        if let address = selector.destination, !address.contains(destination, prefixLength: selector.destinationPrefixLength) { return false }
        if selector.ipProtocol != 0 && selector.ipProtocol != ipProtocol { return false }
        if (sourcePort ^ selector.sourcePort) & selector.sourcePortMask != 0 { return false }
        if (destinationPort ^ selector.destinationPort) & selector.destinationPortMask != 0 { return false }
        return true
    }
}

/// The kernel's answer for one flow: which policy wins and whether it protects the flow.
public struct TrunkFlowDecision: Sendable, Hashable {
    public var flow: TrunkFlow
    /// The policy the kernel would apply (lowest priority value among the matching ones).
    public var policy: XFRMPolicy?

    /// Protected: an `allow` policy whose templates require ESP.
    public var isProtected: Bool {
        guard let policy, policy.action == .allow else { return false }
        return policy.templates.contains { $0.proto == .esp && !$0.optional }
    }

    /// Decides `flow` against `policies` for unmarked packets.
    public static func decide(_ flow: TrunkFlow, policies: [XFRMPolicy]) -> TrunkFlowDecision {
        let candidates = policies.filter { policy in
            guard policy.direction == flow.direction else { return false }
            if let mark = policy.mark, mark.value & mark.mask != 0 { return false }
            return flow.matches(policy.selector)
        }
        let winner = candidates.min { $0.priority < $1.priority }
        return TrunkFlowDecision(flow: flow, policy: winner)
    }
}

/// How the kernel's SAD and SPD compare with what the trunk needs. Pure: computed from a
/// configuration, the desired state and a read-back snapshot.
public struct TrunkAssessment: Sendable, Hashable {
    public struct Finding: Sendable, Hashable, CustomStringConvertible {
        public enum Kind: String, Sendable, Hashable {
            case policyMissing = "policy-missing"
            case policyDiffers = "policy-differs"
            case stateMissing = "sa-missing"
            case stateDiffers = "sa-differs"
            case flowUnprotected = "flow-unprotected"
            case noEstablishedSA = "no-established-sa"
        }

        public var kind: Kind
        public var peer: TrunkPeer
        public var message: String

        public var description: String { message }
    }

    public var findings: [Finding]
    /// Desired policies absent from the kernel.
    public var missingPolicies: [TrunkDesiredState.Policy]
    /// Desired policies whose selector is taken by a policy with other attributes.
    public var differingPolicies: [TrunkDesiredState.Policy]
    /// Desired SAs absent from the kernel.
    public var missingStates: [TrunkDesiredState.State]
    /// Desired SAs present under their SPI but with other attributes.
    public var differingStates: [TrunkDesiredState.State]
    /// The edge's own policies (by reqid) that the configuration no longer asks for.
    public var stalePolicies: [XFRMPolicy]
    /// The edge's own SAs that the keys no longer name: the previous generation after a rekey.
    public var retiringStates: [XFRMState]
    /// Every object the edge owns (installed by it: its reqid).
    public var ownedPolicies: [XFRMPolicy]
    public var ownedStates: [XFRMState]
    /// What the kernel does with each representative trunk flow.
    public var decisions: [TrunkFlowDecision]
    public var peers: [TrunkPeer]

    /// The trunk may carry signalling: nothing is missing, nothing differs, every flow is protected.
    public var isProtected: Bool { findings.isEmpty }

    public func isProtected(peer: XFRMAddress) -> Bool {
        !findings.contains { $0.peer.remote == peer }
    }

    /// The problems of one call manager.
    public func findings(for peer: XFRMAddress) -> [Finding] {
        findings.filter { $0.peer.remote == peer }
    }

    /// Short reason for an alarm or a log line.
    public var summary: String {
        if findings.isEmpty { return "protected" }
        let first = findings.prefix(3).map(\.message).joined(separator: "; ")
        return findings.count > 3 ? "\(first); and \(findings.count - 3) more" : first
    }
}

/// Compares the desired state with a snapshot (pure).
public enum TrunkAssessor {
    /// A port no SIP listener uses, standing for "any source port" in representative flows.
    static let ephemeralPort: UInt16 = 49_160

    public static func assess(configuration: TrunkProtectionConfiguration, desired: TrunkDesiredState, snapshot: XFRMSnapshot) -> TrunkAssessment {
        let owned = TrunkOwnership(configuration: configuration, desired: desired)
        var findings: [TrunkAssessment.Finding] = []
        var missingPolicies: [TrunkDesiredState.Policy] = []
        var differingPolicies: [TrunkDesiredState.Policy] = []
        var missingStates: [TrunkDesiredState.State] = []
        var differingStates: [TrunkDesiredState.State] = []

        // 1. Every desired policy, exactly (manual keying only: with external keying the IKE
        //    daemon's policies are judged by the flows they protect).
        if configuration.keying == .manual {
            for wanted in desired.policies {
                let sameSlot = snapshot.policies.filter {
                    $0.direction == wanted.request.direction && $0.selector == wanted.request.selector && $0.mark == wanted.request.mark
                }
                if sameSlot.contains(where: { TrunkOwnership.policy($0, equals: wanted.request) }) { continue }
                if let found = sameSlot.first {
                    differingPolicies.append(wanted)
                    findings.append(.init(
                        kind: .policyDiffers, peer: wanted.peer,
                        message: "policy \(wanted.request.direction) \(wanted.request.selector) is installed differently: \(Self.policyDifference(found, wanted.request))"))
                } else {
                    missingPolicies.append(wanted)
                    findings.append(.init(kind: .policyMissing, peer: wanted.peer, message: "policy \(wanted.request.direction) \(wanted.request.selector) is missing"))
                }
            }
            // 2. Every desired SA, by SPI, with its attributes.
            for wanted in desired.states {
                let request = wanted.request
                guard let found = snapshot.states.first(where: { $0.id == request.id }) else {
                    missingStates.append(wanted)
                    findings.append(.init(
                        kind: .stateMissing, peer: wanted.peer,
                        message: "SA \(request.source) -> \(request.destination) spi 0x\(TrunkKeyFile.hex(request.spi)) (\(wanted.direction.rawValue)) is missing"))
                    continue
                }
                if let difference = Self.stateDifference(found, request) {
                    differingStates.append(wanted)
                    findings.append(.init(
                        kind: .stateDiffers, peer: wanted.peer,
                        message: "SA spi 0x\(TrunkKeyFile.hex(request.spi)) to \(request.destination) is installed differently: \(difference)"))
                }
            }
        }

        // 3. What the kernel would do with each trunk flow: catches shadowing and, with external
        //    keying, is the whole policy check.
        var decisions: [TrunkFlowDecision] = []
        for peer in configuration.pairs {
            for flow in representativeFlows(for: peer, configuration: configuration) {
                let decision = TrunkFlowDecision.decide(flow, policies: snapshot.policies)
                decisions.append(decision)
                guard !decision.isProtected else { continue }
                let reason: String
                if let policy = decision.policy {
                    reason = "policy index \(policy.index) (priority \(policy.priority), \(policy.action), \(policy.templates.isEmpty ? "no template" : "no required ESP template")) wins"
                } else {
                    reason = "no policy covers it"
                }
                // A missing desired policy already explains an uncovered flow.
                let explained = findings.contains { $0.peer == peer && ($0.kind == .policyMissing || $0.kind == .policyDiffers) } && decision.policy == nil
                if !explained {
                    findings.append(.init(kind: .flowUnprotected, peer: peer, message: "\(flow) would travel in clear: \(reason)"))
                }
            }
        }

        // 4. External keying: an established ESP SA each way, matching the winning template.
        if configuration.keying == .external {
            for peer in configuration.pairs {
                for (source, destination, direction) in [(peer.local, peer.remote, XFRMPolicyDirection.outbound), (peer.remote, peer.local, .inbound)] {
                    let template = decisions.first { $0.flow.direction == direction && $0.flow.source == source && $0.isProtected }?
                        .policy?.templates.first { $0.proto == .esp && !$0.optional }
                    guard let template else { continue }  // already a flow finding
                    let established = snapshot.states.contains { state in
                        guard state.proto == .esp, !state.isLarval, state.mode == template.mode else { return false }
                        if template.reqid != 0 && state.reqid != template.reqid { return false }
                        let wantSource = template.mode == .tunnel ? (template.source ?? source) : source
                        let wantDestination = template.mode == .tunnel ? (template.destination ?? destination) : destination
                        return state.source == wantSource && state.destination == wantDestination
                    }
                    if !established {
                        findings.append(.init(
                            kind: .noEstablishedSA, peer: peer,
                            message: "no ESP SA \(source) -> \(destination) (\(template.mode), reqid \(template.reqid)): the key manager has not established it"))
                    }
                }
            }
        }

        let ownedPolicies = snapshot.policies.filter { owned.owns($0) }
        let ownedStates = snapshot.states.filter { owned.owns($0) }
        let desiredStateIDs = Set(desired.states.map(\.request.id))
        let stalePolicies = ownedPolicies.filter { policy in
            !desired.policies.contains { TrunkOwnership.policy(policy, equals: $0.request) }
        }
        let retiringStates = ownedStates.filter { $0.id.map { !desiredStateIDs.contains($0) } ?? false }

        return TrunkAssessment(
            findings: findings, missingPolicies: missingPolicies, differingPolicies: differingPolicies,
            missingStates: missingStates, differingStates: differingStates, stalePolicies: stalePolicies,
            retiringStates: retiringStates, ownedPolicies: ownedPolicies, ownedStates: ownedStates,
            decisions: decisions, peers: configuration.pairs)
    }

    /// Flows that stand for the trunk's signalling (and, with `all` coverage, for other traffic).
    public static func representativeFlows(for peer: TrunkPeer, configuration: TrunkProtectionConfiguration) -> [TrunkFlow] {
        var flows: [TrunkFlow] = []
        func add(_ direction: XFRMPolicyDirection, _ proto: UInt8, _ sourcePort: UInt16, _ destinationPort: UInt16) {
            let (source, destination) = direction == .outbound ? (peer.local, peer.remote) : (peer.remote, peer.local)
            flows.append(TrunkFlow(
                direction: direction, source: source, destination: destination, ipProtocol: proto,
                sourcePort: sourcePort, destinationPort: destinationPort))
        }
        let protocols = configuration.sipProtocols.isEmpty ? [.udp] : configuration.sipProtocols
        let ports = configuration.sipPorts.isEmpty ? [5060] : configuration.sipPorts
        for proto in protocols {
            for port in ports {
                add(.outbound, proto.number, ephemeralPort, port)
                add(.inbound, proto.number, port, ephemeralPort)
                add(.inbound, proto.number, ephemeralPort, port)
                add(.outbound, proto.number, port, ephemeralPort)
            }
        }
        if configuration.coverage == .all {
            let icmp: UInt8 = peer.local.family == .ipv4 ? 1 : 58
            let echo: UInt16 = peer.local.family == .ipv4 ? 8 : 128
            add(.outbound, icmp, echo, 0)
            add(.inbound, icmp, echo, 0)
            add(.outbound, 17, ephemeralPort, 7)
            add(.inbound, 17, 7, ephemeralPort)
        }
        return flows
    }

    static func policyDifference(_ found: XFRMPolicy, _ wanted: XFRMPolicyRequest) -> String {
        var parts: [String] = []
        if found.priority != wanted.priority { parts.append("priority \(found.priority), expected \(wanted.priority)") }
        if found.action != wanted.action { parts.append("action \(found.action), expected \(wanted.action)") }
        if found.templates != wanted.templates {
            let have = found.templates.isEmpty ? "no template" : found.templates.map(\.description).joined(separator: ", ")
            let want = wanted.templates.isEmpty ? "no template" : wanted.templates.map(\.description).joined(separator: ", ")
            parts.append("\(have), expected \(want)")
        }
        if found.lifetime != wanted.lifetime { parts.append("lifetime \(found.lifetime), expected \(wanted.lifetime)") }
        return parts.isEmpty ? "attributes differ" : parts.joined(separator: "; ")
    }

    static func stateDifference(_ found: XFRMState, _ wanted: XFRMStateRequest) -> String? {
        var parts: [String] = []
        if found.source != wanted.source { parts.append("source \(found.source.map(String.init(describing:)) ?? "?"), expected \(wanted.source)") }
        if found.mode != wanted.mode { parts.append("mode \(found.mode), expected \(wanted.mode)") }
        if found.reqid != wanted.reqid { parts.append("reqid \(found.reqid), expected \(wanted.reqid)") }
        if found.algorithms != wanted.algorithms.info { parts.append("\(found.algorithms), expected \(wanted.algorithms.info)") }
        if found.lifetime != wanted.lifetime { parts.append("lifetime \(found.lifetime), expected \(wanted.lifetime)") }
        if let selector = wanted.selector, found.selector != selector {
            parts.append("selector \(found.selector.map(String.init(describing:)) ?? "any"), expected \(selector)")
        }
        if found.mark != wanted.mark { parts.append("\(found.mark.map(String.init(describing:)) ?? "no mark"), expected \(wanted.mark.map(String.init(describing:)) ?? "no mark")") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}

/// What the edge owns in the kernel: SAs and policy templates carrying its reqid, and the exact
/// neighbour-discovery bypasses it installs. Nothing is owned with external keying.
public struct TrunkOwnership: Sendable {
    public var reqid: UInt32
    public var keying: TrunkProtectionConfiguration.Keying
    /// The bypass policies of the desired state (they have no template to carry the reqid).
    public var bypasses: [XFRMPolicyRequest]

    public init(configuration: TrunkProtectionConfiguration, desired: TrunkDesiredState) {
        reqid = configuration.reqid
        keying = configuration.keying
        bypasses = desired.policies.filter { !$0.protects }.map(\.request)
    }

    public func owns(_ policy: XFRMPolicy) -> Bool {
        guard keying == .manual else { return false }
        if policy.templates.contains(where: { $0.reqid == reqid }) { return true }
        return bypasses.contains { Self.policy(policy, equals: $0) }
    }

    public func owns(_ state: XFRMState) -> Bool {
        keying == .manual && state.reqid == reqid && state.proto == .esp && !state.isLarval
    }

    /// Whether a read-back policy is exactly the requested one.
    public static func policy(_ policy: XFRMPolicy, equals request: XFRMPolicyRequest) -> Bool {
        policy.direction == request.direction && policy.selector == request.selector && policy.priority == request.priority
            && policy.action == request.action && policy.templates == request.templates && policy.mark == request.mark
            && policy.lifetime == request.lifetime
    }
}
