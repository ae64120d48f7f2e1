import Testing

@testable import SIP

@Suite struct URITests {
    @Test func sipURIWithEverything() throws {
        let uri = try SIPURI(parsing: "sips:%61lice:secret@[2001:db8::1]:5061;transport=tls;lr?subject=hi%20there&priority=urgent")
        #expect(uri.isSecure)
        #expect(uri.user == "alice")
        #expect(uri.password == "secret")
        #expect(uri.host == "[2001:db8::1]")
        #expect(uri.port == 5061)
        #expect(uri.parameter("TRANSPORT") == "tls")
        #expect(uri.parameter("lr") == "")
        #expect(uri.headers == [URIParameter("subject", "hi there"), URIParameter("priority", "urgent")])
        #expect(uri.description == "sips:alice:secret@[2001:db8::1]:5061;transport=tls;lr?subject=hi%20there&priority=urgent")
    }

    @Test func userPartMayHoldSemicolonsAndEscapedAt() throws {
        let uri = try SIPURI(parsing: "sip:user;par=u%40example.net@example.com")
        #expect(uri.user == "user;par=u@example.net")
        #expect(uri.host == "example.com")
        #expect(uri.description == "sip:user;par=u%40example.net@example.com")
    }

    @Test func escapedNullSurvives() throws {
        let uri = try SIPURI(parsing: "sip:null-%00-null@example.com")
        #expect(uri.user == "null-\u{0}-null")
        #expect(uri.description == "sip:null-%00-null@example.com")
    }

    @Test func telAndOtherSchemes() throws {
        let tel = try URI(parsing: "tel:+1-201-555-0123;phone-context=example.com")
        guard case .tel(let number) = tel else { Issue.record("not tel"); return }
        #expect(number.number == "+1-201-555-0123")
        #expect(tel.description == "tel:+1-201-555-0123;phone-context=example.com")
        let other = try URI(parsing: "nobodyKnowsThisScheme:totallyopaquecontent")
        #expect(other.scheme == "nobodyknowsthisscheme")
        #expect(other.sipURI == nil)
    }

    @Test(arguments: ["sip:", "sip:@host", "sip:a@", "sip:a@host:99999", "sip:a@host:x", "sip:a b@host", "sip:a@[zz]",
                      "sip:a@host;", "sip:a@host?", "1sip:a@b", "sip:a@-host", "sip:a@host%zz", "tel:", "sip:a@host>"])
    func malformedURIsAreRefused(text: String) {
        #expect(throws: SIPParseError.self) { try URI(parsing: text) }
    }

    @Test func addressOfRecordDropsPortAndParameters() throws {
        let uri = try SIPURI(parsing: "sip:2001@EDGE.Example.com:5061;transport=tls")
        #expect(uri.addressOfRecord == "sip:2001@edge.example.com")
    }

    @Test func nameAddressForms() throws {
        let token = try NameAddress(parsing: "caller<sip:caller@example.com>;tag=323")
        #expect(token.displayName == "caller")
        #expect(token.tag == "323")
        let quoted = try NameAddress(parsing: "\"J Rosenberg \\\\\\\"\"  <sip:jdrosen@example.com> ; tag = 98asjd8")
        #expect(quoted.displayName == "J Rosenberg \\\"")
        #expect(quoted.tag == "98asjd8")
        #expect(quoted.description == "\"J Rosenberg \\\\\\\"\" <sip:jdrosen@example.com>;tag=98asjd8")
        let spec = try NameAddress(parsing: "sip:a@b;tag=x")
        #expect(spec.tag == "x")
        #expect(spec.uri.sipURI?.parameters.isEmpty == true)
        #expect(throws: SIPParseError.self) { try NameAddress(parsing: "Bell, Alexander <sip:a.g.bell@example.com>") }
    }
}
