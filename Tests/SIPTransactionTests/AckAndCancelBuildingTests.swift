import SIP
import SIPTransaction
import Testing

@Suite struct AckAndCancelBuildingTests {
    let invite = Fixture.invite()

    @Test func ackForFailureCopiesExactlyWhatSection17113Requires() throws {
        var (machine, _) = InviteClientTransaction.start(request: invite, over: .unreliable)
        var busy = Fixture.response(486, to: invite, toTag: "xy99")
        busy.headers.append(.contact, "<sip:bob@192.0.2.4>")
        _ = machine.handle(.received(busy))
        let ack = try #require(machine.ack)

        #expect(ack.method == .ack)
        #expect(ack.uri.description == "sip:bob@biloxi.example.com")
        #expect(ack.headers.lines(.via) == ["SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8"])
        #expect(ack.headers.lines(.route) == ["<sip:proxy1.example.com;lr>", "<sip:proxy2.example.com;lr>"])
        #expect(ack.headers[.maxForwards] == "69")
        #expect(ack.headers[.from] == "Alice <sip:alice@atlanta.example.com>;tag=1928301774")
        #expect(ack.headers[.to] == "Bob <sip:bob@biloxi.example.com>;tag=xy99")
        #expect(ack.headers[.callID] == "a84b4c76e66710@pc33.atlanta.example.com")
        #expect(ack.headers[.cseq] == "314159 ACK")
        #expect(ack.headers.map(\.name) == [.via, .route, .route, .maxForwards, .from, .to, .callID, .cseq])
        #expect(ack.body.isEmpty)

        let wire = String(decoding: SIPSerializer.serialize(ack), as: UTF8.self)
        #expect(
            wire == """
                ACK sip:bob@biloxi.example.com SIP/2.0\r
                Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r
                Route: <sip:proxy1.example.com;lr>\r
                Route: <sip:proxy2.example.com;lr>\r
                Max-Forwards: 69\r
                From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r
                To: Bob <sip:bob@biloxi.example.com>;tag=xy99\r
                Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r
                CSeq: 314159 ACK\r
                Content-Length: 0\r
                \r

                """)
    }

    @Test func ackTakesTheTopViaWhenSeveralShareALine() {
        var headers = invite.headers
        headers.remove(.via)
        headers.insert(.via, "SIP/2.0/TCP a.example.com;branch=z9hG4bKtop, SIP/2.0/TCP b.example.com;branch=z9hG4bKnext")
        let folded = SIPRequest(method: .invite, uri: invite.uri, headers: headers)
        let ack = folded.ack(acknowledging: Fixture.response(480, to: folded))
        #expect(ack.headers.lines(.via) == ["SIP/2.0/TCP a.example.com;branch=z9hG4bKtop"])
    }

    @Test func ackWithoutMaxForwardsInTheInviteGetsSeventy() {
        var headers = invite.headers
        headers.remove(.maxForwards)
        headers.remove(.route)
        let bare = SIPRequest(method: .invite, uri: invite.uri, headers: headers)
        let ack = bare.ack(acknowledging: Fixture.response(480, to: bare))
        #expect(ack.headers[.maxForwards] == "70")
        #expect(!ack.headers.contains(.route))
    }

    @Test func cancelKeepsTheRequestsToAndBranch() {
        let reinvite = Fixture.invite(toTag: "dlg5")
        let cancel = reinvite.cancelRequest()
        #expect(cancel.method == .cancel)
        #expect(cancel.uri == reinvite.uri)
        #expect(cancel.headers.lines(.via) == ["SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8"])
        #expect(cancel.headers.lines(.route) == ["<sip:proxy1.example.com;lr>", "<sip:proxy2.example.com;lr>"])
        #expect(cancel.headers[.to] == "Bob <sip:bob@biloxi.example.com>;tag=dlg5")
        #expect(cancel.headers[.from] == "Alice <sip:alice@atlanta.example.com>;tag=1928301774")
        #expect(cancel.headers[.cseq] == "314159 CANCEL")
        #expect(cancel.headers[.callID] == "a84b4c76e66710@pc33.atlanta.example.com")
    }

    @Test func tryingEchoesTimestampAndHasNoToTag() throws {
        let trying = SIPResponse.trying(for: invite)
        #expect(trying.statusCode == 100)
        #expect(trying.reasonPhrase == "Trying")
        #expect(trying.headers.lines(.via) == invite.headers.lines(.via))
        #expect(trying.headers[.to] == "Bob <sip:bob@biloxi.example.com>")
        #expect(trying.headers[.from] == invite.headers[.from])
        #expect(trying.headers[.callID] == invite.headers[.callID])
        #expect(trying.headers[.cseq] == "314159 INVITE")
        #expect(trying.headers[.timestamp] == "54")
        #expect(!trying.headers.contains(.contact))
    }
}
