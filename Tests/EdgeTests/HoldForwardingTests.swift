import Foundation
import SDP
import SIP
import Synchronization
import Testing

@testable import Edge

/// A hold on one leg is answered there and offered to the other leg, so that phone knows it is
/// held; the resume likewise; a legacy `c=0.0.0.0` hold counts as one.
@Suite struct HoldForwardingTests {
    typealias Fixtures = CallRouterTests

    static func reInvite(_ invite: SIPRequest, toTag: String, sequence: Int, _ edit: (String) -> String) -> SIPRequest {
        var reInvite = invite
        reInvite.headers.set(.to, "<sip:2002@edge.test>;tag=\(toTag)")
        reInvite.headers.set(.cseq, "\(sequence) INVITE")
        reInvite.body = Array(edit(String(decoding: Fixtures.offer(), as: UTF8.self)).utf8)
        return reInvite
    }

    /// The re-INVITEs the edge sent the callee after the call was up, with their audio direction.
    static func forwarded(_ harness: CallRouterTests.Harness) throws -> [(cseq: String, direction: MediaDirection)] {
        try harness.signalling.sent.withLock { $0.invites }.filter { $0.headers[.cseq] != "1 INVITE" }.map { invite in
            let offer = try SessionDescription(parsing: invite.body)
            return (invite.headers[.cseq] ?? "", offer.direction(of: offer.media[0]))
        }
    }

    @Test func holdAndResumeOnTheCallersLegAreOfferedToTheCallee() async throws {
        let harness = Fixtures.harness(answers: ["bob-desk": .ringThenAnswer(delay: .zero), "bob-dect": .refuse(486, "Busy Here", delay: .zero)])
        let replies = Replies()
        let invite = Fixtures.invite()
        harness.router.handle(invite, from: Fixtures.callerOrigin, reply: replies.reply)
        let ok = try await replies.waitFinal()
        let toTag = try #require(try ok.headers.to().tag)

        let hold = Replies()
        harness.router.handle(
            Self.reInvite(invite, toTag: toTag, sequence: 2) { $0.replacingOccurrences(of: "RTP/SAVP 0 8 101\r\n", with: "RTP/SAVP 0 8 101\r\na=sendonly\r\n") },
            from: Fixtures.callerOrigin, reply: hold.reply)
        let held = try SessionDescription(parsing: try await hold.waitFinal().body)
        #expect(held.direction(of: held.media[0]) == .recvonly, "answered on the caller's leg")
        try await Fixtures.waitUntil("the hold offered to the callee") { (try? Self.forwarded(harness).count) == 1 }
        #expect(try Self.forwarded(harness).first?.cseq == "2 INVITE")
        #expect(try Self.forwarded(harness).first?.direction == .sendonly)
        let toBobDesk = harness.signalling.sent.withLock { $0.invites.filter { $0.uri.sipURI?.user == "bob-desk" } }
        let sentKey = try SessionDescription(parsing: try #require(toBobDesk.first).body)
            .media[0].attributes.first { $0.name == "crypto" }
        let heldKey = try SessionDescription(parsing: try #require(harness.signalling.sent.withLock { $0.invites.last { $0.uri.sipURI?.user == "bob-desk" } }).body)
            .media[0].attributes.first { $0.name == "crypto" }
        #expect(sentKey == heldKey, "a hold is no rekeying")

        let resume = Replies()
        harness.router.handle(Self.reInvite(invite, toTag: toTag, sequence: 3) { $0 }, from: Fixtures.callerOrigin, reply: resume.reply)
        #expect(try await resume.waitFinal().statusCode == 200)
        try await Fixtures.waitUntil("the resume offered to the callee") { (try? Self.forwarded(harness).count) == 2 }
        #expect(try Self.forwarded(harness).last?.direction == .sendrecv)

        // RFC 2543's hold, c=0.0.0.0, is a hold too.
        let legacy = Replies()
        harness.router.handle(
            Self.reInvite(invite, toTag: toTag, sequence: 4) { $0.replacingOccurrences(of: "c=IN IP4 192.0.2.11", with: "c=IN IP4 0.0.0.0") },
            from: Fixtures.callerOrigin, reply: legacy.reply)
        #expect(try await legacy.waitFinal().statusCode == 200)
        try await Fixtures.waitUntil("the legacy hold offered to the callee") { (try? Self.forwarded(harness).count) == 3 }
        #expect(try Self.forwarded(harness).last?.direction == .sendonly)

        // The same direction again is answered but not passed on.
        let again = Replies()
        harness.router.handle(
            Self.reInvite(invite, toTag: toTag, sequence: 5) { $0.replacingOccurrences(of: "c=IN IP4 192.0.2.11", with: "c=IN IP4 0.0.0.0") },
            from: Fixtures.callerOrigin, reply: again.reply)
        #expect(try await again.waitFinal().statusCode == 200)
        try await Task.sleep(for: .milliseconds(100))
        #expect(try Self.forwarded(harness).count == 3)
        await harness.router.shutDown(reason: "test over")
    }
}
