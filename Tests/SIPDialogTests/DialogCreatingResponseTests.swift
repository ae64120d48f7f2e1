import SIP
import SIPDialog
import Testing

@Suite struct DialogCreatingResponseTests {
    let invite = Fixture.invite(extra: "Record-Route: <sip:p2.domain.com;lr>;x=1, <sip:p1.example.com;lr>\nRecord-Route: <sip:p0.example.com;lr>\n")

    @Test func theResponseCarriesTheRecordRouteAsReceivedOurTagAndOurContact() throws {
        let ringing = SIPResponse(
            creatingDialogFor: invite, statusCode: 180, localTag: "bobtag", contact: try NameAddress(parsing: "<sip:bob@192.0.2.4>"))
        #expect(ringing.headers.lines(.recordRoute) == ["<sip:p2.domain.com;lr>;x=1, <sip:p1.example.com;lr>", "<sip:p0.example.com;lr>"])
        #expect(try ringing.headers.to().tag == "bobtag")
        #expect(ringing.headers[.contact] == "<sip:bob@192.0.2.4>")
        #expect(ringing.headers.lines(.via) == invite.headers.lines(.via))
    }

    /// Both ends of one dialog, built from the same two messages, route to each other along the
    /// same path in opposite directions.
    @Test func bothEndsAgreeOnTheDialogAndThePath() throws {
        let ok = SIPResponse(creatingDialogFor: invite, statusCode: 200, localTag: "bobtag", contact: try NameAddress(parsing: "<sip:bob@192.0.2.4>"))
        var callee = try Dialog(asUASFor: invite, sending: ok)
        var caller = try Dialog(asUACFor: invite, response: ok)
        #expect(callee.id.localTag == caller.id.remoteTag)
        #expect(callee.id.remoteTag == caller.id.localTag)
        #expect(callee.routeSet.map(\.description) == ["<sip:p2.domain.com;lr>;x=1", "<sip:p1.example.com;lr>", "<sip:p0.example.com;lr>"])
        #expect(caller.routeSet.map(\.description) == ["<sip:p0.example.com;lr>", "<sip:p1.example.com;lr>", "<sip:p2.domain.com;lr>;x=1"])

        let infoFromCallee = try callee.makeRequest(.info)
        #expect(infoFromCallee.uri.description == "sip:alice@pc33.atlanta.example.com")
        #expect(caller.receive(Fixture.onTheWire(infoFromCallee)) == .accepted(.none))

        let byeFromCaller = try caller.makeRequest(.bye)
        #expect(byeFromCaller.uri.description == "sip:bob@192.0.2.4")
        #expect(callee.receive(Fixture.onTheWire(byeFromCaller)) == .accepted(.terminated))
    }
}
