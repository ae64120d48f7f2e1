import SIP
import SIPDialog
import Testing

@Suite struct InDialogRequestTests {
    /// RFC 3261 §16.12.1.1: U1's route set is (<sip:p1.example.com;lr>, <sip:p2.domain.com;lr>),
    /// all loose, so the BYE keeps the remote target as Request-URI and lists both routes.
    @Test func aLooseRouteSetGoesInRouteAndTheRemoteTargetInTheRequestURI() throws {
        var dialog = try Dialog(
            asUACFor: Fixture.invite(),
            response: Fixture.answer(
                "200 OK", contact: "sip:callee@u2.domain.com",
                extra: "Record-Route: <sip:p2.domain.com;lr>\nRecord-Route: <sip:p1.example.com;lr>\n"))
        let bye = try dialog.makeRequest(.bye)
        #expect(bye.method == .bye)
        #expect(bye.uri.description == "sip:callee@u2.domain.com")
        #expect(bye.headers.values(.route) == ["<sip:p1.example.com;lr>", "<sip:p2.domain.com;lr>"])
    }

    /// RFC 3261 §12.2.1.1's strict-routing example: route set
    /// <sip:proxy1>, <sip:proxy2>, <sip:proxy3;lr>, <sip:proxy4>, remote target sip:user@remoteua.
    @Test func aStrictFirstRouteTakesTheRequestURIAndTheRemoteTargetGoesLast() throws {
        let routeSet = try ["<sip:proxy1>", "<sip:proxy2>", "<sip:proxy3;lr>", "<sip:proxy4>"].map { try NameAddress(parsing: $0) }
        let (requestURI, routes) = Dialog.requestTarget(routeSet: routeSet, remoteTarget: try SIPURI(parsing: "sip:user@remoteua"))
        #expect(requestURI.description == "sip:proxy1")
        #expect(routes.map(\.description) == ["<sip:proxy2>", "<sip:proxy3;lr>", "<sip:proxy4>", "<sip:user@remoteua>"])
    }

    @Test func aStrictRouterInTheDialogRoutesTheBuiltRequest() throws {
        var dialog = try Dialog(
            asUACFor: Fixture.invite(),
            response: Fixture.answer("200 OK", extra: "Record-Route: <sip:p2.example.com;lr>\nRecord-Route: <sip:p1.example.com>\n"))
        let info = try dialog.makeRequest(.info)
        #expect(info.uri.description == "sip:p1.example.com")
        #expect(info.headers.values(.route) == ["<sip:p2.example.com;lr>", "<sip:bob@192.0.2.4>"])
    }

    @Test func aStrictRoutersURIDropsWhatARequestURIMayNotCarry() throws {
        let routeSet = [try NameAddress(parsing: "<sip:proxy1;method=INVITE;transport=tcp?Subject=x>")]
        let (requestURI, _) = Dialog.requestTarget(routeSet: routeSet, remoteTarget: try SIPURI(parsing: "sip:user@remoteua"))
        #expect(requestURI.description == "sip:proxy1;transport=tcp")
    }

    @Test func anEmptyRouteSetSendsStraightToTheRemoteTarget() throws {
        var dialog = Fixture.aliceDialog()
        let bye = try dialog.makeRequest(.bye)
        #expect(bye.uri.description == "sip:bob@192.0.2.4")
        #expect(!bye.headers.contains(.route))
    }

    @Test func eachNewRequestTakesTheNextCSeqAndCarriesTheDialogsIdentity() throws {
        var dialog = Fixture.aliceDialog()
        let info = try dialog.makeRequest(.info, headers: [(.contentType, "application/dtmf-relay")], body: Array("Signal=5\r\n".utf8))
        let bye = try dialog.makeRequest(.bye)
        #expect(try info.headers.cseq() == CSeq(314160, .info))
        #expect(try bye.headers.cseq() == CSeq(314161, .bye))
        #expect(dialog.localSequence == 314161)

        let wire = Fixture.onTheWire(info)
        #expect(wire.headers[.from] == "\"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774")
        #expect(try wire.headers.to().tag == "a6c85cf")
        #expect(try wire.headers.to().uri.description == "sip:bob@biloxi.example.com")
        #expect(try wire.headers.callID() == "a84b4c76e66710@pc33.atlanta.example.com")
        #expect(try wire.headers.maxForwards() == 70)
        #expect(wire.headers[.contentType] == "application/dtmf-relay")
        #expect(try wire.headers.contentLength() == 10)
        #expect(wire.body == Array("Signal=5\r\n".utf8))
        #expect(!info.headers.contains(.via))
    }

    @Test func aUASThatHasSentNothingStartsItsCSeqAt1() throws {
        let invite = Fixture.invite()
        var dialog = try Dialog(asUASFor: invite, sending: SIPResponse(respondingTo: invite, statusCode: 200, toTag: "bobtag"))
        let bye = try dialog.makeRequest(.bye)
        #expect(try bye.headers.cseq() == CSeq(1, .bye))
        #expect(bye.uri.description == "sip:alice@pc33.atlanta.example.com")
        #expect(try bye.headers.from().tag == "bobtag")
        #expect(try bye.headers.to().tag == "1928301774")
    }

    @Test func theAckForA2xxReusesTheInvitesCSeqAndLeavesTheLocalSequenceAlone() throws {
        var dialog = try Dialog(
            asUACFor: Fixture.invite(),
            response: Fixture.answer("200 OK", extra: "Record-Route: <sip:p1.example.com;lr>\n"))
        let ack = try dialog.makeAck(forInviteSequence: 314159, headers: [(.contentType, "application/sdp")], body: Array("v=0\r\n".utf8))
        #expect(ack.method == .ack)
        #expect(try ack.headers.cseq() == CSeq(314159, .ack))
        #expect(ack.uri.description == "sip:bob@192.0.2.4")
        #expect(ack.headers.values(.route) == ["<sip:p1.example.com;lr>"])
        #expect(ack.body == Array("v=0\r\n".utf8))
        #expect(dialog.localSequence == 314159)
        #expect(try dialog.makeRequest(.bye).headers.cseq().sequence == 314160)
    }

    @Test func ackAndCancelAreNotNewRequests() {
        var dialog = Fixture.aliceDialog()
        #expect(throws: DialogError.needsDedicatedBuilder(.ack)) { try dialog.makeRequest(.ack) }
        #expect(throws: DialogError.needsDedicatedBuilder(.cancel)) { try dialog.makeRequest(.cancel) }
        #expect(dialog.localSequence == 314159)
    }

    @Test func anEndedDialogSendsNothingAndAnEarlyOneCannotAckA2xx() throws {
        var ended = Fixture.aliceDialog()
        ended.terminate()
        #expect(throws: DialogError.dialogTerminated) { try ended.makeRequest(.info) }
        #expect(throws: DialogError.dialogTerminated) { try ended.makeAck(forInviteSequence: 314159) }

        var early = try Dialog(asUACFor: Fixture.invite(), response: Fixture.answer("180 Ringing"))
        #expect(throws: DialogError.notConfirmed) { try early.makeAck(forInviteSequence: 314159) }
        // UPDATE and PRACK are allowed in an early dialog.
        #expect(try early.makeRequest(.prack).method == .prack)
    }
}
