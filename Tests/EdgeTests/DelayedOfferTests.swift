import Foundation
import SDP
import SIP
import Synchronization
import Testing

@testable import Edge

/// An INVITE without an offer (RFC 3261 §13.2.1, what many call managers send on trunks): the
/// edge offers the callee itself, offers the caller in its 2xx what the callee chose, and takes
/// the caller's answer from the ACK.
@Suite struct DelayedOfferTests {
    typealias Fixtures = CallRouterTests

    static func answered() async throws -> (harness: CallRouterTests.Harness, invite: SIPRequest, ok: SIPResponse) {
        let harness = Fixtures.harness(answers: ["bob-desk": .ringThenAnswer(delay: .milliseconds(10)), "bob-dect": .refuse(486, "Busy Here", delay: .zero)])
        let invite = Fixtures.invite(body: [])
        let replies = Replies()
        harness.router.handle(invite, from: Fixtures.callerOrigin, reply: replies.reply)
        let ok = try await replies.waitFinal()
        #expect(ok.statusCode == 200)
        return (harness, invite, ok)
    }

    static func ack(for invite: SIPRequest, ok: SIPResponse, body: [UInt8]) throws -> SIPRequest {
        var ack = invite
        ack.method = .ack
        ack.headers.set(.to, "<sip:2002@edge.test>;tag=\(try #require(try ok.headers.to().tag))")
        ack.headers.set(.cseq, "1 ACK")
        ack.body = body
        ack.headers.set(.contentLength, "\(body.count)")
        if !body.isEmpty { ack.headers.set(.contentType, "application/sdp") }
        return ack
    }

    @Test func theEdgeOffersInItsOKAndTakesTheAnswerFromTheACK() async throws {
        let (harness, invite, ok) = try await Self.answered()
        // The callee was offered what the relay can carry without transcoding, over SRTP.
        let forkOffer = try SessionDescription(parsing: try #require(harness.signalling.sent.withLock { $0.invites.first }).body)
        #expect(forkOffer.media[0].transport == .rtpSAVP)
        #expect(LegMedia.codecs(offeredIn: forkOffer).map(\.encoding) == ["PCMU", "PCMA", "G722"])
        // The caller is offered the callee's choice, keyed with the relay's key for leg 0.
        let offer = try SessionDescription(parsing: ok.body)
        #expect(LegMedia.codecs(offeredIn: offer).map(\.encoding) == ["PCMU"])
        let key = try #require(offer.media[0].attributes.first { $0.name == "crypto" }?.value)
        #expect(key.contains("inline:" + String(repeating: "AQEB", count: 10)), "\(key)")
        let updatesBefore = harness.media.state.withLock { $0.updates.filter { $0.1 == 0 }.count }

        let answer = try offer.makeAnswer(
            policy: MediaPolicy(codecs: [.pcmu], srtp: .required, connectionAddress: "192.0.2.11", keyGenerator: { Array(repeating: 9, count: $0) }),
            localPorts: [20_000], origin: Origin(sessionID: 5, sessionVersion: 1, address: "192.0.2.11")
        ).answer.serialized()
        harness.router.handleACK(try Self.ack(for: invite, ok: ok, body: answer))
        try await Fixtures.waitUntil("the caller's answer in the relay") {
            harness.media.state.withLock { $0.updates.filter { $0.1 == 0 }.count } > updatesBefore
        }
        let leg0 = try #require(harness.media.state.withLock { $0.updates.last { $0.1 == 0 }?.2 })
        #expect(leg0.address == "192.0.2.11" && leg0.port == 20_000)
        #expect(leg0.srtp?.peerKeySalt == [UInt8](repeating: 9, count: 30), "the caller's own key, from its answer")
        #expect(harness.router.activeCallCount == 1)
        let snapshot = try #require(await harness.router.activeCalls().first)
        #expect(snapshot.security == .secure && snapshot.legs.first?.suite == "AES_CM_128_HMAC_SHA1_80", "\(snapshot)")
    }

    @Test func anACKWithoutAnAnswerEndsTheCallWithWhy() async throws {
        let (harness, invite, ok) = try await Self.answered()
        harness.router.handleACK(try Self.ack(for: invite, ok: ok, body: []))
        try await Fixtures.waitUntil("the call to end") { harness.router.activeCallCount == 0 }
        try await Fixtures.waitUntil("the BYEs") { harness.signalling.sent.withLock { $0.requests.filter { $0.method == .bye }.count } == 2 }
        let byes = harness.signalling.sent.withLock { $0.requests.filter { $0.method == .bye } }
        #expect(byes.allSatisfy { $0.headers[.reason]?.contains("no answer to the edge's offer") == true }, "\(byes.map { $0.headers[.reason] ?? "" })")
        let record = try #require(harness.records.all.first)
        #expect(record.endStatus == 488 && record.endedBy == .edge)
        #expect(harness.media.unreleased == 0)
    }

    @Test func aPlainAnswerToTheEncryptedCallersOfferIsRefused() async throws {
        let (harness, invite, ok) = try await Self.answered()
        let plain = "v=0\r\no=- 5 1 IN IP4 192.0.2.11\r\ns=-\r\nc=IN IP4 192.0.2.11\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\n"
        harness.router.handleACK(try Self.ack(for: invite, ok: ok, body: Array(plain.utf8)))
        try await Fixtures.waitUntil("the call to end") { harness.router.activeCallCount == 0 }
        let record = try #require(harness.records.all.first)
        #expect(record.endStatus == 488, "never clear RTP on an encrypted device's leg")
    }
}
