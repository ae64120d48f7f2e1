import XFRM

/// An alarm about the trunk's protection. Alarms are keyed by code and call manager: raising one
/// again replaces it.
public struct TrunkAlarm: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Comparable {
        case warning, major, critical

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            let order: [Severity] = [.warning, .major, .critical]
            return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
        }
    }

    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// Policies or SAs the trunk needs are missing or wrong: the trunk is down.
        case protectionMissing = "ipsec-protection-missing"
        /// Installing them failed (the kernel's errno and message say why).
        case installFailed = "ipsec-install-failed"
        /// An SA reached a soft lifetime limit: rekey before the hard one.
        case softExpired = "ipsec-sa-soft-expired"
        /// An SA reached a hard lifetime limit and the kernel removed it.
        case hardExpired = "ipsec-sa-hard-expired"
        /// Packets from the call manager fail authentication: the keys differ.
        case integrityFailures = "ipsec-integrity-failures"
        /// Kernel events were lost; the edge re-read everything.
        case eventsLost = "ipsec-events-lost"
    }

    public var code: Code
    public var severity: Severity
    /// The call manager concerned, if one.
    public var peer: XFRMAddress?
    public var message: String

    public init(code: Code, severity: Severity, peer: XFRMAddress?, message: String) {
        self.code = code
        self.severity = severity
        self.peer = peer
        self.message = message
    }

    public struct Key: Sendable, Hashable {
        public var code: Code
        public var peer: XFRMAddress?

        public init(code: Code, peer: XFRMAddress?) {
            self.code = code
            self.peer = peer
        }
    }

    public var key: Key { Key(code: code, peer: peer) }

    public var description: String { "[\(severity.rawValue)] \(code.rawValue)\(peer.map { " \($0)" } ?? ""): \(message)" }
}

/// Whether the trunk may carry signalling.
public enum TrunkVerdict: Sendable, Hashable, CustomStringConvertible {
    /// Not yet verified: no signalling (fail closed).
    case starting
    case up
    case down(reason: String)

    public var isUp: Bool { self == .up }

    public var description: String {
        switch self {
        case .starting: "starting (not yet verified)"
        case .up: "up (protected)"
        case .down(let reason): "down: \(reason)"
        }
    }
}

/// The fail-closed monitor of the trunk's protection, as a pure state machine: read-back
/// assessments, kernel events and clock ticks in; actions out. The driver carries out `verify`
/// (read back, then feed `.assessed`) and `repair` (install what is missing, then verify).
public struct TrunkMonitor: Sendable {
    public enum Input: Sendable {
        /// A read-back compared with the desired state.
        case assessed(TrunkAssessment, now: ContinuousClock.Instant)
        /// Installing failed; the message carries the kernel's errno and text.
        case repairFailed(String, now: ContinuousClock.Instant)
        case event(XFRMEvent, now: ContinuousClock.Instant)
        case tick(now: ContinuousClock.Instant)
    }

    public enum Action: Sendable, Hashable, CustomStringConvertible {
        /// Read the SAD and SPD back now and feed the assessment.
        case verify
        /// Install the missing policies and SAs (manual keying, automatic repair), then verify.
        case repair
        case trunkUp
        case trunkDown(reason: String)
        case raise(TrunkAlarm)
        case clear(TrunkAlarm.Key)
        /// A line for the log (kernel events the edge reports).
        case log(String)

        public var description: String {
            switch self {
            case .verify: "verify"
            case .repair: "repair"
            case .trunkUp: "trunk up"
            case .trunkDown(let reason): "trunk down: \(reason)"
            case .raise(let alarm): "raise \(alarm)"
            case .clear(let key): "clear \(key.code.rawValue)\(key.peer.map { " \($0)" } ?? "")"
            case .log(let text): "log: \(text)"
            }
        }
    }

    public let configuration: TrunkProtectionConfiguration
    public private(set) var verdict: TrunkVerdict = .starting
    public private(set) var alarms: [TrunkAlarm.Key: TrunkAlarm] = [:]
    private var lastVerification: ContinuousClock.Instant?
    private var lastRepair: ContinuousClock.Instant?
    private var verificationPending = false
    /// The SAs behind each soft-expiry alarm.
    private var softExpiredSPIs: [TrunkAlarm.Key: Set<UInt32>] = [:]
    /// Integrity failures and packets per inbound SA at the last assessment.
    private var inboundCounters: [XFRMStateID: (failures: UInt32, packets: UInt64)] = [:]
    private let ownership: TrunkOwnership

    public init(configuration: TrunkProtectionConfiguration, desired: TrunkDesiredState) {
        self.configuration = configuration
        self.ownership = TrunkOwnership(configuration: configuration, desired: desired)
    }

    /// The first actions: verify (the driver applies first with manual keying).
    public mutating func start() -> [Action] {
        verificationPending = true
        return [.verify]
    }

    public mutating func handle(_ input: Input) -> [Action] {
        switch input {
        case .assessed(let assessment, let now):
            return assessed(assessment, now: now)
        case .repairFailed(let message, _):
            // The repair's own verification will not come: the next tick or event verifies.
            verificationPending = false
            var actions: [Action] = []
            raise(TrunkAlarm(code: .installFailed, severity: .critical, peer: nil, message: message), into: &actions)
            if verdict.isUp {
                verdict = .down(reason: message)
                actions.insert(.trunkDown(reason: message), at: 0)
            }
            return actions
        case .event(let event, _):
            return handle(event)
        case .tick(let now):
            let interval = Duration.seconds(configuration.verifyIntervalSeconds)
            if verificationPending { return [] }
            if let last = lastVerification, now - last < interval { return [] }
            verificationPending = true
            return [.verify]
        }
    }

    // MARK: - Assessments

    private mutating func assessed(_ assessment: TrunkAssessment, now: ContinuousClock.Instant) -> [Action] {
        lastVerification = now
        verificationPending = false
        var actions: [Action] = []
        if assessment.isProtected {
            if !verdict.isUp {
                verdict = .up
                actions.append(.trunkUp)
            }
            for code in [TrunkAlarm.Code.protectionMissing, .installFailed, .hardExpired, .eventsLost] {
                for key in alarms.keys where key.code == code { clear(key, into: &actions) }
            }
        } else {
            let reason = assessment.summary
            if verdict.isUp || verdict == .starting {
                actions.append(.trunkDown(reason: reason))
            }
            verdict = .down(reason: reason)
            raise(TrunkAlarm(code: .protectionMissing, severity: .critical, peer: nil, message: "trunk IPsec protection missing: \(reason)"), into: &actions)
            let repairable = !assessment.missingPolicies.isEmpty || !assessment.missingStates.isEmpty
                || !assessment.differingPolicies.isEmpty || !assessment.differingStates.isEmpty
            if configuration.keying == .manual && configuration.repair == .automatic && repairable {
                let backoff = Duration.seconds(configuration.verifyIntervalSeconds)
                if lastRepair.map({ now - $0 >= backoff }) ?? true {
                    lastRepair = now
                    verificationPending = true
                    actions.append(.repair)
                }
            }
        }
        // Soft-expiry alarms end when their SA is gone (rekeyed).
        let ownedSPIs = Set(assessment.ownedStates.map(\.spi))
        for (key, spis) in softExpiredSPIs {
            let remaining = spis.intersection(ownedSPIs)
            softExpiredSPIs[key] = remaining.isEmpty ? nil : remaining
            if remaining.isEmpty { clear(key, into: &actions) }
        }
        checkIntegrity(assessment, into: &actions)
        return actions
    }

    /// Inbound SAs whose integrity-failure counter grew: the peer's keys differ from ours.
    private mutating func checkIntegrity(_ assessment: TrunkAssessment, into actions: inout [Action]) {
        let locals = Set(configuration.localAddresses)
        var seen: [XFRMStateID: (failures: UInt32, packets: UInt64)] = [:]
        let candidates = configuration.keying == .manual
            ? assessment.ownedStates
            : []
        for state in candidates {
            guard let id = state.id, locals.contains(id.destination) else { continue }
            let now = (failures: state.statistics.integrityFailed, packets: state.current.packets)
            seen[id] = now
            let before = inboundCounters[id] ?? (failures: 0, packets: 0)
            let peer = state.source
            let key = TrunkAlarm.Key(code: .integrityFailures, peer: peer)
            if now.failures > before.failures {
                let grown = now.failures - before.failures
                raise(TrunkAlarm(
                    code: .integrityFailures, severity: .major, peer: peer,
                    message: "\(grown) packet(s) from \(peer.map(String.init(describing:)) ?? "?") failed authentication on SA spi 0x\(TrunkKeyFile.hex(state.spi)) (\(now.failures) in all): the call manager's keys differ from the key file's"),
                    into: &actions)
            } else if now.packets > before.packets, alarms[key] != nil {
                clear(key, into: &actions)
            }
        }
        inboundCounters = seen
    }

    // MARK: - Kernel events

    private mutating func handle(_ event: XFRMEvent) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .stateExpired(let state, let hard):
            guard touchesTrunk(state) else { return [] }
            actions.append(.log("kernel: \(event)"))
            if hard {
                raise(TrunkAlarm(
                    code: .hardExpired, severity: .critical, peer: peerOf(state),
                    message: "SA spi 0x\(TrunkKeyFile.hex(state.spi)) \(state.source.map(String.init(describing:)) ?? "?") -> \(state.destination.map(String.init(describing:)) ?? "?") reached its hard lifetime and was removed"),
                    into: &actions)
            } else {
                softExpiredSPIs[TrunkAlarm.Key(code: .softExpired, peer: peerOf(state)), default: []].insert(state.spi)
                raise(TrunkAlarm(
                    code: .softExpired, severity: .warning, peer: peerOf(state),
                    message: "SA spi 0x\(TrunkKeyFile.hex(state.spi)) \(state.source.map(String.init(describing:)) ?? "?") -> \(state.destination.map(String.init(describing:)) ?? "?") reached its soft lifetime (\(state.current.bytes) bytes, \(state.current.packets) packets): rekey with outpost ipsec rekey"),
                    into: &actions)
                return actions  // the SA still works
            }
        case .stateAdded(let state), .stateUpdated(let state), .stateDeleted(let state):
            guard touchesTrunk(state) else { return [] }
            actions.append(.log("kernel: \(event)"))
        case .policyAdded(let policy), .policyUpdated(let policy), .policyDeleted(let policy), .policyExpired(let policy, _):
            guard touchesTrunk(policy) else { return [] }
            actions.append(.log("kernel: \(event)"))
        case .statesFlushed, .policiesFlushed:
            actions.append(.log("kernel: \(event)"))
        case .acquire(let source, let destination, _, _):
            guard let source, let destination, isTrunkPair(source, destination) else { return [] }
            actions.append(.log("kernel: \(event)"))
        case .eventsLost:
            raise(TrunkAlarm(code: .eventsLost, severity: .warning, peer: nil, message: "XFRM events were lost; the edge re-reads the SAD and SPD"), into: &actions)
        case .other:
            return []
        }
        if !verificationPending {
            verificationPending = true
            actions.append(.verify)
        }
        return actions
    }

    private func isTrunkPair(_ a: XFRMAddress, _ b: XFRMAddress) -> Bool {
        configuration.pairs.contains { ($0.local == a && $0.remote == b) || ($0.local == b && $0.remote == a) }
    }

    private func touchesTrunk(_ state: XFRMState) -> Bool {
        if ownership.owns(state) { return true }
        guard let source = state.source, let destination = state.destination else { return true }
        return isTrunkPair(source, destination)
    }

    private func touchesTrunk(_ policy: XFRMPolicy) -> Bool {
        if ownership.owns(policy) { return true }
        // Any policy whose selector could match a trunk flow may shadow the edge's.
        return configuration.pairs.contains { peer in
            TrunkAssessor.representativeFlows(for: peer, configuration: configuration).contains { flow in
                flow.direction == policy.direction && flow.matches(policy.selector)
            }
        }
    }

    private func peerOf(_ state: XFRMState) -> XFRMAddress? {
        let managers = Set(configuration.callManagers)
        if let destination = state.destination, managers.contains(destination) { return destination }
        if let source = state.source, managers.contains(source) { return source }
        return nil
    }

    // MARK: - Alarm bookkeeping

    private mutating func raise(_ alarm: TrunkAlarm, into actions: inout [Action]) {
        if alarms[alarm.key] == alarm { return }
        alarms[alarm.key] = alarm
        actions.append(.raise(alarm))
    }

    private mutating func clear(_ key: TrunkAlarm.Key, into actions: inout [Action]) {
        guard alarms.removeValue(forKey: key) != nil else { return }
        actions.append(.clear(key))
    }

}
