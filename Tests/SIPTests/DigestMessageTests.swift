import Testing

import PKI
@testable import SIP

/// The process's digests: OpenSSL's EVP, default provider.
private let hashing = OpenSSLDigests.hashing(fipsMode: false)

@Suite struct DigestMessageTests {
    /// RFC 4475 §3.1.2.17 (regaut01): the Authorization line's scheme is unknown; it is skipped
    /// when looking for Digest credentials and reported when parsed as Digest.
    @Test func regaut01() throws {
        let request = try #require(try SIPMessage(parsing: try RFC4475Tests.vector("regaut01")).request)
        let line = try #require(request.headers[.authorization])
        #expect(line == "NoOneKnowsThisScheme opaque-data=here")
        #expect(DigestCredentials.authenticationScheme(of: line) == "NoOneKnowsThisScheme")
        #expect(try request.headers.digestCredentials(for: "example.com") == nil)
        let error = #expect(throws: SIPParseError.self) { try DigestCredentials(parsing: line) }
        #expect(error?.reasonPhrase == "Bad Authorization: scheme NoOneKnowsThisScheme is not Digest")
    }

    /// A folded Authorization line in a REGISTER, among lines for another realm and scheme.
    @Test func credentialsForTheRealmFromAMessage() throws {
        let bytes = Fixtures.lines(
            "REGISTER sip:outpost.branch.example;transport=tls SIP/2.0",
            "Via: SIP/2.0/TLS 10.1.1.50:51234;branch=z9hG4bK6f1a2b3c",
            "From: <sip:SEP001122334455@outpost.branch.example>;tag=a1",
            "To: <sip:SEP001122334455@outpost.branch.example>",
            "Call-ID: c1@10.1.1.50",
            "CSeq: 2 REGISTER",
            "Max-Forwards: 70",
            "Authorization: Basic dXNlcjpwYXNz",
            "Authorization: Digest username=\"SEP001122334455\", realm=\"elsewhere\", nonce=\"x\", uri=\"sip:e\",",
            "  response=\"00000000000000000000000000000000\"",
            "Authorization: Digest username=\"SEP001122334455\",",
            "  realm=\"outpost.branch.example\", nonce=\"5f1d2c3b4a69788796a5b4c3d2e1f0aa\",",
            "\turi=\"sip:outpost.branch.example;transport=tls\", algorithm=SHA-256,",
            "  response=\"55436502a357dea35c05506aeca2f0a2549a455025c0252155d714113cb60d49\",",
            "  cnonce=\"Xy7.cn0nce\", qop=auth, nc=0000000a",
            "Content-Length: 0",
            "", "")
        let request = try #require(try SIPMessage(parsing: bytes).request)
        let credentials = try #require(try request.headers.digestCredentials(for: "outpost.branch.example"))
        #expect(credentials.uri == "sip:outpost.branch.example;transport=tls")
        #expect(DigestVerifier.verify(
            credentials, method: request.method.rawValue,
            storedHA1: "a5f5bf3b38df5d966221fc5c87ba93665d0c82308aa49f6024653b7c58aaa757", using: hashing))
        #expect(try request.headers.digestCredentials(for: "elsewhere")?.nonce == "x")
        #expect(try request.headers.digestCredentials(for: "nowhere") == nil)
        #expect(try request.headers.digestCredentials(for: "x", in: .proxyAuthorization) == nil)
    }

    @Test func badDigestLineIsAnErrorNamingTheHeader() throws {
        var headers = SIPHeaders()
        headers.append(.proxyAuthorization, #"Digest username="u", realm="r", nonce="n", uri="u", response="zz""#)
        let error = #expect(throws: SIPParseError.self) {
            try headers.digestCredentials(for: "r", in: .proxyAuthorization)
        }
        #expect(error == SIPParseError(element: "Proxy-Authorization", reason: "response is not hex"))
    }

    @Test func challengesFromAResponse() throws {
        var headers = SIPHeaders()
        headers.append(.proxyAuthenticate, #"Basic realm="x""#)
        headers.append(.proxyAuthenticate, #"Digest realm="a", nonce="1", algorithm=SHA-256, qop="auth""#)
        headers.append(.proxyAuthenticate, #"Digest realm="a", nonce="1", qop="auth""#)
        let challenges = try headers.digestChallenges(in: .proxyAuthenticate)
        #expect(challenges.map(\.effectiveAlgorithm) == [.sha256, .md5])
        #expect(try headers.digestChallenges().isEmpty)
    }
}
