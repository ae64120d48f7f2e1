import Foundation
import SIP
import Synchronization
import Testing

@testable import Edge

/// RFC 4028 session timers: what the edge agrees to on each leg, and what it does when a
/// refresh is due or does not come.
@Suite struct SessionTimerTests {
    typealias Fixtures = CallRouterTests

    static func invite(_ extra: [(SIPHeaderName, String)]) -> SIPRequest {
        var invite = Fixtures.invite()
        for (name, value) in extra { invite.headers.append(name, value) }
        return invite
    }

    @Test(arguments: [
        ([(SIPHeaderName.supported, "timer"), (.sessionExpires, "30")], SessionTimer.Answer.tooSmall(minimum: 90)),
        ([(.sessionExpires, "30")], .agreed(SessionTimer(interval: 90, refresher: .uas, edgeRefreshes: true))),
        ([(.supported, "timer")], .agreed(SessionTimer(interval: 1800, refresher: .uac, edgeRefreshes: false))),
        ([(.supported, "timer, 100rel"), (.sessionExpires, "600;refresher=uas")], .agreed(SessionTimer(interval: 600, refresher: .uas, edgeRefreshes: true))),
        ([(.supported, "timer"), (.sessionExpires, "x=600 ;refresher=uac")], .agreed(SessionTimer(interval: 1800, refresher: .uac, edgeRefreshes: false))),
        ([(.sessionExpires, "7200; refresher=uac")], .agreed(SessionTimer(interval: 7200, refresher: .uac, edgeRefreshes: false))),
        ([], .agreed(nil)),
    ] as [([(SIPHeaderName, String)], SessionTimer.Answer)])
    func theEdgeAsUASAgreesAsTheRFCSays(headers: [(SIPHeaderName, String)], expected: SessionTimer.Answer) {
        #expect(SessionTimer.answering(Self.invite(headers), minimum: 90, preferred: 1800) == expected)
    }

    @Test func theCalleesAnswerAndA422AreRead() {
        var ok = SIPResponse(statusCode: 200)
        #expect(SessionTimer.answered(ok) == nil, "a callee without timers")
        ok.headers.append(.sessionExpires, "900;refresher=uac")
        #expect(SessionTimer.answered(ok) == SessionTimer(interval: 900, refresher: .uac, edgeRefreshes: true))
        var tooSmall = SIPResponse(statusCode: 422)
        tooSmall.headers.append(.minSE, "3600")
        #expect(SessionTimer.retryInterval(after: tooSmall, asked: 1800) == 3600)
        #expect(SessionTimer.retryInterval(after: tooSmall, asked: 3600) == nil, "no loop on a Min-SE already met")
        #expect(SessionTimer(interval: 90, refresher: .uac, edgeRefreshes: false).expiresAfter == .seconds(60))
        #expect(SessionTimer(interval: 1800, refresher: .uac, edgeRefreshes: true).refreshAfter == .seconds(900))
    }

    @Test func anIntervalBelowTheMinimumGets422WithMinSE() async throws {
        let harness = Fixtures.harness(answers: [:])
        let replies = Replies()
        harness.router.handle(Self.invite([(.supported, "timer"), (.sessionExpires, "30")]), from: Fixtures.callerOrigin, reply: replies.reply)
        let refusal = try await replies.waitFinal()
        #expect(refusal.statusCode == 422 && refusal.headers[.minSE] == "90")
        #expect(harness.signalling.sent.withLock { $0.invites.isEmpty })
    }

    static func answeredCall(
        _ headers: [(SIPHeaderName, String)], caller: ScriptedSignalling.Answer? = nil
    ) async throws -> (CallRouterTests.Harness, SIPResponse) {
        var answers: [String: ScriptedSignalling.Answer] = ["bob-desk": .ringThenAnswer(delay: .milliseconds(10)), "bob-dect": .refuse(486, "Busy", delay: .zero)]
        answers["2001"] = caller
        let harness = Fixtures.harness(answers: answers) {
            $0.minimumSessionExpires = 1
        }
        let replies = Replies()
        harness.router.handle(Self.invite(headers), from: Fixtures.callerOrigin, reply: replies.reply)
        let ok = try await replies.waitFinal()
        #expect(ok.statusCode == 200)
        #expect(harness.signalling.sent.withLock { $0.invites.allSatisfy { $0.headers[.sessionExpires] == "1800" && $0.headers[.minSE] == "1" } })
        return (harness, ok)
    }

    @Test func aCallerThatStopsRefreshingIsHungUpWithWhy() async throws {
        let (harness, ok) = try await Self.answeredCall([(.supported, "timer"), (.sessionExpires, "2;refresher=uac")])
        #expect(ok.headers[.sessionExpires] == "2;refresher=uac" && ok.headers[.require] == "timer")
        try await Fixtures.waitUntil("the session to expire", timeout: .seconds(6)) { harness.router.activeCallCount == 0 }
        // The record is closed first, then both BYEs go out.
        try await Fixtures.waitUntil("both BYEs") { harness.signalling.sent.withLock { $0.requests.filter { $0.method == .bye }.count } >= 2 }
        let byes = harness.signalling.sent.withLock { $0.requests.filter { $0.method == .bye } }
        #expect(byes.count == 2 && byes.allSatisfy { $0.headers[.reason]?.contains("cause=102") == true }, "\(byes.map { $0.headers[.reason] ?? "" })")
        let record = try #require(harness.records.all.first)
        #expect(record.endedBy == .edge && record.q850Cause == 102)
    }

    @Test func theEdgeRefreshesWhenItIsTheRefresher() async throws {
        let (harness, ok) = try await Self.answeredCall([
            (.sessionExpires, "2;refresher=uas"), (.allow, "INVITE, ACK, BYE, CANCEL, UPDATE"),
        ])
        #expect(ok.headers[.sessionExpires] == "2;refresher=uas" && ok.headers[.require] == nil)
        try await Fixtures.waitUntil("two refreshes", timeout: .seconds(6)) {
            harness.signalling.sent.withLock { $0.requests.filter { $0.method == .update }.count } >= 2
        }
        let update = try #require(harness.signalling.sent.withLock { $0.requests.first { $0.method == .update } })
        #expect(update.headers[.sessionExpires] == "2;refresher=uas" && update.body.isEmpty)
        #expect(harness.router.activeCallCount == 1, "answered refreshes keep the call")
        await harness.router.shutDown(reason: "test over")
    }

    /// A caller that allows no UPDATE is refreshed with a re-INVITE; its own re-INVITE meanwhile
    /// is glare and gets 491; a refresh refused with 500 does not end the session (§10).
    @Test func aReInviteRefreshMeetsTheCallersOwnReInviteWith491() async throws {
        let (harness, ok) = try await Self.answeredCall(
            [(.sessionExpires, "2;refresher=uas"), (.allow, "INVITE, ACK, BYE, CANCEL")], caller: .refuse(500, "Busy Elsewhere", delay: .seconds(1)))
        try await Fixtures.waitUntil("the refresh re-INVITE", timeout: .seconds(4)) {
            harness.signalling.sent.withLock { $0.invites.contains { $0.uri.sipURI?.user == "2001" } }
        }
        let refresh = try #require(harness.signalling.sent.withLock { $0.invites.first { $0.uri.sipURI?.user == "2001" } })
        #expect(refresh.headers[.sessionExpires] == "2;refresher=uas" && !refresh.body.isEmpty)
        var reInvite = Fixtures.invite()
        reInvite.headers.set(.to, "<sip:2002@edge.test>;tag=\(try #require(try ok.headers.to().tag))")
        reInvite.headers.set(.callID, try ok.headers.callID())
        reInvite.headers.set(.cseq, "2 INVITE")
        let glare = Replies()
        harness.router.handle(reInvite, from: Fixtures.callerOrigin, reply: glare.reply)
        #expect(try await glare.waitFinal().statusCode == 491)
        try await Task.sleep(for: .milliseconds(1_500))
        #expect(harness.router.activeCallCount == 1, "a 500 to a refresh keeps the session")
        await harness.router.shutDown(reason: "test over")
    }
}
