import Foundation
import SDP
import SIP
import Synchronization
import Testing

@testable import Edge

/// Calls over the trunk, without sockets: a branch phone's call to the call manager, the call
/// manager's call to a branch phone, and the two halves of a call between branch phones that the
/// call manager routed, which must outlive the WAN.
@Suite struct TrunkCallTests {
    typealias Fixtures = CallRouterTests

    static func reachableTrunk() -> SurvivabilityController {
        SurvivabilityController(settings: .init(misses: 1, successes: 1, holdDown: .zero), logger: .quiet, wallClock: { 0 })
    }

    static let fromCallManager = RequestOrigin(flow: ScriptedSignalling.callManager, certificateNames: nil)

    /// The INVITE a call manager sends a branch phone: to the Contact the phone registered, with
    /// the call manager's Via over the edge's own when the call started at the edge.
    static func inviteFromCallManager(to contact: String, offer: [UInt8], edgeVia: Bool, relaying first: SIPRequest? = nil) -> SIPRequest {
        var headers: SIPHeaders = [(.via, "SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bK\(SIPIdentifiers.tag())")]
        if edgeVia { headers.append(.via, "SIP/2.0/UDP 192.0.2.1:5060;branch=\(SIPIdentifiers.branch())") }
        headers.append(.maxForwards, "68")
        // A proxy keeps the Call-ID and the From tag of what it relays.
        headers.append(.from, first?.headers[.from] ?? "\"Reception\" <sip:2001@cucm.example>;tag=cm1")
        headers.append(.to, "<sip:2002@cucm.example>")
        headers.append(.callID, first?.headers[.callID] ?? SIPIdentifiers.callID())
        headers.append(.cseq, "1 INVITE")
        headers.append(.contact, "<sip:2001@198.51.100.10:5060>")
        headers.append(.contentType, "application/sdp")
        return SIPRequest(method: .invite, uri: try! URI(parsing: contact), headers: headers, body: offer)
    }

    @Test func aNumberBeyondTheBranchIsCalledAtTheCallManagerInItsDomain() async throws {
        let harness = Fixtures.harness(answers: ["5551234": .ringThenAnswer(delay: .milliseconds(20))], trunk: Self.reachableTrunk())
        let replies = Replies()
        harness.router.handle(Fixtures.invite(to: "5551234"), from: Fixtures.callerOrigin, reply: replies.reply)
        let final = try await replies.waitFinal()
        #expect(final.statusCode == 200)
        let sent = try #require(harness.signalling.sent.withLock { $0.invites.first })
        #expect(harness.signalling.sent.withLock { $0.invites.count } == 1)
        #expect(sent.uri.description == "sip:5551234@cucm.example")
        #expect(try sent.headers.to().uri.description == "sip:5551234@cucm.example")
        #expect(try sent.headers.from().uri.description == "sip:2001@cucm.example")
        #expect(sent.headers.lines(.route).isEmpty)
        let offer = try SessionDescription(parsing: sent.body)
        #expect(offer.media[0].transport == .rtpSAVP, "the trunk's media is SRTP by default")
        let record = try #require(harness.records.all.first)
        #expect(record.callee.device == "call-manager" && record.callee.number == "5551234")
        #expect(record.security == .secure, "TLS to the phone, IPsec on the trunk, SRTP on both")
        #expect(record.legs.map(\.device) == ["SEP001BD4AABBCC", "call-manager"])
    }

    @Test func withTheCallManagerUnreachableATrunkRuleIsRefusedWithWhy() async throws {
        let trunk = Self.reachableTrunk()
        trunk.probeMissed(cause: "no answer")
        #expect(trunk.mode == .survivable)
        let plan = DialPlan(rules: [DialPlanRule(name: "headquarters", pattern: try DialPattern("8XXX"), target: .trunk)])
        let harness = Fixtures.harness(answers: [:], dialPlan: plan, trunk: trunk)
        let replies = Replies()
        harness.router.handle(Fixtures.invite(to: "8123"), from: Fixtures.callerOrigin, reply: replies.reply)
        let refusal = try await replies.waitFinal()
        #expect(refusal.statusCode == 503)
        #expect(refusal.headers[.reason]?.contains("call manager is unreachable") == true, "\(refusal.headers[.reason] ?? "")")
        #expect(harness.signalling.sent.withLock { $0.invites.isEmpty })
    }

    @Test func aTrunkThatCannotBeReachedGivesTheCaller503() async throws {
        let harness = Fixtures.harness(answers: [:], trunk: Self.reachableTrunk())
        harness.signalling.trunkUp.withLock { $0 = false }
        let replies = Replies()
        harness.router.handle(Fixtures.invite(to: "5551234"), from: Fixtures.callerOrigin, reply: replies.reply)
        let refusal = try await replies.waitFinal()
        #expect(refusal.statusCode == 503)
        #expect(refusal.headers[.reason]?.contains("call manager cannot be reached") == true, "\(refusal.headers[.reason] ?? "")")
    }

    @Test func theCallManagersCallReachesThePhoneByTheContactItRegistered() async throws {
        let harness = Fixtures.harness(answers: ["bob-desk": .ringThenAnswer(delay: .milliseconds(10))], trunk: Self.reachableTrunk())
        let replies = Replies()
        let invite = Self.inviteFromCallManager(to: "sip:bob-desk@192.0.2.12:40000;transport=tls", offer: Fixtures.offer(), edgeVia: true)
        harness.router.handle(invite, from: Self.fromCallManager, reply: replies.reply)
        let final = try await replies.waitFinal()
        #expect(final.statusCode == 200, "the edge's own Via under the call manager's is routing, not a loop")
        let sent = harness.signalling.sent.withLock { $0.invites }
        #expect(sent.map { $0.uri.sipURI?.user } == ["bob-desk"], "only the registration the call manager chose rings")
        let record = try #require(harness.records.all.first)
        #expect(record.caller.device == "call-manager" && record.caller.number == "2001" && record.caller.line == nil)
        #expect(record.callee.device == "SEP001BD4AABBDD" && record.callee.line == "2002")
        #expect(record.route == "call-manager")
    }

    @Test func theCallManagersCallForAnUnknownContactIs404() async throws {
        let harness = Fixtures.harness(answers: [:], trunk: Self.reachableTrunk())
        let replies = Replies()
        var invite = Self.inviteFromCallManager(to: "sip:9999@192.0.2.99:5060", offer: Fixtures.offer(), edgeVia: false)
        invite.headers.set(.to, "<sip:9999@cucm.example>")
        harness.router.handle(invite, from: Self.fromCallManager, reply: replies.reply)
        #expect(try await replies.waitFinal().statusCode == 404)
    }

    @Test func aPhoneOffTheTrunkStillMayNotLoopBackThroughTheEdge() async throws {
        let harness = Fixtures.harness(answers: [:], trunk: Self.reachableTrunk())
        var invite = Fixtures.invite()
        invite.headers.append(.via, "SIP/2.0/TLS 192.0.2.1:5061;branch=\(SIPIdentifiers.branch())")
        let replies = Replies()
        harness.router.handle(invite, from: Fixtures.callerOrigin, reply: replies.reply)
        #expect(try await replies.waitFinal().statusCode == 482)
    }

    /// Phone 2001 calls 2002 through the call manager: the edge's first call goes to the call
    /// manager, which sends the second back to the edge for bob-desk with the first call's offer.
    struct Hairpin {
        let harness: CallRouterTests.Harness
        let trunk: SurvivabilityController
        let callerInvite: SIPRequest
        let callerOK: SIPResponse
        let secondInvite: SIPRequest
        let secondOK: SIPResponse
    }

    static func hairpin() async throws -> Hairpin {
        let trunk = reachableTrunk()
        let plan = DialPlan(rules: [DialPlanRule(name: "through-cm", pattern: try DialPattern("2XXX"), target: .trunk, survivableTarget: .local)])
        let harness = Fixtures.harness(
            answers: ["2002": .ringThenAnswer(delay: .milliseconds(300)), "bob-desk": .ringThenAnswer(delay: .milliseconds(10))],
            dialPlan: plan, trunk: trunk)
        let callerInvite = Fixtures.invite(to: "2002")
        let callerReplies = Replies()
        harness.router.handle(callerInvite, from: Fixtures.callerOrigin, reply: callerReplies.reply)
        try await Fixtures.waitUntil("the INVITE to the call manager") { harness.signalling.sent.withLock { $0.invites.count } == 1 }
        let towardCallManager = try #require(harness.signalling.sent.withLock { $0.invites.first })
        #expect(towardCallManager.uri.description == "sip:2002@cucm.example")
        let second = inviteFromCallManager(
            to: "sip:bob-desk@192.0.2.12:40000;transport=tls", offer: towardCallManager.body, edgeVia: true, relaying: towardCallManager)
        let secondReplies = Replies()
        harness.router.handle(second, from: fromCallManager, reply: secondReplies.reply)
        let secondOK = try await secondReplies.waitFinal()
        #expect(secondOK.statusCode == 200)
        let callerOK = try await callerReplies.waitFinal()
        #expect(callerOK.statusCode == 200)
        #expect(harness.router.activeCallCount == 2)
        let halves = await harness.router.activeCalls()
        #expect(Set(halves.compactMap(\.otherHalf)) == Set(halves.map(\.id)), "each half names the other for show calls")
        return Hairpin(
            harness: harness, trunk: trunk, callerInvite: callerInvite, callerOK: callerOK, secondInvite: second, secondOK: secondOK)
    }

    static func bye(from hairpin: Hairpin) throws -> SIPRequest {
        var bye = hairpin.callerInvite
        bye.method = .bye
        bye.body = []
        bye.headers.set(.to, "<sip:2002@edge.test>;tag=\(try #require(try hairpin.callerOK.headers.to().tag))")
        bye.headers.set(.cseq, "2 BYE")
        bye.headers.set(.via, "SIP/2.0/TLS 192.0.2.11:40000;branch=z9hG4bKbye\(SIPIdentifiers.tag())")
        bye.headers.set(.contentLength, "0")
        return bye
    }

    static let bobDesk = "192.0.2.12"
    static let callManager = ScriptedSignalling.callManager.remoteAddress

    @Test func withTheWANCutAHangUpEndsTheOtherHalfAtTheEdge() async throws {
        let hairpin = try await Self.hairpin()
        let harness = hairpin.harness
        harness.signalling.trunkUp.withLock { $0 = false }
        hairpin.trunk.probeMissed(cause: "WAN cut")
        let byeReplies = Replies()
        harness.router.handle(try Self.bye(from: hairpin), from: Fixtures.callerOrigin, reply: byeReplies.reply)
        #expect(try await byeReplies.waitFinal().statusCode == 200)
        try await Fixtures.waitUntil("both halves to end") { harness.router.activeCallCount == 0 }
        try await Fixtures.waitUntil("the BYE to bob-desk") {
            harness.signalling.sent.withLock { $0.requestFlows.contains { $0.remoteAddress == Self.bobDesk } }
        }
        let sent = harness.signalling.sent.withLock { $0 }
        let byes = zip(sent.requests, sent.requestFlows).filter { $0.0.method == .bye }
        #expect(!byes.contains { $0.1.remoteAddress == Self.callManager }, "nothing waits on a call manager the edge knows is gone")
        let toBob = try #require(byes.first { $0.1.remoteAddress == Self.bobDesk }?.0)
        #expect(toBob.headers[.reason]?.contains("call manager was unreachable") == true, "\(toBob.headers[.reason] ?? "")")
        let records = harness.records.all
        #expect(records.count == 2 && records.allSatisfy { $0.endedAt != nil })
        #expect(records.contains { $0.endedBy == .caller } && records.contains { $0.endedBy == .edge })
    }

    @Test func aByeTheCallManagerCannotCarryEndsTheOtherHalfToo() async throws {
        let hairpin = try await Self.hairpin()
        let harness = hairpin.harness
        // The WAN has just gone: the edge is not yet survivable, but the BYE goes unanswered.
        harness.signalling.trunkUp.withLock { $0 = false }
        let byeReplies = Replies()
        harness.router.handle(try Self.bye(from: hairpin), from: Fixtures.callerOrigin, reply: byeReplies.reply)
        #expect(try await byeReplies.waitFinal().statusCode == 200)
        try await Fixtures.waitUntil("both halves to end") { harness.router.activeCallCount == 0 }
        try await Fixtures.waitUntil("the BYE to bob-desk") {
            harness.signalling.sent.withLock { $0.requestFlows.contains { $0.remoteAddress == Self.bobDesk } }
        }
        let flows = harness.signalling.sent.withLock { zip($0.requests, $0.requestFlows).filter { $0.0.method == .bye }.map(\.1.remoteAddress) }
        #expect(flows == [Self.callManager, Self.bobDesk])
    }

    @Test func withTheCallManagerAnsweringTheOtherHalfIsItsToEnd() async throws {
        let hairpin = try await Self.hairpin()
        let harness = hairpin.harness
        let byeReplies = Replies()
        harness.router.handle(try Self.bye(from: hairpin), from: Fixtures.callerOrigin, reply: byeReplies.reply)
        #expect(try await byeReplies.waitFinal().statusCode == 200)
        try await Fixtures.waitUntil("the first half to end") { harness.router.activeCallCount == 1 }
        try await Task.sleep(for: .milliseconds(100))
        #expect(harness.router.activeCallCount == 1, "the call manager carries the BYE to the second half")
        let flows = harness.signalling.sent.withLock { zip($0.requests, $0.requestFlows).filter { $0.0.method == .bye }.map(\.1.remoteAddress) }
        #expect(flows == [Self.callManager])

        // The call manager relays the BYE to the second half, whose dialog shares the first's
        // Call-ID: it is found by the edge's own tag in it.
        var bye = hairpin.secondInvite
        bye.method = .bye
        bye.body = []
        bye.headers.set(.to, "<sip:2002@cucm.example>;tag=\(try #require(try hairpin.secondOK.headers.to().tag))")
        bye.headers.set(.cseq, "2 BYE")
        let secondByeReplies = Replies()
        harness.router.handle(bye, from: Self.fromCallManager, reply: secondByeReplies.reply)
        #expect(try await secondByeReplies.waitFinal().statusCode == 200)
        try await Fixtures.waitUntil("the second half to end") { harness.router.activeCallCount == 0 }
    }
}
