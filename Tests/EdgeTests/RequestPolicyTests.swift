import SIP
import Testing

@testable import Edge

@Suite struct RequestPolicyTests {
    let core = EdgeCore()

    func answer(_ request: SIPRequest) -> SIPResponse? {
        let origin = RequestOrigin(flow: BindingFlow(transport: .udp, remoteAddress: "192.0.2.1", remotePort: 5060))
        guard case .respond(let response) = core.handle(request, from: origin, reply: { _ in }) else { return nil }
        return response
    }

    func request(_ method: String, uri: String = "sip:edge.example.com", extra: [(SIPHeaderName, String)] = []) throws -> SIPRequest {
        var headers: SIPHeaders = [
            (.via, "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx"), (.from, "<sip:a@example.com>;tag=1"),
            (.to, "<sip:edge.example.com>"), (.callID, "c"), (.cseq, "1 \(method)"),
        ]
        for (name, value) in extra { headers.append(name, value) }
        return SIPRequest(method: SIPMethod(method), uri: try URI(parsing: uri), headers: headers)
    }

    @Test func optionsIsAnsweredWithCapabilities() throws {
        let response = try #require(answer(try request("OPTIONS")))
        #expect(response.statusCode == 200)
        #expect(response.headers.tokens(.allow) == ["OPTIONS"])
        #expect(response.headers[.accept] == "application/sdp")
        #expect(response.headers.tokens(.supported) == ["path", "outbound"])
        #expect(try response.headers.to().tag?.isEmpty == false)
        #expect(try response.headers.cseq() == CSeq(1, .options))
    }

    @Test func unknownMethodGets501AndKnownUnservedMethodGets405() throws {
        #expect(answer(try request("FROBNICATE"))?.statusCode == 501)
        let notAllowed = try #require(answer(try request("SUBSCRIBE")))
        #expect(notAllowed.statusCode == 405)
        #expect(notAllowed.headers.tokens(.allow) == ["OPTIONS"])
        #expect(answer(try request("CANCEL"))?.statusCode == 481)
        #expect(answer(try request("ACK")) == nil)
    }

    @Test func unsupportedSchemeAndExtensionsAreRefused() throws {
        #expect(answer(try request("OPTIONS", uri: "nobodyKnowsThisScheme:opaque"))?.statusCode == 416)
        let extensions = try #require(answer(try request("OPTIONS", extra: [(.require, "nothingSupportsThis, path")])))
        #expect(extensions.statusCode == 420)
        #expect(extensions.headers[.unsupported] == "nothingSupportsThis")
        #expect(answer(try request("OPTIONS", extra: [(.require, "path")]))?.statusCode == 200)
    }
}
