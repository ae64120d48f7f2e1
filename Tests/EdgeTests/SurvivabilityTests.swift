import Logging
import SIP
import Synchronization
import Testing

@testable import Edge

@Suite struct TrunkHealthTests {
    let start = ContinuousClock.now

    @Test func failoverAfterMissesAndFailbackAfterSuccessesAndHoldDown() {
        var health = TrunkHealth(settings: .init(misses: 3, successes: 2, holdDown: .seconds(120)), now: start)
        #expect(health.mode == .normal)
        #expect(health.probeMissed(at: start + .seconds(1), cause: "timeout") == nil)
        #expect(health.probeAnswered(at: start + .seconds(2)) == nil)
        #expect(health.probeMissed(at: start + .seconds(3), cause: "timeout") == nil)
        #expect(health.probeMissed(at: start + .seconds(4), cause: "timeout") == nil)
        let failover = health.probeMissed(at: start + .seconds(5), cause: "timeout")
        #expect(failover?.to == .survivable)
        #expect(failover?.cause.contains("3 keep-alives unanswered") == true)
        #expect(health.probeAnswered(at: start + .seconds(6)) == nil)
        #expect(health.probeAnswered(at: start + .seconds(7)) == nil)
        #expect(health.nextDeadline == start + .seconds(127))
        #expect(health.mode == .survivable)
        #expect(health.advance(to: start + .seconds(126)) == nil)
        #expect(health.advance(to: start + .seconds(127))?.to == .failback)
        #expect(health.handBackCompleted(at: start + .seconds(128), summary: "2 re-registered")?.to == .normal)
    }

    @Test func aMissDuringHoldDownStartsOver() {
        var health = TrunkHealth(settings: .init(misses: 1, successes: 1, holdDown: .seconds(10)), now: start)
        _ = health.transportFailed(at: start, cause: "connection refused")
        _ = health.probeAnswered(at: start + .seconds(1))
        #expect(health.nextDeadline != nil)
        _ = health.probeMissed(at: start + .seconds(5), cause: "timeout")
        #expect(health.nextDeadline == nil)
        #expect(health.advance(to: start + .seconds(20)) == nil)
        #expect(health.mode == .survivable)
    }

    @Test func transportFailureFailsOverAtOnceAndDuringFailbackToo() {
        var health = TrunkHealth(settings: .init(misses: 5, successes: 1, holdDown: .zero), now: start)
        #expect(health.transportFailed(at: start, cause: "reset")?.to == .survivable)
        #expect(health.probeAnswered(at: start + .seconds(1))?.to == .failback)
        #expect(health.transportFailed(at: start + .seconds(2), cause: "reset")?.to == .survivable)
    }

    @Test(arguments: [(1, 3), (5, 3), (2, 1), (30, 5)])
    func keepAliveTimeoutKeepsDetectionWithinTheBound(interval: Int, misses: Int) {
        let timeout = TrunkHealth.Settings(misses: misses).keepAliveTimeout(interval: .seconds(interval))
        let worstDetection = .seconds(interval) + timeout * misses
        #expect(worstDetection <= .seconds(interval * misses) + .milliseconds(251))
        #expect(timeout >= .milliseconds(250))
    }
}

@Suite struct SurvivableRegistrarTests {
    let journal = MemoryJournal()
    let upstream = FakeUpstream()
    let controller = SurvivabilityController(settings: .init(misses: 2, successes: 1, holdDown: .zero), logger: .quiet, wallClock: { 0 })
    let now: Int64 = 1_800_000_000

    func registrar() -> Registrar {
        Registrar(
            settings: RegistrarSettings(defaultExpires: 600), hashing: RegistrarFixtures.hashing, ratePerSource: 1000, inventory: RegistrarFixtures.inventory,
            policy: RequestPolicy(capabilities: EdgeCapabilities()), journal: journal, restored: [], upstream: upstream,
            upstreamDomain: "cm.example", survivability: controller, logger: .quiet, wallClock: { [now] in now })
    }

    @Test func normalModeRelaysAndKeepsTheBindingTheCallManagerAccepted() async throws {
        let registrar = registrar()
        let response = await registrar.handle(
            RegistrarFixtures.register("3001", contacts: ["<sip:3001@192.0.2.50>"], extra: [(.authorization, "Digest username=\"3001\", realm=\"cm\", nonce=\"n\", uri=\"sip:cm\", response=\"0\"")]),
            origin: RegistrarFixtures.udp)
        #expect(response.statusCode == 200)
        let relayed = try #require(upstream.received.withLock { $0.first })
        #expect(relayed.uri.description == "sip:cm.example")
        #expect(relayed.headers[.maxForwards] == "69")
        #expect(relayed.headers.tokens(.supported).contains("path"))
        #expect(relayed.headers[.authorization] != nil)
        let binding = try #require(journal.stored["3001"]?.first)
        #expect(binding.acceptedUpstream)
        #expect(binding.expiresAt == now + 600)
    }

    @Test func upstreamRefusalIsPassedBackAndNothingIsStored() async {
        upstream.behaviour.withLock { $0 = .success(401) }
        let response = await registrar().handle(RegistrarFixtures.register("3001"), origin: RegistrarFixtures.udp)
        #expect(response.statusCode == 401)
        #expect(journal.stored.isEmpty)
    }

    @Test func identityIsStillCheckedLocallyBeforeRelaying() async {
        let response = await registrar().handle(RegistrarFixtures.register("2001"), origin: RegistrarFixtures.tls(["SEP001BD4AABBDD"]))
        #expect(response.statusCode == 403)
        #expect(upstream.received.withLock { $0.isEmpty })
    }

    @Test func unreachableCallManagerTurnsTheEdgeIntoTheRegistrarForThatVeryRequest() async {
        upstream.behaviour.withLock { $0 = .failure(TestUpstreamFailure()) }
        let registrar = registrar()
        let response = await registrar.handle(RegistrarFixtures.register("2001"), origin: RegistrarFixtures.tls(["SEP001BD4AABBCC"]))
        #expect(response.statusCode == 200)
        #expect(controller.mode == .survivable)
        #expect(controller.snapshot().history.last?.cause.contains("not answered upstream") == true)
        #expect(journal.stored["2001"]?.first?.acceptedUpstream == false)
        #expect(registrar.statistics[.relayFailures] == 1)
    }

    @Test func handBackReRegistersEveryAddressOfRecordUpstream() async throws {
        controller.transportFailed(cause: "test")
        let registrar = registrar()
        let tls = RegistrarFixtures.tls(["SEP001BD4AABBCC"])
        #expect(await registrar.handle(RegistrarFixtures.register("2001", contacts: ["<sip:2001@192.0.2.60;transport=tls>"]), origin: tls).statusCode == 200)
        #expect(upstream.received.withLock { $0.isEmpty })
        let result = await registrar.handBack()
        #expect(result.accepted == 1)
        #expect(result.failed == 0)
        let handedBack = try #require(upstream.received.withLock { $0.first })
        #expect(handedBack.headers[.to] == "<sip:2001@cm.example>")
        #expect(handedBack.headers.lines(.contact) == ["<sip:2001@192.0.2.60;transport=tls>;expires=600"])
        #expect(registrar.bindings(for: "2001").first?.acceptedUpstream == true)
        #expect(journal.stored["2001"]?.first?.acceptedUpstream == true)
    }

    @Test func theAnswerReachesThePhoneWithoutTheTrunksViaAndWithItsOwnFromAndTo() async throws {
        let request = RegistrarFixtures.register("2001", contacts: ["<sip:2001@192.0.2.60;transport=tls>"])
        let response = await registrar().handle(request, origin: RegistrarFixtures.tls(["SEP001BD4AABBCC"]))
        #expect(response.statusCode == 200)
        // RFC 3261 §16.7 step 3: the top Via is the phone's again, and it is the only one.
        #expect(try response.headers.vias() == request.headers.vias())
        #expect(response.headers[.from] == request.headers[.from])
        #expect(try response.headers.to().uri == request.headers.to().uri)
        #expect(try response.headers.to().tag == "up")
    }

    @Test func relayedAndHandedBackRegistrationsUseTheCallManagersDomainForTheAddressOfRecord() async throws {
        let registrar = registrar()
        let tls = RegistrarFixtures.tls(["SEP001BD4AABBCC"])
        #expect(await registrar.handle(RegistrarFixtures.register("2001"), origin: tls).statusCode == 200)
        _ = await registrar.handBack()
        let sent = upstream.received.withLock { $0 }
        #expect(sent.count == 2)
        let relayed = try #require(sent.first), handedBack = try #require(sent.last)
        #expect(try relayed.headers.to().uri.description == "sip:2001@cm.example")
        #expect(try relayed.headers.from().uri.description == "sip:2001@cm.example")
        #expect(try relayed.headers.to().uri == handedBack.headers.to().uri)
    }

    @Test func aRegisterThatAlreadyPassedThroughTheEdgeIsALoop() async {
        var request = RegistrarFixtures.register("2001")
        request.headers.insert(.via, "SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKphone", at: 0)
        request.headers.insert(.via, "SIP/2.0/UDP 198.51.100.1:5060;branch=\(SIPIdentifiers.branch())", at: 1)
        let registrar = registrar()
        let response = await registrar.handle(request, origin: RegistrarFixtures.tls(["SEP001BD4AABBCC"]))
        #expect(response.statusCode == 482)
        #expect(upstream.received.withLock { $0.isEmpty })
        #expect(registrar.statistics[.loops] == 1)
    }

    @Test func exhaustedMaxForwardsIsRefusedWith483() async {
        var request = RegistrarFixtures.register("2001")
        request.headers.set(.maxForwards, "0")
        let registrar = registrar()
        let response = await registrar.handle(request, origin: RegistrarFixtures.tls(["SEP001BD4AABBCC"]))
        #expect(response.statusCode == 483)
        #expect(upstream.received.withLock { $0.isEmpty })
        #expect(registrar.statistics[.tooManyHops] == 1)
    }

    /// A binding made during an outage, the edge restarted after the WAN came back: the restart
    /// begins in normal mode, and the refresh hands the binding back.
    @Test func theRefreshHandsBackBindingsTheCallManagerLacksAfterARestart() async throws {
        let made = Binding(
            addressOfRecord: "2001", contact: "sip:2001@192.0.2.60;transport=tls", device: "SEP001BD4AABBCC", expiresAt: now + 500,
            callID: "c", cseq: 1, flow: BindingFlow(transport: .tls, remoteAddress: "192.0.2.60", remotePort: 40000, connection: 7),
            registeredAt: now - 100, acceptedUpstream: false)
        let registrar = Registrar(
            settings: RegistrarSettings(defaultExpires: 600), hashing: RegistrarFixtures.hashing, ratePerSource: 1000, inventory: RegistrarFixtures.inventory,
            policy: RequestPolicy(capabilities: EdgeCapabilities()), journal: journal, restored: [made], upstream: upstream,
            upstreamDomain: "cm.example", survivability: controller, logger: .quiet, wallClock: { [now] in now })
        #expect(registrar.mode == .normal)
        let result = await registrar.reRegisterUpstream(.refresh)
        #expect(result.accepted == 1)
        let sent = try #require(upstream.received.withLock { $0.first })
        #expect(sent.headers.lines(.contact) == ["<sip:2001@192.0.2.60;transport=tls>;expires=500"])
        #expect(registrar.bindings(for: "2001").first?.acceptedUpstream == true)
        #expect(journal.stored["2001"]?.first?.acceptedUpstream == true)
        #expect(registrar.statistics[.upstreamRefreshed] == 1)
    }

    @Test func restoredFlowsAreMarkedStaleSoTheirConnectionNumberIsNotReused() {
        let restored = Binding(
            addressOfRecord: "2001", contact: "sip:2001@192.0.2.60;transport=tls", device: "SEP001BD4AABBCC", expiresAt: now + 500,
            callID: "c", cseq: 1, flow: BindingFlow(transport: .tls, remoteAddress: "192.0.2.60", remotePort: 40000, connection: 7),
            registeredAt: now - 100)
        let registrar = Registrar(
            settings: RegistrarSettings(), hashing: RegistrarFixtures.hashing, ratePerSource: 1000, inventory: RegistrarFixtures.inventory,
            policy: RequestPolicy(capabilities: EdgeCapabilities()), journal: journal, restored: [restored], logger: .quiet,
            wallClock: { [now] in now })
        let flow = registrar.bindings().first?.flow
        #expect(flow?.stale == true)
        #expect(flow?.connection == 7)
        #expect(flow?.liveConnection == nil)
    }
}
