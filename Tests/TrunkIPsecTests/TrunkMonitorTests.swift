import Testing
import TrunkIPsec
import XFRM

/// A kernel's read-back that holds exactly `desired` (what the kernel returns after `apply`).
func snapshot(of desired: TrunkDesiredState) -> XFRMSnapshot {
    var index: UInt32 = 8
    let policies = desired.policies.map { wanted in
        index += 8
        let request = wanted.request
        return XFRMPolicy(
            index: index + UInt32(request.direction.number), direction: request.direction, priority: request.priority, action: request.action,
            selector: request.selector, templates: request.templates, mark: request.mark, lifetime: request.lifetime)
    }
    let states = desired.states.map { wanted in
        let request = wanted.request
        return XFRMState(
            source: request.source, destination: request.destination, spi: request.spi, proto: request.proto, mode: request.mode,
            reqid: request.reqid, replayWindow: Int(request.replayWindow), algorithms: request.algorithms.info, selector: request.selector,
            lifetime: request.lifetime)
    }
    return XFRMSnapshot(states: states, policies: policies)
}

@Suite("Trunk assessment: desired vs read-back (pure)")
struct TrunkAssessmentTests {
    let configuration = TrunkFixtures.configuration()

    func desired() throws -> TrunkDesiredState {
        try TrunkDesiredState.compute(configuration: configuration, keys: try TrunkFixtures.keys())
    }

    @Test func exactReadBackIsProtected() throws {
        let desired = try desired()
        let assessment = TrunkAssessor.assess(configuration: configuration, desired: desired, snapshot: snapshot(of: desired))
        #expect(assessment.isProtected, "\(assessment.findings)")
        #expect(assessment.ownedStates.count == 4)
        #expect(assessment.ownedPolicies.count == 16)
        #expect(assessment.retiringStates.isEmpty && assessment.stalePolicies.isEmpty)
        #expect(assessment.decisions.allSatisfy { $0.isProtected })
    }

    @Test func emptyKernelMissesEverything() throws {
        let desired = try desired()
        let assessment = TrunkAssessor.assess(configuration: configuration, desired: desired, snapshot: XFRMSnapshot(states: [], policies: []))
        #expect(!assessment.isProtected)
        #expect(assessment.missingPolicies.count == 16)
        #expect(assessment.missingStates.count == 4)
        #expect(!assessment.isProtected(peer: TrunkFixtures.manager4))
        #expect(assessment.findings.first?.message == "policy out src 192.0.2.1/32 dst 192.0.2.10/32 proto udp dport 5060 is missing")
    }

    @Test func onePeerLosingItsSAOnlyAffectsThatPeer() throws {
        let desired = try desired()
        var kernel = snapshot(of: desired)
        kernel.states.removeAll { $0.spi == 0x1003 }
        let assessment = TrunkAssessor.assess(configuration: configuration, desired: desired, snapshot: kernel)
        #expect(!assessment.isProtected)
        #expect(assessment.isProtected(peer: TrunkFixtures.manager4))
        #expect(!assessment.isProtected(peer: TrunkFixtures.manager6))
        #expect(assessment.findings.map(\.message) == ["SA 2001:db8::10 -> 2001:db8::1 spi 0x00001003 (in) is missing"])
    }

    @Test func aDifferentAlgorithmUnderTheSameSPIIsFound() throws {
        let desired = try desired()
        var kernel = snapshot(of: desired)
        kernel.states[0].algorithms = .aead(name: "rfc4106(gcm(aes))", keyBits: 160, icvBits: 128)
        kernel.states[0].reqid = 99
        let assessment = TrunkAssessor.assess(configuration: configuration, desired: desired, snapshot: kernel)
        #expect(assessment.differingStates.count == 1)
        #expect(assessment.findings.first?.message.contains("reqid 99, expected 20304") == true)
        #expect(assessment.findings.first?.message.contains("160-bit key") == true)
    }

    @Test func aForeignHigherPriorityBypassIsCaughtAsShadowing() throws {
        let desired = try desired()
        var kernel = snapshot(of: desired)
        kernel.policies.append(XFRMPolicy(
            index: 1000, direction: .outbound, priority: 10, action: .allow,
            selector: .hosts(TrunkFixtures.edge4, TrunkFixtures.manager4), templates: []))
        let assessment = TrunkAssessor.assess(configuration: configuration, desired: desired, snapshot: kernel)
        #expect(!assessment.isProtected)
        #expect(assessment.findings.allSatisfy { $0.kind == .flowUnprotected && $0.peer.remote == TrunkFixtures.manager4 })
        #expect(assessment.findings.first?.message == "out udp 192.0.2.1:49160 -> 192.0.2.10:5060 would travel in clear: policy index 1000 (priority 10, allow, no template) wins")
        // Not the edge's: never stale, never owned.
        #expect(!assessment.ownedPolicies.contains { $0.index == 1000 })
    }

    @Test func retiringAndStaleObjectsAreTheEdgesOwnOnly() throws {
        let desired = try desired()
        var kernel = snapshot(of: desired)
        kernel.states.append(XFRMState(source: TrunkFixtures.manager4, destination: TrunkFixtures.edge4, spi: 0x0900, proto: .esp, mode: .transport, reqid: 0x4F50))
        kernel.states.append(XFRMState(source: TrunkFixtures.manager4, destination: TrunkFixtures.edge4, spi: 0x0901, proto: .esp, mode: .transport, reqid: 7))
        kernel.states.append(XFRMState(source: TrunkFixtures.edge4, destination: TrunkFixtures.manager4, spi: 0, proto: .esp, mode: .transport, reqid: 0x4F50))
        kernel.policies.append(XFRMPolicy(
            index: 2000, direction: .outbound, priority: 1000, action: .allow,
            selector: .hosts(TrunkFixtures.edge4, TrunkFixtures.manager4, ipProtocol: 6, destinationPort: 5061),
            templates: [XFRMTemplate(family: .ipv4, reqid: 0x4F50)]))
        let assessment = TrunkAssessor.assess(configuration: configuration, desired: desired, snapshot: kernel)
        #expect(assessment.isProtected)
        #expect(assessment.retiringStates.map(\.spi) == [0x0900])
        #expect(assessment.stalePolicies.map(\.index) == [2000])
    }

    @Test func externalKeyingJudgesCoverageAndEstablishedSAs() throws {
        let configuration = TrunkFixtures.configuration(coverage: .all, keying: .external, managers: [TrunkFixtures.manager4])
        let desired = try TrunkDesiredState.compute(configuration: configuration, keys: nil)
        // What strongSwan installs for a host-to-host transport child SA: broader selectors, its own reqid.
        let out = XFRMPolicy(
            index: 1, direction: .outbound, priority: 367_231, action: .allow,
            selector: .hosts(TrunkFixtures.edge4, TrunkFixtures.manager4),
            templates: [XFRMTemplate(family: .ipv4, source: TrunkFixtures.edge4, destination: TrunkFixtures.manager4, reqid: 1)])
        let inbound = XFRMPolicy(
            index: 2, direction: .inbound, priority: 367_231, action: .allow,
            selector: .hosts(TrunkFixtures.manager4, TrunkFixtures.edge4),
            templates: [XFRMTemplate(family: .ipv4, source: TrunkFixtures.manager4, destination: TrunkFixtures.edge4, reqid: 1)])
        var kernel = XFRMSnapshot(states: [], policies: [out, inbound])
        var assessment = TrunkAssessor.assess(configuration: configuration, desired: desired, snapshot: kernel)
        #expect(assessment.findings.map(\.kind) == [.noEstablishedSA, .noEstablishedSA])
        kernel.states = [
            XFRMState(source: TrunkFixtures.edge4, destination: TrunkFixtures.manager4, spi: 0xc1000001, proto: .esp, mode: .transport, reqid: 1),
            XFRMState(source: TrunkFixtures.manager4, destination: TrunkFixtures.edge4, spi: 0xc1000002, proto: .esp, mode: .transport, reqid: 1),
        ]
        assessment = TrunkAssessor.assess(configuration: configuration, desired: desired, snapshot: kernel)
        #expect(assessment.isProtected, "\(assessment.findings)")
        #expect(assessment.ownedStates.isEmpty && assessment.ownedPolicies.isEmpty)
        kernel.policies.removeLast()
        assessment = TrunkAssessor.assess(configuration: configuration, desired: desired, snapshot: kernel)
        #expect(!assessment.isProtected)
        #expect(assessment.findings.contains { $0.message.hasPrefix("in udp 192.0.2.10:5060 -> 192.0.2.1:49160 would travel in clear: no policy covers it") })
    }

    @Test func flowsMatchSelectorsAsTheKernelDoes() {
        let flow = TrunkFlow(direction: .outbound, source: TrunkFixtures.edge4, destination: TrunkFixtures.manager4, ipProtocol: 17, sourcePort: 40000, destinationPort: 5060)
        #expect(flow.matches(.hosts(TrunkFixtures.edge4, TrunkFixtures.manager4)))
        #expect(flow.matches(.hosts(TrunkFixtures.edge4, TrunkFixtures.manager4, ipProtocol: 17, destinationPort: 5060)))
        #expect(!flow.matches(.hosts(TrunkFixtures.edge4, TrunkFixtures.manager4, ipProtocol: 6)))
        #expect(!flow.matches(.hosts(TrunkFixtures.edge4, TrunkFixtures.manager4, ipProtocol: 17, sourcePort: 5060)))
        #expect(flow.matches(XFRMSelector(source: XFRMAddress("192.0.2.0")!, sourcePrefixLength: 24, destination: XFRMAddress("0.0.0.0")!, destinationPrefixLength: 0)))
        #expect(!flow.matches(XFRMSelector(source: XFRMAddress("192.0.3.0")!, sourcePrefixLength: 24, destination: nil, destinationPrefixLength: 0)))
        #expect(!flow.matches(.hosts(TrunkFixtures.edge6, TrunkFixtures.manager6)))
    }
}

@Suite("Trunk monitor: fail closed (pure state machine)")
struct TrunkMonitorTests {
    let configuration = TrunkFixtures.configuration()
    let t0 = ContinuousClock.now

    func setup() throws -> (TrunkMonitor, TrunkDesiredState) {
        let desired = try TrunkDesiredState.compute(configuration: configuration, keys: try TrunkFixtures.keys())
        return (TrunkMonitor(configuration: configuration, desired: desired), desired)
    }

    func assess(_ desired: TrunkDesiredState, _ kernel: XFRMSnapshot) -> TrunkAssessment {
        TrunkAssessor.assess(configuration: configuration, desired: desired, snapshot: kernel)
    }

    @Test func startsClosedAndOpensOnlyAfterReadBack() throws {
        var (monitor, desired) = try setup()
        #expect(monitor.verdict == .starting)
        #expect(!monitor.verdict.isUp)
        #expect(monitor.start() == [.verify])
        let actions = monitor.handle(.assessed(assess(desired, snapshot(of: desired)), now: t0))
        #expect(actions == [.trunkUp])
        #expect(monitor.verdict == .up)
    }

    @Test func anIncompleteKernelKeepsTheTrunkDownAndRepairs() throws {
        var (monitor, desired) = try setup()
        _ = monitor.start()
        var kernel = snapshot(of: desired)
        kernel.states.removeAll()
        let actions = monitor.handle(.assessed(assess(desired, kernel), now: t0))
        #expect(actions.first.map { if case .trunkDown = $0 { true } else { false } } == true)
        #expect(actions.contains { if case .raise(let alarm) = $0 { alarm.code == .protectionMissing && alarm.severity == .critical } else { false } })
        #expect(actions.last == .repair)
        #expect(!monitor.verdict.isUp)
        // A repair that fails raises its own alarm with the kernel's reason.
        let failed = monitor.handle(.repairFailed("install SA: xfrmnl_sa_add failed: EPROTONOSUPPORT", now: t0))
        #expect(failed.contains { if case .raise(let alarm) = $0 { alarm.code == .installFailed } else { false } })
        // No second repair before the back-off.
        #expect(!monitor.handle(.assessed(assess(desired, kernel), now: t0 + .seconds(1))).contains(.repair))
        #expect(monitor.handle(.assessed(assess(desired, kernel), now: t0 + .seconds(11))).contains(.repair))
        // Once everything reads back, the trunk comes up and the alarms clear.
        let up = monitor.handle(.assessed(assess(desired, snapshot(of: desired)), now: t0 + .seconds(12)))
        #expect(up.first == .trunkUp)
        #expect(up.contains(.clear(TrunkAlarm.Key(code: .protectionMissing, peer: nil))))
        #expect(up.contains(.clear(TrunkAlarm.Key(code: .installFailed, peer: nil))))
        #expect(monitor.alarms.isEmpty)
    }

    @Test func aFlushTakesTheTrunkDownAndReapplyingRestoresIt() throws {
        var (monitor, desired) = try setup()
        _ = monitor.start()
        _ = monitor.handle(.assessed(assess(desired, snapshot(of: desired)), now: t0))
        let onFlush = monitor.handle(.event(.policiesFlushed, now: t0 + .seconds(1)))
        #expect(onFlush == [.log("kernel: policies flushed"), .verify])
        var kernel = snapshot(of: desired)
        kernel.policies.removeAll()
        let down = monitor.handle(.assessed(assess(desired, kernel), now: t0 + .seconds(1)))
        #expect(down.contains { if case .trunkDown(let reason) = $0 { reason.contains("is missing") } else { false } })
        #expect(down.contains(.repair))
        #expect(monitor.verdict != .up)
        let up = monitor.handle(.assessed(assess(desired, snapshot(of: desired)), now: t0 + .seconds(2)))
        #expect(up.first == .trunkUp)
    }

    @Test func manualRepairWaitsForTheOperator() throws {
        var configuration = self.configuration
        configuration.repair = .manual
        let desired = try TrunkDesiredState.compute(configuration: configuration, keys: try TrunkFixtures.keys())
        var monitor = TrunkMonitor(configuration: configuration, desired: desired)
        _ = monitor.start()
        let actions = monitor.handle(.assessed(TrunkAssessor.assess(configuration: configuration, desired: desired, snapshot: XFRMSnapshot(states: [], policies: [])), now: t0))
        #expect(!actions.contains(.repair))
    }

    @Test func eventsAboutOtherTrafficAreIgnored() throws {
        var (monitor, desired) = try setup()
        _ = monitor.start()
        _ = monitor.handle(.assessed(assess(desired, snapshot(of: desired)), now: t0))
        let foreign = XFRMState(source: XFRMAddress("10.9.9.1")!, destination: XFRMAddress("10.9.9.2")!, spi: 0x5000, proto: .esp, mode: .tunnel, reqid: 3)
        #expect(monitor.handle(.event(.stateDeleted(foreign), now: t0)).isEmpty)
        let foreignPolicy = XFRMPolicy(index: 9, direction: .outbound, priority: 1, action: .allow, selector: .hosts(XFRMAddress("10.9.9.1")!, XFRMAddress("10.9.9.2")!), templates: [])
        #expect(monitor.handle(.event(.policyAdded(foreignPolicy), now: t0)).isEmpty)
        // A policy that could shadow the trunk is worth a verification.
        let shadow = XFRMPolicy(index: 10, direction: .outbound, priority: 1, action: .allow, selector: .hosts(TrunkFixtures.edge4, TrunkFixtures.manager4), templates: [])
        #expect(monitor.handle(.event(.policyAdded(shadow), now: t0)).last == .verify)
    }

    @Test func softExpiryWarnsAndHardExpiryGoesDown() throws {
        var (monitor, desired) = try setup()
        _ = monitor.start()
        _ = monitor.handle(.assessed(assess(desired, snapshot(of: desired)), now: t0))
        let sa = snapshot(of: desired).states[0]
        let soft = monitor.handle(.event(.stateExpired(sa, hard: false), now: t0))
        #expect(soft.contains { if case .raise(let alarm) = $0 { alarm.code == .softExpired && alarm.severity == .warning && alarm.message.contains("rekey") } else { false } })
        #expect(!soft.contains(.verify))
        #expect(monitor.verdict == .up)
        let hard = monitor.handle(.event(.stateExpired(sa, hard: true), now: t0))
        #expect(hard.contains { if case .raise(let alarm) = $0 { alarm.code == .hardExpired && alarm.severity == .critical } else { false } })
        #expect(hard.last == .verify)
        var kernel = snapshot(of: desired)
        kernel.states.removeFirst()
        let down = monitor.handle(.assessed(assess(desired, kernel), now: t0))
        #expect(down.contains { if case .trunkDown = $0 { true } else { false } })
    }

    @Test func growingIntegrityFailuresRaiseAKeyMismatchAlarm() throws {
        var (monitor, desired) = try setup()
        _ = monitor.start()
        var kernel = snapshot(of: desired)
        _ = monitor.handle(.assessed(assess(desired, kernel), now: t0))
        let inbound = try #require(kernel.states.firstIndex { $0.spi == 0x1001 })
        kernel.states[inbound].statistics.integrityFailed = 5
        let actions = monitor.handle(.assessed(assess(desired, kernel), now: t0 + .seconds(10)))
        let alarm = actions.compactMap { if case .raise(let alarm) = $0 { alarm } else { nil } }.first
        #expect(alarm?.code == .integrityFailures)
        #expect(alarm?.peer == TrunkFixtures.manager4)
        #expect(alarm?.message == "5 packet(s) from 192.0.2.10 failed authentication on SA spi 0x00001001 (5 in all): the call manager's keys differ from the key file's")
        // Traffic that authenticates again clears it.
        kernel.states[inbound].current.packets = 10
        #expect(monitor.handle(.assessed(assess(desired, kernel), now: t0 + .seconds(20))) == [.clear(TrunkAlarm.Key(code: .integrityFailures, peer: TrunkFixtures.manager4))])
    }

    @Test func ticksVerifyPeriodically() throws {
        var (monitor, desired) = try setup()
        _ = monitor.start()
        #expect(monitor.handle(.tick(now: t0)).isEmpty)  // a verification is already pending
        _ = monitor.handle(.assessed(assess(desired, snapshot(of: desired)), now: t0))
        #expect(monitor.handle(.tick(now: t0 + .seconds(5))).isEmpty)
        #expect(monitor.handle(.tick(now: t0 + .seconds(10))) == [.verify])
    }

    @Test func reportShowsVerdictObjectsAndCountersWithoutKeys() throws {
        let desired = try TrunkDesiredState.compute(configuration: configuration, keys: try TrunkFixtures.keys())
        var kernel = snapshot(of: desired)
        kernel.states[0].current = XFRMCurrentLifetime(bytes: 1234, packets: 10, addTime: 1_700_000_000, useTime: 1_700_000_100)
        kernel.states[0].statistics.integrityFailed = 2
        let text = IPsecReport.render(configuration: configuration, assessment: assess(desired, kernel), snapshot: kernel, verdict: .up)
        #expect(text.contains("call manager 192.0.2.10 (edge 192.0.2.1): protected"))
        #expect(text.contains("Trunk: up (protected)"))
        #expect(text.contains("Policies (16):"))
        #expect(text.contains("SAs (4):"))
        #expect(text.contains("[edge] 192.0.2.1 -> 192.0.2.10 esp spi 0x00001000 transport reqid 20304"))
        #expect(text.contains("1234 bytes, 10 packets; errors: 2 integrity, 0 replay, 0 outside window"))
        #expect(text.contains("added 2023-11-14 22:13:20 UTC"))
        #expect(!text.contains(TrunkFixtures.hex(bytes: 36, seed: 1).dropFirst(2)))
    }
}
