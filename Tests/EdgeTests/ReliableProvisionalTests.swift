import Foundation
import SIP
import Synchronization
import Testing

@testable import Edge

/// RFC 3262 per leg: the edge PRACKs a callee's reliable provisionals, sends its own reliably
/// only to a caller that requires it, and refuses extensions it lacks.
@Suite struct ReliableProvisionalTests {
    typealias Fixtures = CallRouterTests

    @Test func aCalleesReliableRingingIsPRACKedOnceAndItsCSeqCountsInTheDialog() async throws {
        let harness = Fixtures.harness(answers: ["bob-desk": .ringReliablyThenAnswer(delay: .milliseconds(50)), "bob-dect": .refuse(486, "Busy", delay: .zero)])
        let invite = Fixtures.invite()
        let replies = Replies()
        harness.router.handle(invite, from: Fixtures.callerOrigin, reply: replies.reply)
        let ok = try await replies.waitFinal()
        #expect(ok.statusCode == 200)
        let sentInvite = try #require(harness.signalling.sent.withLock { $0.invites.first { $0.uri.sipURI?.user == "bob-desk" } })
        #expect(sentInvite.headers.tokens(.supported).contains("100rel") && sentInvite.headers[.require] == nil, "offered, never forced")
        try await Fixtures.waitUntil("the PRACK") { harness.signalling.sent.withLock { $0.requests.contains { $0.method == .prack } } }
        let pracks = harness.signalling.sent.withLock { $0.requests.filter { $0.method == .prack } }
        #expect(pracks.count == 1, "a retransmitted 180 is not PRACKed again")
        #expect(pracks.first?.headers[.rack] == "1 1 INVITE" && pracks.first?.headers[.cseq] == "2 PRACK")
        #expect(replies.statuses.filter { $0 == 180 }.count == 1, "the caller hears the ringing once")

        var ack = invite
        ack.method = .ack
        ack.headers.set(.to, "<sip:2002@edge.test>;tag=\(try #require(try ok.headers.to().tag))")
        ack.headers.set(.cseq, "1 ACK")
        harness.router.handleACK(ack)
        var bye = ack
        bye.method = .bye
        bye.headers.set(.cseq, "2 BYE")
        let byeReplies = Replies()
        harness.router.handle(bye, from: Fixtures.callerOrigin, reply: byeReplies.reply)
        #expect(try await byeReplies.waitFinal().statusCode == 200)
        try await Fixtures.waitUntil("the callee's BYE") { harness.signalling.sent.withLock { $0.requests.contains { $0.method == .bye } } }
        let calleeBye = try #require(harness.signalling.sent.withLock { $0.requests.first { $0.method == .bye } })
        #expect(calleeBye.headers[.cseq] == "3 BYE", "after the INVITE (1) and the PRACK (2)")
    }

    @Test func aCallerThatRequires100relGetsReliableRingingUntilItPRACKs() async throws {
        let harness = Fixtures.harness(answers: ["bob-desk": .ringForever, "bob-dect": .ringForever])
        var invite = Fixtures.invite()
        invite.headers.append(.require, "100rel")
        let replies = Replies()
        harness.router.handle(invite, from: Fixtures.callerOrigin, reply: replies.reply)
        try await Fixtures.waitUntil("the ringing sent again", timeout: .seconds(3)) { replies.statuses.filter { $0 == 180 }.count >= 2 }
        let ringing = try #require(replies.responses.withLock { $0.first { $0.statusCode == 180 } })
        #expect(ringing.headers[.rseq] == "1" && ringing.headers.tokens(.require).contains("100rel"))

        var prack = invite
        prack.method = .prack
        prack.headers.set(.to, "<sip:2002@edge.test>;tag=\(try #require(try ringing.headers.to().tag))")
        prack.headers.set(.cseq, "2 PRACK")
        prack.headers.set(.rack, "7 1 INVITE")
        prack.body = []
        let wrong = Replies()
        harness.router.handle(prack, from: Fixtures.callerOrigin, reply: wrong.reply)
        #expect(try await wrong.waitFinal().statusCode == 481, "an RSeq the edge never sent")
        prack.headers.set(.rack, "1 1 INVITE")
        prack.headers.set(.cseq, "3 PRACK")
        let right = Replies()
        harness.router.handle(prack, from: Fixtures.callerOrigin, reply: right.reply)
        #expect(try await right.waitFinal().statusCode == 200)
        let sentAfterPRACK = replies.statuses.filter { $0 == 180 }.count
        try await Task.sleep(for: .milliseconds(1_200))
        #expect(replies.statuses.filter { $0 == 180 }.count == sentAfterPRACK, "no retransmission once acknowledged")
        await harness.router.shutDown(reason: "test over")
    }

    @Test func aCallerThatOnlySupports100relGetsPlainProvisionals() async throws {
        let harness = Fixtures.harness(answers: ["bob-desk": .ringForever, "bob-dect": .ringForever])
        var invite = Fixtures.invite()
        invite.headers.append(.supported, "100rel")
        let replies = Replies()
        harness.router.handle(invite, from: Fixtures.callerOrigin, reply: replies.reply)
        try await Fixtures.waitUntil("the ringing") { replies.statuses.contains(180) }
        #expect(replies.responses.withLock { $0.first { $0.statusCode == 180 }?.headers[.rseq] } == nil)
        await harness.router.shutDown(reason: "test over")
    }

    /// The edge's request policy knows what the call layer implements: a Require of 100rel (or
    /// timer) reaches the calls, anything else gets 420 before any phone rings.
    @Test func anExtensionTheEdgeLacksGets420() async throws {
        let harness = Fixtures.harness(answers: [:])
        let core = EdgeCore(calls: harness.router)
        var invite = Fixtures.invite()
        invite.headers.append(.require, "100rel, precondition")
        guard case .respond(let refusal?) = core.handle(invite, from: Fixtures.callerOrigin, reply: { _ in }) else {
            Issue.record("the INVITE was not refused")
            return
        }
        #expect(refusal.statusCode == 420 && refusal.headers[.unsupported] == "precondition")
        #expect(harness.signalling.sent.withLock { $0.invites.isEmpty })

        var reliable = Fixtures.invite()
        reliable.headers.append(.require, "100rel, timer")
        reliable.headers.append(.sessionExpires, "1800")
        let replies = Replies()
        guard case .answerLater = core.handle(reliable, from: Fixtures.callerOrigin, reply: replies.reply) else {
            Issue.record("an INVITE requiring 100rel and timer was not passed to the calls")
            return
        }
        try await Fixtures.waitUntil("the forks") { harness.signalling.sent.withLock { $0.invites.count } == 2 }
        await harness.router.shutDown(reason: "test over")
    }
}
