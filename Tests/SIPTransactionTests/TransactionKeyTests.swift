import SIP
import SIPTransaction
import Testing

@Suite struct ClientTransactionKeyTests {
    let invite = Fixture.invite()

    @Test func responseMatchesByTopBranchAndCSeqMethod() throws {
        let requestKey = try ClientTransactionKey(request: invite)
        #expect(requestKey == ClientTransactionKey(branch: "z9hG4bKnashds8", method: .invite))
        #expect(try ClientTransactionKey(response: Fixture.response(180, to: invite)) == requestKey)
    }

    @Test func cancelResponseSharesTheBranchButNotTheMethod() throws {
        let cancel = invite.cancelRequest()
        let cancelKey = try ClientTransactionKey(response: Fixture.response(200, to: cancel))
        #expect(cancelKey == ClientTransactionKey(branch: "z9hG4bKnashds8", method: .cancel))
        #expect(cancelKey != (try ClientTransactionKey(request: invite)))
    }

    @Test func responseWithoutBranchHasNoKey() {
        var response = Fixture.response(200, to: invite)
        response.headers.set(.via, "SIP/2.0/UDP pc33.atlanta.example.com")
        #expect(throws: SIPParseError(element: "Via", reason: "top Via has no branch")) {
            try ClientTransactionKey(response: response)
        }
    }
}

@Suite struct ServerTransactionKeyTests {
    let invite = Fixture.invite()

    @Test func rfc3261KeyIsBranchSentByAndMethod() throws {
        let key = try ServerTransactionKey(request: invite)
        #expect(key == .rfc3261(branch: "z9hG4bKnashds8", sentBy: SentBy(host: "pc33.atlanta.example.com", port: nil), method: .invite))
    }

    @Test func ackMatchesItsInviteAndCancelHasItsOwnKey() throws {
        let key = try ServerTransactionKey(request: invite)
        let ack = Fixture.ackForFailure(invite, response: Fixture.response(486, to: invite))
        #expect(try ServerTransactionKey(request: ack) == key)
        let cancelKey = try ServerTransactionKey(request: invite.cancelRequest())
        #expect(cancelKey != key)
        #expect(cancelKey.method == .cancel)
        #expect(cancelKey.cancelledInvite == key)
    }

    @Test func sentByHostIsCaseInsensitiveButPortCounts() throws {
        let key = try ServerTransactionKey(request: invite)
        #expect(try ServerTransactionKey(request: Fixture.invite(sentBy: "PC33.Atlanta.Example.COM")) == key)
        #expect(try ServerTransactionKey(request: Fixture.invite(sentBy: "pc33.atlanta.example.com:5070")) != key)
        #expect(try ServerTransactionKey(request: Fixture.invite(branch: "z9hG4bKother")) != key)
    }

    @Test func branchWithoutMagicCookieFallsBackToRFC2543Fields() throws {
        let legacy = Fixture.invite(branch: "7c3d2b")
        let key = try ServerTransactionKey(request: legacy)
        guard case .rfc2543(let identity) = key else {
            Issue.record("expected an RFC 2543 key, got \(key)")
            return
        }
        #expect(identity.requestURI.description == "sip:bob@biloxi.example.com")
        #expect(identity.fromTag == "1928301774")
        #expect(identity.callID == "a84b4c76e66710@pc33.atlanta.example.com")
        #expect(identity.sequence == 314159)
        #expect(identity.method == .invite)
        #expect(identity.topVia.description == "SIP/2.0/UDP pc33.atlanta.example.com;branch=7c3d2b")

        var noBranch = legacy
        noBranch.headers.remove(.via)
        noBranch.headers.insert(.via, "SIP/2.0/UDP pc33.atlanta.example.com")
        guard case .rfc2543 = try ServerTransactionKey(request: noBranch) else {
            Issue.record("a request without branch must use the RFC 2543 fields")
            return
        }
    }

    @Test func rfc2543FieldsEachTellTransactionsApart() throws {
        let legacy = Fixture.invite(branch: "7c3d2b")
        let key = try ServerTransactionKey(request: legacy)
        var otherURI = legacy
        otherURI.uri = try URI(parsing: "sip:carol@biloxi.example.com")
        var otherCallID = legacy
        otherCallID.headers.set(.callID, "other@pc33")
        var otherSequence = legacy
        otherSequence.headers.set(.cseq, "314160 INVITE")
        var otherFromTag = legacy
        otherFromTag.headers.set(.from, "Alice <sip:alice@atlanta.example.com>;tag=99")
        for variant in [otherURI, otherCallID, otherSequence, otherFromTag, Fixture.invite(branch: "7c3d2c")] {
            #expect(try ServerTransactionKey(request: variant) != key)
        }
    }

    @Test func rfc2543AckMatchesByTheToTagOfTheResponseSent() throws {
        let legacy = Fixture.invite(branch: "7c3d2b")
        let busy = Fixture.response(486, to: legacy, toTag: "resp1")
        let ack = legacy.ack(acknowledging: busy)
        #expect(try ServerTransactionKey(request: ack) == ServerTransactionKey(request: legacy))
        #expect(ServerTransactionKey.rfc2543ToTagMatches(ack, original: legacy, lastResponse: busy))
        let otherTag = legacy.ack(acknowledging: Fixture.response(486, to: legacy, toTag: "resp2"))
        #expect(!ServerTransactionKey.rfc2543ToTagMatches(otherTag, original: legacy, lastResponse: busy))
        #expect(!ServerTransactionKey.rfc2543ToTagMatches(ack, original: legacy, lastResponse: nil))
    }

    @Test func rfc2543RetransmissionMatchesByTheToTagOfTheRequest() {
        let legacy = Fixture.invite(branch: "7c3d2b")
        let busy = Fixture.response(486, to: legacy, toTag: "resp1")
        #expect(ServerTransactionKey.rfc2543ToTagMatches(legacy, original: legacy, lastResponse: busy))
        let tagged = Fixture.invite(branch: "7c3d2b", toTag: "resp1")
        #expect(!ServerTransactionKey.rfc2543ToTagMatches(tagged, original: legacy, lastResponse: busy))
    }
}
