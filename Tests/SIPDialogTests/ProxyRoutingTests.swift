import SIP
import SIPDialog
import Testing

/// The routing steps of RFC 3261 §16.4 and §16.6, checked against the walk-throughs of §16.12.1.
@Suite struct ProxyRoutingTests {
    /// An element that answers for its own host names, in any of the URIs it appears in.
    func isHost(_ hosts: String...) -> (URI) -> Bool {
        { uri in uri.sipURI.map { hosts.contains($0.host.lowercased()) } ?? false }
    }

    func bye(_ requestURI: String, routes: [String], maxForwards: String? = "70") -> SIPRequest {
        Fixture.request(
            """
            BYE \(requestURI) SIP/2.0
            Via: SIP/2.0/UDP u2.domain.com;branch=z9hG4bKbye
            \(routes.map { "Route: \($0)\n" }.joined())\(maxForwards.map { "Max-Forwards: \($0)\n" } ?? "")To: <sip:caller@u1.example.com>;tag=u1
            From: <sip:callee@domain.com>;tag=u2
            Call-ID: strict@u1.example.com
            CSeq: 2 BYE
            Content-Length: 0


            """)
    }

    /// §16.12.1.1: P1 finds itself in the top Route, removes it and forwards to P2, which does the
    /// same and forwards on the Request-URI.
    @Test func looseRoutersPopThemselvesAsSection16_12_1_1Shows() throws {
        var request = bye("sip:callee@u2.domain.com", routes: ["<sip:p1.example.com;lr>,<sip:p2.domain.com;lr>"])
        let p1 = isHost("p1.example.com")
        #expect(try !ProxyRouting.restoreStrictRoutedRequestURI(&request, isMine: p1))
        #expect(try ProxyRouting.removeOwnTopRoutes(&request, isMine: p1).count == 1)
        #expect(request.headers.values(.route) == ["<sip:p2.domain.com;lr>"])
        #expect(try ProxyRouting.nextHop(request).description == "sip:p2.domain.com;lr")

        // P2 is responsible for domain.com, not u2.domain.com, so the Request-URI stays.
        let p2 = isHost("p2.domain.com", "domain.com")
        #expect(try !ProxyRouting.restoreStrictRoutedRequestURI(&request, isMine: p2))
        #expect(try ProxyRouting.removeOwnTopRoutes(&request, isMine: p2).count == 1)
        #expect(!request.headers.contains(.route))
        #expect(request.uri.description == "sip:callee@u2.domain.com")
        #expect(try ProxyRouting.nextHop(request).description == "sip:callee@u2.domain.com")
    }

    /// §16.12.1.2 from P4 to P1, with P3 a strict router.
    @Test func aStrictRouterOnThePathIsServedAndUndoneAsSection16_12_1_2Shows() throws {
        var request = bye(
            "sip:caller@u1.example.com",
            routes: ["<sip:p4.domain.com;lr>", "<sip:p3.middle.com>", "<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"])
        // P4 pops itself, sees a strict router next and reformats for it.
        let p4 = isHost("p4.domain.com")
        #expect(try !ProxyRouting.restoreStrictRoutedRequestURI(&request, isMine: p4))
        #expect(try ProxyRouting.removeOwnTopRoutes(&request, isMine: p4).count == 1)
        #expect(try ProxyRouting.rewriteForStrictNextHop(&request))
        #expect(request.uri.description == "sip:p3.middle.com")
        #expect(request.headers.values(.route) == ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>", "<sip:caller@u1.example.com>"])

        // P3 (strict, RFC 2543) forwards this to P2, as the RFC prints it.
        var atP2 = bye("sip:p2.example.com;lr", routes: ["<sip:p1.example.com;lr>", "<sip:caller@u1.example.com>"])
        let p2 = isHost("p2.example.com")
        #expect(try ProxyRouting.restoreStrictRoutedRequestURI(&atP2, isMine: p2))
        #expect(atP2.uri.description == "sip:caller@u1.example.com")
        #expect(atP2.headers.values(.route) == ["<sip:p1.example.com;lr>"])
        #expect(try ProxyRouting.removeOwnTopRoutes(&atP2, isMine: p2).isEmpty)
        #expect(try !ProxyRouting.rewriteForStrictNextHop(&atP2))
        #expect(try ProxyRouting.nextHop(atP2).description == "sip:p1.example.com;lr")

        // P1 finds itself on top, removes it, and routes on the Request-URI.
        let p1 = isHost("p1.example.com")
        #expect(try ProxyRouting.removeOwnTopRoutes(&atP2, isMine: p1).count == 1)
        #expect(!atP2.headers.contains(.route))
        #expect(try ProxyRouting.nextHop(atP2).description == "sip:caller@u1.example.com")
    }

    @Test func aRequestSimplyAddressedToUsIsNotTakenForAStrictRoutingArtifact() throws {
        var request = bye("sip:edge.branch.example.com", routes: ["<sip:other.example.com;lr>"])
        #expect(try !ProxyRouting.restoreStrictRoutedRequestURI(&request, isMine: isHost("edge.branch.example.com")))
        #expect(request.uri.description == "sip:edge.branch.example.com")
        #expect(request.headers.values(.route) == ["<sip:other.example.com;lr>"])
    }

    @Test func aTopRouteThatIsNotUsStays() throws {
        var request = bye("sip:callee@u2.domain.com", routes: ["<sip:p1.example.com;lr>"])
        #expect(try ProxyRouting.removeOwnTopRoutes(&request, isMine: isHost("edge.example.com")).isEmpty)
        #expect(request.headers.values(.route) == ["<sip:p1.example.com;lr>"])
    }

    /// An edge that bridges the phones' TLS and the trunk's UDP record-routes once per side
    /// (RFC 5658); both of its entries go, and they say which sides the path joins.
    @Test func bothRoutesOfADoubleRecordRouteAreRemoved() throws {
        var request = bye(
            "sip:callee@u2.domain.com",
            routes: ["<sip:10.0.0.1;transport=udp;lr>", "<sip:192.0.2.1:5061;transport=tls;lr>", "<sip:p2.domain.com;lr>"])
        let removed = try ProxyRouting.removeOwnTopRoutes(&request, isMine: isHost("10.0.0.1", "192.0.2.1"))
        #expect(removed.map(\.description) == ["<sip:10.0.0.1;transport=udp;lr>", "<sip:192.0.2.1:5061;transport=tls;lr>"])
        #expect(request.headers.values(.route) == ["<sip:p2.domain.com;lr>"])
    }

    @Test func aMalformedRouteIsAPreciseErrorForEveryStep() throws {
        var request = bye("sip:p2.example.com;lr", routes: [])
        request.headers.append(.route, "<sip:p1.example.com;lr")
        let mine = isHost("p2.example.com")
        let restoring = try #require(throws: SIPParseError.self) { try ProxyRouting.restoreStrictRoutedRequestURI(&request, isMine: mine) }
        #expect(restoring.element == "Route")
        #expect(throws: SIPParseError.self) { try ProxyRouting.removeOwnTopRoutes(&request, isMine: mine) }
        #expect(throws: SIPParseError.self) { try ProxyRouting.nextHop(request) }
        #expect(throws: SIPParseError.self) { try ProxyRouting.rewriteForStrictNextHop(&request) }
    }

    @Test func theRecordRouteValueIsLooseAndFollowsTheRequestsScheme() throws {
        let plain = bye("sip:callee@u2.domain.com", routes: [])
        #expect(ProxyRouting.recordRoute(for: plain, host: "192.0.2.1", port: 5060, transport: "UDP").description == "<sip:192.0.2.1:5060;transport=udp;lr>")
        var secure = plain
        secure.uri = try URI(parsing: "sips:callee@u2.domain.com")
        #expect(ProxyRouting.recordRoute(for: secure, host: "edge.example.com", port: 5061, transport: "tls").description == "<sips:edge.example.com:5061;transport=tls;lr>")
        #expect(ProxyRouting.recordRoute(for: plain, host: "edge.example.com", port: nil, transport: nil).description == "<sip:edge.example.com;lr>")
    }

    @Test func aRecordRouteGoesAboveThoseAlreadyThere() throws {
        var invite = Fixture.invite(extra: "Record-Route: <sip:p1.example.com;lr>\n")
        ProxyRouting.addRecordRoute(try NameAddress(parsing: "<sip:p2.domain.com;lr>"), to: &invite)
        #expect(invite.headers.values(.recordRoute) == ["<sip:p2.domain.com;lr>", "<sip:p1.example.com;lr>"])

        var first = Fixture.invite()
        ProxyRouting.addRecordRoute(try NameAddress(parsing: "<sip:p1.example.com;lr>"), to: &first)
        #expect(first.headers.map(\.name).prefix(2) == [.via, .recordRoute])
    }

    @Test func maxForwardsCountsDownAndStopsAtZeroWith483() throws {
        var request = bye("sip:callee@u2.domain.com", routes: [], maxForwards: "1")
        #expect(try ProxyRouting.decrementMaxForwards(&request) == .forward(remaining: 0))
        #expect(request.headers[.maxForwards] == "0")
        let outcome = try ProxyRouting.decrementMaxForwards(&request)
        guard case .tooManyHops(let response) = outcome else { Issue.record("\(outcome)"); return }
        #expect(response.statusCode == 483)
        #expect(response.reasonPhrase == "Too Many Hops")
        #expect(response.headers[.cseq] == "2 BYE")
    }

    @Test func aMissingMaxForwardsIsAddedAndAMalformedOneThrows() throws {
        var missing = bye("sip:callee@u2.domain.com", routes: [], maxForwards: nil)
        #expect(try ProxyRouting.decrementMaxForwards(&missing) == .forward(remaining: 69))
        #expect(missing.headers[.maxForwards] == "69")

        var malformed = bye("sip:callee@u2.domain.com", routes: [])
        malformed.headers.set(.maxForwards, "lots")
        let error = try #require(throws: SIPParseError.self) { try ProxyRouting.decrementMaxForwards(&malformed) }
        #expect(error.element == "Max-Forwards")
    }
}
