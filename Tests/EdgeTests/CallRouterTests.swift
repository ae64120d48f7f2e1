import Foundation
import Logging
import SDP
import SIP
import Synchronization
import Testing

@testable import Edge

/// The B2BUA's decisions without sockets: a scripted stack and an in-memory relay and store.
@Suite struct CallRouterTests {
    static let now: Int64 = 1_800_000_000

    static let inventory = try! DeviceInventory([
        Device(name: "SEP001BD4AABBCC", lines: [DeviceLine(number: "2001")], security: .encrypted),
        Device(name: "SEP001BD4AABBDD", lines: [DeviceLine(number: "2002")], security: .encrypted),
        Device(name: "soft-3001", lines: [DeviceLine(number: "3001")], security: .nonSecure, digest: DigestAccount(username: "3001", password: "s3cret")),
        Device(name: "SEP001BD4AABB99", lines: [DeviceLine(number: "2009")], security: .encrypted),
    ])

    static func binding(_ line: String, device: String, user: String, connection: UInt64) -> Binding {
        Binding(
            addressOfRecord: line, contact: "sip:\(user)@192.0.2.\(connection):40000;transport=tls",
            device: device, expiresAt: now + 3600, callID: "reg-\(user)", cseq: 1,
            flow: BindingFlow(transport: .tls, remoteAddress: "192.0.2.\(connection)", remotePort: 40000, connection: connection),
            registeredAt: now)
    }

    struct Harness {
        let router: CallRouter
        let signalling: ScriptedSignalling
        let media: RecordingMedia
        let records: MemoryCallRecords
    }

    /// With `trunk`, the edge has a call manager, reachable while `controller` says so.
    static func harness(
        answers: [String: ScriptedSignalling.Answer], dialPlan: DialPlan = DialPlan(), maximumCalls: Int = 100,
        trunk: SurvivabilityController? = nil, configure: (inout CallSettings) -> Void = { _ in }
    ) -> Harness {
        let registrar = Registrar(
            settings: RegistrarSettings(minimumExpires: 60, maximumExpires: 3600, defaultExpires: 600, maximumBindingsPerAddress: 3),
            hashing: RegistrarFixtures.hashing, ratePerSource: 1000, inventory: inventory,
            policy: RequestPolicy(capabilities: EdgeCapabilities()), journal: MemoryJournal(),
            restored: [
                binding("2001", device: "SEP001BD4AABBCC", user: "alice", connection: 11),
                binding("2002", device: "SEP001BD4AABBDD", user: "bob-desk", connection: 12),
                binding("2002", device: "SEP001BD4AABBDD", user: "bob-dect", connection: 13),
            ], upstream: trunk.map { _ in FakeUpstream() }, upstreamDomain: "cucm.example", survivability: trunk, logger: .quiet,
            wallClock: { now })
        let signalling = ScriptedSignalling(answers: answers)
        let media = RecordingMedia()
        let records = MemoryCallRecords()
        var settings = CallSettings(
            ringTimeout: .seconds(10), maximumCalls: maximumCalls,
            trunk: trunk.map { _ in TrunkCallSettings(domain: "cucm.example", signallingProtected: true) })
        configure(&settings)
        let router = CallRouter(
            settings: settings,
            registrar: registrar, signalling: signalling,
            media: media, records: records, dialPlan: dialPlan, wallClock: { now * 1000 }, logger: .quiet)
        return Harness(router: router, signalling: signalling, media: media, records: records)
    }

    static let callerOrigin = RequestOrigin(
        flow: BindingFlow(transport: .tls, remoteAddress: "192.0.2.11", remotePort: 40000, connection: 11), certificateNames: ["SEP001BD4AABBCC"])

    static func offer(crypto: Bool = true, extraMedia: Int = 0) -> [UInt8] {
        var text = "v=0\r\no=- 1 1 IN IP4 192.0.2.11\r\ns=-\r\nc=IN IP4 192.0.2.11\r\nt=0 0\r\n"
        text += "m=audio 20000 \(crypto ? "RTP/SAVP" : "RTP/AVP") 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
        if crypto { text += "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n" }
        for index in 0..<extraMedia { text += "m=video \(30000 + 2 * index) RTP/AVP 96\r\n" }
        return Array(text.utf8)
    }

    static func invite(to number: String = "2002", body: [UInt8] = offer(), maxForwards: Int = 70, callID: String = SIPIdentifiers.callID()) -> SIPRequest {
        let headers: SIPHeaders = [
            (.via, "SIP/2.0/TLS 192.0.2.11:40000;branch=z9hG4bK\(SIPIdentifiers.tag())"), (.maxForwards, "\(maxForwards)"),
            (.from, "\"Reception\" <sip:2001@edge.test>;tag=caller1"), (.to, "<sip:\(number)@edge.test>"), (.callID, callID),
            (.cseq, "1 INVITE"), (.contact, "<sip:2001@192.0.2.11:40000;transport=tls>"), (.contentType, "application/sdp"),
        ]
        return SIPRequest(method: .invite, uri: try! URI(parsing: "sip:\(number)@edge.test"), headers: headers, body: body)
    }

    static func waitUntil(_ what: String, timeout: Duration = .seconds(5), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CallTestTimeout(what: what) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test func aLineWithTwoPhonesIsForkedAndTheFirstToAnswerWins() async throws {
        let harness = Self.harness(answers: ["bob-desk": .ringThenAnswer(delay: .milliseconds(50)), "bob-dect": .ringForever])
        let replies = Replies()
        let invite = Self.invite()
        harness.router.handle(invite, from: Self.callerOrigin, reply: replies.reply)
        let final = try await replies.waitFinal()
        #expect(final.statusCode == 200)
        #expect(replies.statuses.prefix(2) == [100, 180])
        let sent = harness.signalling.sent.withLock { $0 }
        #expect(sent.invites.count == 2)
        #expect(Set(sent.invites.map { (try? $0.headers.callID()) ?? "" }).count == 2, "each fork has its own Call-ID")
        #expect(!sent.invites.contains { (try? $0.headers.callID()) == (try? invite.headers.callID()) }, "the caller's Call-ID stays on its leg")
        try await Self.waitUntil("the losing fork's CANCEL") { harness.signalling.sent.withLock { $0.cancels.count } == 1 }
        #expect(harness.signalling.sent.withLock { $0.cancels.first?.0.uri.sipURI?.user } == "bob-dect")
        #expect(harness.signalling.sent.withLock { $0.acks.count } == 1)
        // The phone did not get the ACK and sends its 2xx again: the ACK goes again.
        harness.router.handleRetransmittedSuccess(try #require(harness.signalling.sent.withLock { $0.successes.first }))
        try await Self.waitUntil("the second ACK") { harness.signalling.sent.withLock { $0.acks.count } == 2 }

        // Each leg has its own keys: the caller's answer carries the relay's key for leg 0, each
        // fork's offer the relay's key for its own leg, and never the caller's.
        let answer = try SessionDescription(parsing: final.body)
        let callerKey = try #require(answer.media[0].attributes.first { $0.name == "crypto" }?.value)
        #expect(callerKey.contains("inline:" + String(repeating: "AQEB", count: 10)), "the relay's key for leg 0 (thirty bytes of 1)")
        for fork in sent.invites {
            let offer = try SessionDescription(parsing: fork.body)
            let key = try #require(offer.media[0].attributes.first { $0.name == "crypto" }?.value)
            #expect(!key.contains("WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"))
            #expect(offer.media[0].transport == .rtpSAVP)
        }
        #expect(harness.media.state.withLock { $0.directions.map(\.1) } == [.inactive], "the loser's leg is silenced")
        #expect(harness.router.activeCallCount == 1)
        let record = try #require(harness.records.all.first)
        #expect(record.answeredAt != nil && record.security == .secure && record.legs.count == 2)
    }

    @Test func byeFromTheCallerIsRecordedBeforeItIsAnsweredAndHangsUpTheCallee() async throws {
        let harness = Self.harness(answers: ["bob-desk": .ringThenAnswer(delay: .milliseconds(10)), "bob-dect": .refuse(486, "Busy Here", delay: .zero)])
        let replies = Replies()
        let invite = Self.invite()
        harness.router.handle(invite, from: Self.callerOrigin, reply: replies.reply)
        let ok = try await replies.waitFinal()
        #expect(ok.statusCode == 200)
        let toTag = try #require(try ok.headers.to().tag)
        var ack = invite
        ack.method = .ack
        ack.headers.set(.to, "<sip:2002@edge.test>;tag=\(toTag)")
        ack.headers.set(.cseq, "1 ACK")
        harness.router.handleACK(ack)

        var bye = ack
        bye.method = .bye
        bye.headers.set(.cseq, "2 BYE")
        bye.headers.set(.via, "SIP/2.0/TLS 192.0.2.11:40000;branch=z9hG4bKbye1")
        let byeReplies = Replies()
        let recordWhenAnswered = Mutex<CallRecord?>(nil)
        let records = harness.records
        harness.router.handle(bye, from: Self.callerOrigin) { response in
            recordWhenAnswered.withLock { $0 = records.all.first }
            byeReplies.reply(response)
        }
        #expect(try await byeReplies.waitFinal().statusCode == 200)
        let record = try #require(recordWhenAnswered.withLock { $0 })
        #expect(record.endedAt != nil && record.endedBy == .caller && record.endStatus == 200 && record.q850Cause == 16)
        #expect(record.legs.allSatisfy { $0.quality?.packetsReceived == 250 })
        try await Self.waitUntil("the callee's BYE") { harness.signalling.sent.withLock { $0.requests.contains { $0.method == .bye } } }
        let calleeBye = try #require(harness.signalling.sent.withLock { $0.requests.first { $0.method == .bye } })
        #expect(calleeBye.headers[.reason]?.hasPrefix("Q.850;cause=16") == true)
        try await Self.waitUntil("the call to go") { harness.router.activeCallCount == 0 }
        #expect(harness.media.unreleased == 0)

        // The same BYE again finds no call.
        let again = Replies()
        harness.router.handle(bye, from: Self.callerOrigin, reply: again.reply)
        #expect(try await again.waitFinal().statusCode == 481)
    }

    @Test func everyForkRefusingGivesTheCallerTheMostTellingRefusal() async throws {
        let harness = Self.harness(answers: ["bob-desk": .refuse(486, "Busy Here", delay: .milliseconds(20)), "bob-dect": .refuse(480, "Away", delay: .zero)])
        let replies = Replies()
        harness.router.handle(Self.invite(), from: Self.callerOrigin, reply: replies.reply)
        let final = try await replies.waitFinal()
        #expect(final.statusCode == 486)
        #expect(final.headers[.reason]?.contains("cause=17") == true)
        try await Self.waitUntil("the call to go") { harness.router.activeCallCount == 0 }
        #expect(harness.media.unreleased == 0)
        #expect(harness.records.all.first?.endStatus == 486)
    }

    @Test func aCancelEndsEveryForkAndTheCallerGets487() async throws {
        let harness = Self.harness(answers: [:])
        let replies = Replies()
        let invite = Self.invite()
        harness.router.handle(invite, from: Self.callerOrigin, reply: replies.reply)
        try await Self.waitUntil("the forks") { harness.signalling.sent.withLock { $0.invites.count } == 2 }
        var cancel = invite
        cancel.method = .cancel
        cancel.headers.set(.cseq, "1 CANCEL")
        cancel.body = []
        let cancelReplies = Replies()
        harness.router.handle(cancel, from: Self.callerOrigin, reply: cancelReplies.reply)
        #expect(cancelReplies.statuses == [200])
        #expect(try await replies.waitFinal().statusCode == 487)
        try await Self.waitUntil("both CANCELs") { harness.signalling.sent.withLock { $0.cancels.count } == 2 }
        try await Self.waitUntil("the call to go") { harness.router.activeCallCount == 0 }
        #expect(harness.media.unreleased == 0)
        #expect(harness.records.all.first?.endedBy == .caller)
    }

    @Test(arguments: [
        ("2002", 0, true, 483, "Max-Forwards"),
        ("4444", 70, true, 503, "no dial-plan rule sends 4444"),
        ("2009", 70, true, 480, "line 2009 has no registered phone"),
        ("2002", 70, false, 488, "SRTP is required"),
        ("20a02", 70, true, 484, "20a02"),
    ])
    func refusalsSayWhy(number: String, maxForwards: Int, crypto: Bool, status: Int, why: String) async throws {
        let harness = Self.harness(answers: [:])
        let replies = Replies()
        let invite = Self.invite(to: number, body: Self.offer(crypto: crypto), maxForwards: maxForwards)
        harness.router.handle(invite, from: Self.callerOrigin, reply: replies.reply)
        let final = try await replies.waitFinal()
        #expect(final.statusCode == status)
        let explained = (final.headers[.reason] ?? "") + (final.headers[.warning] ?? "")
        #expect(explained.contains(why) || why.isEmpty && !explained.isEmpty, "\(explained)")
        #expect(harness.signalling.sent.withLock { $0.invites.isEmpty }, "no phone rang")
        #expect(harness.media.unreleased == 0)
    }

    @Test func anEncryptedPhoneOfferingPlainRTPGets488WithAWarningCode() async throws {
        let harness = Self.harness(answers: [:])
        let replies = Replies()
        harness.router.handle(Self.invite(body: Self.offer(crypto: false)), from: Self.callerOrigin, reply: replies.reply)
        let final = try await replies.waitFinal()
        #expect(final.statusCode == 488)
        #expect(final.headers[.warning]?.hasPrefix("302 outpost") == true, "\(final.headers)")
    }

    @Test func strangersAndHostileOffersAreRefusedWithoutRingingAnyone() async throws {
        let harness = Self.harness(answers: [:])
        let cases: [(RequestOrigin, SIPRequest, Int)] = [
            (RequestOrigin(flow: Self.callerOrigin.flow, certificateNames: ["SEPFFFFFFFFFFFF"]), Self.invite(), 403),
            (RequestOrigin(flow: BindingFlow(transport: .udp, remoteAddress: "198.51.100.9", remotePort: 5060)), Self.invite(), 403),
            (Self.callerOrigin, Self.invite(body: Self.offer(extraMedia: 400)), 400),
            (Self.callerOrigin, Self.invite(body: Array("v=0\r\nm=audio x\r\n".utf8)), 400),
            (
                Self.callerOrigin,
                Self.invite(body: Array(String(decoding: Self.offer(), as: UTF8.self).replacingOccurrences(of: "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", with: "inline:!!").utf8)),
                488
            ),
        ]
        for (origin, invite, status) in cases {
            let replies = Replies()
            harness.router.handle(invite, from: origin, reply: replies.reply)
            let final = try await replies.waitFinal()
            #expect(final.statusCode == status, "\(final.reasonPhrase) \(final.headers[.reason] ?? "")")
            #expect(final.headers[.reason] != nil)
        }
        #expect(harness.signalling.sent.withLock { $0.invites.isEmpty })
        #expect(harness.router.activeCallCount == 0)
        #expect(harness.media.unreleased == 0)
        #expect(harness.router.statistics[.refused] == cases.count)
    }

    @Test func requestsForDialogsTheEdgeDoesNotHoldGet481() async throws {
        let harness = Self.harness(answers: [:])
        for method in [SIPMethod.bye, .cancel, .invite, .update] {
            var request = Self.invite()
            request.method = method
            request.headers.set(.to, "<sip:2002@edge.test>;tag=nobody")
            request.headers.set(.cseq, "5 \(method.rawValue)")
            let replies = Replies()
            harness.router.handle(request, from: Self.callerOrigin, reply: replies.reply)
            #expect(try await replies.waitFinal().statusCode == 481, "\(method)")
        }
        #expect(harness.router.statistics[.unknownDialog] == 4)
    }

    @Test func aReInviteStormOnOneLegIsAnsweredInOrderOrWith491() async throws {
        let harness = Self.harness(answers: ["bob-desk": .ringThenAnswer(delay: .zero), "bob-dect": .refuse(486, "Busy Here", delay: .zero)])
        let replies = Replies()
        let invite = Self.invite()
        harness.router.handle(invite, from: Self.callerOrigin, reply: replies.reply)
        let ok = try await replies.waitFinal()
        #expect(ok.statusCode == 200, "\(ok.reasonPhrase) \(ok.headers[.reason] ?? "")")
        let toTag = try #require(try ok.headers.to().tag)
        let storm = Replies()
        for sequence in 2..<52 {
            var reInvite = invite
            reInvite.headers.set(.to, "<sip:2002@edge.test>;tag=\(toTag)")
            reInvite.headers.set(.cseq, "\(sequence) INVITE")
            reInvite.body = Array(String(decoding: Self.offer(), as: UTF8.self).replacingOccurrences(of: "RTP/SAVP 0 8 101\r\n", with: "RTP/SAVP 0 8 101\r\na=sendonly\r\n").utf8)
            harness.router.handle(reInvite, from: Self.callerOrigin, reply: storm.reply)
        }
        try await Self.waitUntil("every re-INVITE answered") { storm.statuses.count >= 50 }
        #expect(storm.statuses.allSatisfy { [200, 491, 500].contains($0) }, "\(storm.statuses)")
        #expect(storm.statuses.contains(200))
        let held = try SessionDescription(parsing: try #require(storm.responses.withLock { $0.first { $0.statusCode == 200 } }).body)
        #expect(held.media[0].attributes.contains { $0.name == "recvonly" })
        #expect(harness.router.activeCallCount == 1)
    }

    @Test func theCallLimitIsASaid503() async throws {
        let harness = Self.harness(answers: [:], maximumCalls: 1)
        let first = Replies()
        harness.router.handle(Self.invite(), from: Self.callerOrigin, reply: first.reply)
        try await Self.waitUntil("the first call") { harness.router.activeCallCount == 1 }
        let second = Replies()
        harness.router.handle(Self.invite(), from: Self.callerOrigin, reply: second.reply)
        let refusal = try await second.waitFinal()
        #expect(refusal.statusCode == 503 && refusal.headers[.retryAfter] != nil)
        await harness.router.shutDown(reason: "the edge is stopping")
        #expect(try await first.waitFinal().statusCode == 503)
        try await Self.waitUntil("the call to go") { harness.router.activeCallCount == 0 }
    }
}
