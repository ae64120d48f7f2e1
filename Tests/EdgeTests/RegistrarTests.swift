import Logging
import PKI
import SIP
import Synchronization
import Testing

@testable import Edge

@Suite struct RegistrarTests {
    let journal = MemoryJournal()
    let now: Int64 = 1_800_000_000

    func registrar(upstream: FakeUpstream? = nil, controller: SurvivabilityController? = nil, restored: [Binding] = [], rate: Int = 1000) -> Registrar {
        Registrar(
            settings: RegistrarSettings(minimumExpires: 60, maximumExpires: 3600, defaultExpires: 600, maximumBindingsPerAddress: 3),
            hashing: RegistrarFixtures.hashing,
            ratePerSource: rate, inventory: RegistrarFixtures.inventory, policy: RequestPolicy(capabilities: EdgeCapabilities()),
            journal: journal, restored: restored, upstream: upstream, upstreamDomain: upstream == nil ? nil : "cm.example",
            survivability: controller, logger: .quiet, wallClock: { [now] in now })
    }

    @Test func tlsDeviceWhoseCertificateOwnsTheLineIsRegisteredAndStored() async throws {
        let registrar = registrar()
        let response = await registrar.handle(RegistrarFixtures.register("2001", contacts: ["<sip:2001@192.0.2.60:40000;transport=tls>"]), origin: RegistrarFixtures.tls(["SEP001BD4AABBCC"]))
        #expect(response.statusCode == 200)
        #expect(response.headers.lines(.contact) == ["<sip:2001@192.0.2.60:40000;transport=tls>;expires=600"])
        let stored = try #require(journal.stored["2001"]?.first)
        #expect(stored.device == "SEP001BD4AABBCC")
        #expect(stored.flow.connection == 7)
        #expect(stored.expiresAt == now + 600)
        #expect(registrar.statistics[.registered] == 1)
    }

    @Test func flowsOverConnectionsClosedForDistrustAreMarkedGoneAndOthersKept() async throws {
        let registrar = registrar()
        let first = await registrar.handle(
            RegistrarFixtures.register("2001", contacts: ["<sip:2001@192.0.2.60:40000;transport=tls>"]),
            origin: RegistrarFixtures.tls(["SEP001BD4AABBCC"], connection: 7))
        let second = await registrar.handle(
            RegistrarFixtures.register("2002", contacts: ["<sip:2002@192.0.2.61:40000;transport=tls>"]),
            origin: RegistrarFixtures.tls(["SEP001BD4AABBDD"], connection: 8))
        #expect(first.statusCode == 200)
        #expect(second.statusCode == 200)
        #expect(registrar.markFlowsGone(over: [7]) == 1)
        #expect(registrar.bindings(for: "2001").first?.flow.liveConnection == nil)
        #expect(registrar.bindings(for: "2001").first?.flow.stale == true)
        #expect(registrar.bindings(for: "2002").first?.flow.liveConnection == 8)
        // Marking again finds nothing left to mark.
        #expect(registrar.markFlowsGone(over: [7]) == 0)
    }

    @Test func certificateOfAnotherDeviceOrUnknownIsRefusedWithTheReason() async {
        let registrar = registrar()
        let other = await registrar.handle(RegistrarFixtures.register("2001"), origin: RegistrarFixtures.tls(["SEP001BD4AABBDD"]))
        #expect(other.statusCode == 403)
        #expect(other.reasonPhrase.contains("SEP001BD4AABBDD does not own line 2001"))
        let unknown = await registrar.handle(RegistrarFixtures.register("2001"), origin: RegistrarFixtures.tls(["SEPFFFFFFFFFFFF"]))
        #expect(unknown.statusCode == 403)
        #expect(unknown.reasonPhrase.contains("not in the inventory"))
        #expect(registrar.statistics[.certificateMismatches] == 2)
        #expect(journal.stored.isEmpty)
    }

    /// Challenged like any line (no enumeration, EnumerationTests), and never accepted over UDP.
    @Test func secureDeviceOverPlainUDPIsChallengedAndNeverAccepted() async throws {
        let registrar = registrar()
        let request = RegistrarFixtures.register("2002")
        let challenge = await registrar.handle(request, origin: RegistrarFixtures.udp)
        #expect(challenge.statusCode == 401)
        let answered = try RegistrarFixtures.answering(request, challenge: challenge, username: "2002", password: "anything")
        let response = await registrar.handle(answered, origin: RegistrarFixtures.udp)
        #expect(response.statusCode == 403)
        #expect(response.reasonPhrase == "Forbidden")
        #expect(registrar.statistics[.tlsRequired] == 1)
    }

    @Test func sanURIIdentityIsAccepted() async {
        let response = await registrar().handle(
            RegistrarFixtures.register("2012"), origin: RegistrarFixtures.tls(["phone.example", "sip:SEP001BD4AABBDD@branch.example"]))
        #expect(response.statusCode == 200)
    }

    @Test(arguments: [0, 1]) func digestWithSHA256OrMD5Registers(algorithmIndex: Int) async throws {
        let registrar = registrar()
        let request = RegistrarFixtures.register("3001")
        let challenge = await registrar.handle(request, origin: RegistrarFixtures.udp)
        #expect(challenge.statusCode == 401)
        let offered = try challenge.headers.digestChallenges()
        #expect(offered.map(\.effectiveAlgorithm) == [.sha256, .md5])
        #expect(offered.allSatisfy { $0.offersAuthQOP })
        let answered = try RegistrarFixtures.answering(request, challenge: challenge, username: "3001", password: "s3cret", algorithmIndex: algorithmIndex)
        let response = await registrar.handle(answered, origin: RegistrarFixtures.udp)
        #expect(response.statusCode == 200)
        #expect(journal.stored["3001"]?.count == 1)
    }

    @Test func unknownUserAndWrongPasswordGetTheSameAnswer() async throws {
        let registrar = registrar()
        var answers: [SIPResponse] = []
        for (user, password) in [("3001", "wrong"), ("4999", "s3cret")] {
            let request = RegistrarFixtures.register(user)
            let challenge = await registrar.handle(request, origin: RegistrarFixtures.udp)
            #expect(challenge.statusCode == 401)
            answers.append(await registrar.handle(try RegistrarFixtures.answering(request, challenge: challenge, username: user, password: password), origin: RegistrarFixtures.udp))
        }
        #expect(answers.map(\.statusCode) == [403, 403])
        #expect(answers[0].reasonPhrase == answers[1].reasonPhrase)
        #expect(registrar.statistics[.wrongCredentials] == 2)
    }

    @Test func replayedCredentialsAreChallengedAgain() async throws {
        let registrar = registrar()
        let request = RegistrarFixtures.register("3001")
        let challenge = await registrar.handle(request, origin: RegistrarFixtures.udp)
        let answered = try RegistrarFixtures.answering(request, challenge: challenge, username: "3001", password: "s3cret")
        #expect(await registrar.handle(answered, origin: RegistrarFixtures.udp).statusCode == 200)
        let replay = await registrar.handle(answered, origin: RegistrarFixtures.udp)
        #expect(replay.statusCode == 401)
        #expect(registrar.statistics[.replays] == 1)
        var next = RegistrarFixtures.register("3001", cseq: 2)
        next = try RegistrarFixtures.answering(next, challenge: challenge, username: "3001", password: "s3cret", nonceCount: 2)
        #expect(await registrar.handle(next, origin: RegistrarFixtures.udp).statusCode == 200)
    }

    @Test func expiredNonceIsStale() throws {
        var authority = DigestAuthority(realm: "outpost", lifetime: 300, hashing: RegistrarFixtures.hashing)
        let challenge = authority.challenges(now: now)[0]
        let credentials = try DigestCredentials.answering(
            challenge, username: "3001", password: "s3cret", method: "REGISTER", uri: "sip:x", cnonce: "c", using: RegistrarFixtures.hashing)
        #expect(authority.verify(credentials, method: "REGISTER", password: "s3cret", expectedUsername: "3001", now: now + 301) == .challengeAgain(stale: true))
        var forged = credentials
        forged.nonce = String(forged.nonce.reversed())
        #expect(authority.verify(forged, method: "REGISTER", password: "s3cret", expectedUsername: "3001", now: now) == .challengeAgain(stale: false))
        #expect(authority.verify(credentials, method: "REGISTER", password: "s3cret", expectedUsername: "3001", now: now + 5) == .authenticated)
    }

    /// Under FIPS mode OpenSSL's digests refuse MD5: an MD5 answer is refused (not a crash),
    /// even if the algorithm list still offers it, while a SHA-256 answer authenticates.
    @Test func fipsHashingRefusesAnMD5AnswerAndAcceptsSHA256() throws {
        let fips = OpenSSLDigests.hashing(fipsMode: true)
        var authority = DigestAuthority(realm: "outpost", lifetime: 300, algorithms: [.sha256, .md5], hashing: fips)
        let challenges = authority.challenges(now: now)
        let md5Challenge = try #require(challenges.first { $0.algorithm == .md5 })
        let md5 = try DigestCredentials.answering(
            md5Challenge, username: "3001", password: "s3cret", method: "REGISTER", uri: "sip:x", cnonce: "c", using: RegistrarFixtures.hashing)
        #expect(authority.verify(md5, method: "REGISTER", password: "s3cret", expectedUsername: "3001", now: now) == .refused)
        let sha256 = try DigestCredentials.answering(
            challenges[0], username: "3001", password: "s3cret", method: "REGISTER", uri: "sip:x", cnonce: "c", using: fips)
        #expect(authority.verify(sha256, method: "REGISTER", password: "s3cret", expectedUsername: "3001", now: now) == .authenticated)
    }

    @Test func okIsSentOnlyOnceTheBindingIsDurable() async throws {
        let registrar = registrar()
        journal.hold()
        let answers = Mutex<[SIPResponse]>([])
        registrar.handle(RegistrarFixtures.register("2001"), origin: RegistrarFixtures.tls(["SEP001BD4AABBCC"])) { response in
            answers.withLock { $0.append(response) }
        }
        try await Task.sleep(for: .milliseconds(100))
        // While the write is held nothing is stored, and so nothing may be answered.
        #expect(journal.stored.isEmpty)
        #expect(answers.withLock { $0.isEmpty }, "the 200 left before the binding was durable")
        journal.release()
        for _ in 0..<100 where answers.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(answers.withLock { $0.map(\.statusCode) } == [200])
        #expect(journal.stored["2001"] != nil)
    }

    @Test func aFailedWriteIsNotAcknowledged() async {
        journal.fail()
        let response = await registrar().handle(RegistrarFixtures.register("2001"), origin: RegistrarFixtures.tls(["SEP001BD4AABBCC"]))
        #expect(response.statusCode == 500)
        #expect(response.reasonPhrase.contains("could not be stored"))
    }

    @Test func expiresRulesMinimumMaximumAndAbsurdValues() async {
        let registrar = registrar()
        let tls = RegistrarFixtures.tls(["SEP001BD4AABBCC"])
        let brief = await registrar.handle(RegistrarFixtures.register("2001", expires: 10), origin: tls)
        #expect(brief.statusCode == 423)
        #expect(brief.headers[.minExpires] == "60")
        let huge = await registrar.handle(RegistrarFixtures.register("2001", contacts: ["<sip:a@192.0.2.60>;expires=99999999999999999999"], callID: "c2"), origin: tls)
        #expect(huge.statusCode == 200)
        #expect(huge.headers.lines(.contact).first?.hasSuffix("expires=3600") == true)
        let bad = await registrar.handle(RegistrarFixtures.register("2001", contacts: ["<sip:a@192.0.2.60>;expires=-5"], callID: "c3"), origin: tls)
        #expect(bad.statusCode == 400)
        #expect(bad.reasonPhrase.contains("expires"))
    }

    @Test func wildcardRemovesEveryBindingAndNeedsExpiresZero() async {
        let registrar = registrar()
        let tls = RegistrarFixtures.tls(["SEP001BD4AABBCC"])
        _ = await registrar.handle(RegistrarFixtures.register("2001", contacts: ["<sip:a@192.0.2.60>", "<sip:b@192.0.2.60>"]), origin: tls)
        #expect(registrar.bindings(for: "2001").count == 2)
        #expect(await registrar.handle(RegistrarFixtures.register("2001", contacts: ["*"], cseq: 2), origin: tls).statusCode == 400)
        let removed = await registrar.handle(RegistrarFixtures.register("2001", contacts: ["*"], expires: 0, cseq: 3), origin: tls)
        #expect(removed.statusCode == 200)
        #expect(registrar.bindings(for: "2001").isEmpty)
        #expect(journal.stored["2001"] == nil)
    }

    @Test func outOfOrderCSeqOnTheSameCallIDIsRefused() async {
        let registrar = registrar()
        let tls = RegistrarFixtures.tls(["SEP001BD4AABBCC"])
        #expect(await registrar.handle(RegistrarFixtures.register("2001", contacts: ["<sip:a@192.0.2.60>"], cseq: 5), origin: tls).statusCode == 200)
        #expect(await registrar.handle(RegistrarFixtures.register("2001", contacts: ["<sip:a@192.0.2.60>"], cseq: 5), origin: tls).statusCode == 500)
        #expect(await registrar.handle(RegistrarFixtures.register("2001", contacts: ["<sip:a@192.0.2.60>"], cseq: 6), origin: tls).statusCode == 200)
    }

    @Test func tooManyContactsAreRefused() async {
        let contacts = (0..<4).map { "<sip:c\($0)@192.0.2.60>" }
        let response = await registrar().handle(RegistrarFixtures.register("2001", contacts: contacts), origin: RegistrarFixtures.tls(["SEP001BD4AABBCC"]))
        #expect(response.statusCode == 403)
        #expect(response.reasonPhrase.contains("more than 3 contacts"))
    }

    @Test func outboundFlowsAreKeyedByInstanceAndEchoed() async throws {
        let registrar = registrar()
        let instance = "\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\""
        let request = RegistrarFixtures.register(
            "2001", contacts: ["<sip:2001@192.0.2.60:40000;transport=tls>;+sip.instance=\(instance);reg-id=1"],
            extra: [(.supported, "outbound, path"), (.path, "<sip:proxy.example;lr>")])
        let response = await registrar.handle(request, origin: RegistrarFixtures.tls(["SEP001BD4AABBCC"]))
        #expect(response.statusCode == 200)
        #expect(response.headers[.require] == "outbound")
        #expect(response.headers.values(.path) == ["<sip:proxy.example;lr>"])
        let binding = try #require(registrar.bindings(for: "2001").first)
        #expect(binding.instanceID == instance)
        #expect(binding.regID == 1)
        #expect(binding.path == ["<sip:proxy.example;lr>"])
        #expect(binding.key == "\(instance);reg-id=1")
    }

    @Test func floodFromOneSourceIsRateLimitedWithRetryAfter() async {
        let registrar = registrar(rate: 5)
        var statuses: [Int] = []
        for _ in 0..<8 { statuses.append(await registrar.handle(RegistrarFixtures.register("2002"), origin: RegistrarFixtures.udp).statusCode) }
        #expect(statuses.filter { $0 == 503 }.count == 3)
        let limited = await registrar.handle(RegistrarFixtures.register("2002"), origin: RegistrarFixtures.udp)
        #expect(limited.headers[.retryAfter] == "5")
        #expect(registrar.statistics[.rateLimited] == 4)
        let other = RequestOrigin(flow: BindingFlow(transport: .udp, remoteAddress: "192.0.2.99", remotePort: 5060))
        #expect(await registrar.handle(RegistrarFixtures.register("2002"), origin: other).statusCode == 401)
    }

    @Test func restoredBindingsAreServedAndExpiredOnesDropped() {
        let flow = BindingFlow(transport: .tls, remoteAddress: "192.0.2.60", remotePort: 1)
        let live = Binding(addressOfRecord: "2001", contact: "sip:a@x", device: "SEP001BD4AABBCC", expiresAt: now + 100, callID: "c", cseq: 1, flow: flow, registeredAt: now - 10)
        var gone = live
        gone.contact = "sip:b@x"
        gone.expiresAt = now - 1
        var stranger = live
        stranger.device = "SEP999999999999"
        stranger.addressOfRecord = "9999"
        let registrar = registrar(restored: [live, gone, stranger])
        #expect(registrar.bindings() == [live])
    }

    @Test func aBindingIsFoundByItsFlowOnlyWhileItIsLive() {
        let flow = BindingFlow(transport: .udp, remoteAddress: "192.0.2.61", remotePort: 5062)
        var expired = Binding(addressOfRecord: "2001", contact: "sip:a@x", device: "SEP001BD4AABBCC", expiresAt: now - 1, callID: "c", cseq: 1, flow: flow, registeredAt: now - 10)
        var live = expired
        live.addressOfRecord = "2002"
        live.contact = "sip:b@x"
        live.expiresAt = now + 100
        var table = LocationTable([live], now: now)
        table.replace("2001", with: [expired])
        #expect(table.first(now: now) { $0.flow == flow } == live)
        expired.expiresAt = now + 50
        table.replace("2001", with: [expired])
        table.replace("2002", with: [])
        #expect(table.first(now: now) { $0.flow == flow }?.addressOfRecord == "2001")
        #expect(table.first(now: now + 60) { $0.flow == flow } == nil)
    }

    @Test func aNewInventoryRemovesOnlyTheBindingsWhoseDeviceOrLineLeftItAndDurably() throws {
        let flow = BindingFlow(transport: .udp, remoteAddress: "192.0.2.61", remotePort: 5062)
        func binding(_ line: String, _ device: String) -> Binding {
            Binding(addressOfRecord: line, contact: "sip:\(line)@x", device: device, expiresAt: now + 100, callID: line, cseq: 1, flow: flow, registeredAt: now - 10)
        }
        let restored = [binding("2001", "SEP001BD4AABBCC"), binding("2002", "SEP001BD4AABBDD"), binding("2012", "SEP001BD4AABBDD"), binding("3001", "soft-3001")]
        for binding in restored { journal.write(addressOfRecord: binding.addressOfRecord, bindings: [binding]) { _ in } }
        let registrar = registrar(restored: restored)
        let next = try DeviceInventory([
            Device(name: "SEP001BD4AABBCC", lines: [DeviceLine(number: "2001")], security: .encrypted),
            // 2012 moves to another device; 2002 stays with its own.
            Device(name: "SEP001BD4AABBDD", lines: [DeviceLine(number: "2002")], security: .authenticated),
            Device(name: "kitchen", lines: [DeviceLine(number: "2012")], security: .nonSecure, digest: DigestAccount(username: "2012", password: "x")),
        ])
        #expect(registrar.replaceInventory(next) == ["2012", "3001"])
        #expect(registrar.bindings().map(\.addressOfRecord) == ["2001", "2002"])
        #expect(registrar.inventory == next)
        #expect(journal.stored["3001"] == nil, "the removal is written like an unregistration")
        #expect(journal.stored["2012"] == nil)
        #expect(journal.stored["2001"]?.count == 1 && journal.stored["2002"]?.count == 1)
        #expect(registrar.replaceInventory(next).isEmpty, "the same inventory again changes nothing")
    }
}
