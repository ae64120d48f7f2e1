import Testing

@testable import SIP

private func challengeError(_ value: String, header: SIPHeaderName = .wwwAuthenticate) -> SIPParseError? {
    do {
        _ = try DigestChallenge(parsing: value, header: header)
        return nil
    } catch {
        return error
    }
}

private func credentialsError(_ value: String, header: SIPHeaderName = .authorization) -> SIPParseError? {
    do {
        _ = try DigestCredentials(parsing: value, header: header)
        return nil
    } catch {
        return error
    }
}

private let md5Response = "6629fae49393a05397450978507c4ef1"
private let base = #"Digest username="bob", realm="r", nonce="n", uri="sip:r""#

@Suite struct DigestParsingTests {
    @Test func challengeWithEverything() throws {
        let value = #"Digest realm="atlanta.com", domain="sip:ss1.carrier.com sip:ss2.carrier.com", "#
            + #"qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=TRUE, algorithm=MD5, "#
            + #"charset=UTF-8, x-ext="a \"b\" \\c""#
        let challenge = try DigestChallenge(parsing: value, header: .proxyAuthenticate)
        #expect(challenge.realm == "atlanta.com")
        #expect(challenge.domain == ["sip:ss1.carrier.com", "sip:ss2.carrier.com"])
        #expect(challenge.qopOptions == ["auth"])
        #expect(challenge.nonce == "f84f1cec41e6cbe5aea9c8e88d359")
        #expect(challenge.opaque == "")
        #expect(challenge.stale)
        #expect(challenge.algorithm == .md5)
        #expect(challenge.extensions == [
            AuthParameter("charset", "UTF-8", quoted: false), AuthParameter("x-ext", #"a "b" \c"#),
        ])
        #expect(challenge.description == #"Digest realm="atlanta.com", domain="sip:ss1.carrier.com sip:ss2.carrier.com", "#
            + #"nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=true, algorithm=MD5, qop="auth", "#
            + #"charset=UTF-8, x-ext="a \"b\" \\c""#)
        #expect(try DigestChallenge(parsing: challenge.description) == challenge)
    }

    @Test func minimalChallengeDefaults() throws {
        let challenge = try DigestChallenge(parsing: "digest nonce=abc,realm=example.com")
        #expect(challenge.algorithm == nil)
        #expect(challenge.effectiveAlgorithm == .md5)
        #expect(challenge.qopOptions.isEmpty)
        #expect(!challenge.offersAuthQOP)
        #expect(!challenge.stale)
        #expect(challenge.description == #"Digest realm="example.com", nonce="abc""#)
    }

    @Test func builtChallengeRoundTrips() throws {
        let challenge = DigestChallenge(
            realm: "outpost \"branch\"", nonce: "n0nce", algorithm: .sha256, opaque: "o", stale: true,
            domain: ["sip:a", "sip:b"], extensions: [AuthParameter("userhash", "false", quoted: false)])
        #expect(try DigestChallenge(parsing: challenge.description, header: .proxyAuthenticate) == challenge)
    }

    @Test func credentialsRoundTrip() throws {
        let value = #"Digest  username="bob\\\"x", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093" ,"#
            + #"  uri = "sip:bob@biloxi.com", qop="AUTH", nc=0000000A, cnonce="0a4f113b", userhash=false, "#
            + #"response="6629FAE49393A05397450978507C4EF1", opaque="5ccc069c403ebaf9f0171e9517f40e41", ext=1"#
        let credentials = try DigestCredentials(parsing: value)
        #expect(credentials.username == #"bob\"x"#)
        #expect(credentials.uri == "sip:bob@biloxi.com")
        #expect(credentials.qop == "auth")
        #expect(credentials.nonceCount == "0000000A")
        #expect(credentials.response == "6629fae49393a05397450978507c4ef1")
        #expect(credentials.extensions == [AuthParameter("ext", "1", quoted: false)])
        let canonical = credentials.description
        #expect(canonical == #"Digest username="bob\\\"x", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", "#
            + #"uri="sip:bob@biloxi.com", response="6629fae49393a05397450978507c4ef1", cnonce="0a4f113b", "#
            + #"opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=0000000A, ext=1"#)
        #expect(try DigestCredentials(parsing: canonical) == credentials)
        #expect(try DigestCredentials(parsing: canonical).description == canonical)
    }

    @Test func emptyListElementsAndTrailingCommaAreTolerated() throws {
        let credentials = try DigestCredentials(parsing: base + #", , response="\#(md5Response)","#)
        #expect(credentials.username == "bob")
    }

    /// RFC 4475 §3.1.2.17 (regaut01): an unknown scheme is reported as such.
    @Test func unknownSchemeIsReported() {
        let value = "NoOneKnowsThisScheme opaque-data=here"
        #expect(DigestCredentials.authenticationScheme(of: value) == "NoOneKnowsThisScheme")
        #expect(DigestCredentials.authenticationScheme(of: " Digest a=b") == "Digest")
        #expect(DigestCredentials.authenticationScheme(of: "") == nil)
        #expect(credentialsError(value) == SIPParseError(
            element: "Authorization", reason: "scheme NoOneKnowsThisScheme is not Digest"))
        #expect(challengeError("Basic realm=\"x\"")?.reason == "scheme Basic is not Digest")
    }

    @Test func sessionAndUnknownAlgorithmsAreRefused() {
        #expect(challengeError(#"Digest realm="r", nonce="n", algorithm=MD5-sess"#) == SIPParseError(
            element: "WWW-Authenticate", reason: "algorithm MD5-sess (session variant) is not supported"))
        #expect(challengeError(#"Digest realm="r", nonce="n", algorithm=SHA-256-sess"#)?.reason
            == "algorithm SHA-256-sess (session variant) is not supported")
        #expect(challengeError(#"Digest realm="r", nonce="n", algorithm=SHA-512-256"#)?.reason
            == "unknown algorithm SHA-512-256")
        #expect(credentialsError(base + #", response="\#(md5Response)", algorithm=md5-sess"#)?.reason
            == "algorithm md5-sess (session variant) is not supported")
    }

    @Test func structuralErrorsAreNamed() {
        let cases: [(String, String)] = [
            ("", "expected an authentication scheme"),
            ("Digest", "no parameters after Digest"),
            ("Digest   ", "no parameters after Digest"),
            ("Digest,realm=x", "expected white space after Digest"),
            (#"Digest realm="r", nonce="n", realm="s""#, "duplicate parameter realm"),
            (#"Digest realm="r", NONCE="n", nonce="m""#, "duplicate parameter nonce"),
            (#"Digest realm="r" nonce="n""#, "expected ',' after realm"),
            (#"Digest realm"#, "expected '=' after realm"),
            (#"Digest realm=, nonce=n"#, "missing value for realm"),
            (#"Digest =x"#, "expected a parameter name at byte 7"),
            (#"Digest realm="r, nonce=n"#, "unterminated quoted string"),
            (#"Digest realm="r, nonce="n"#, "expected ',' after realm"),
            ("Digest realm=\"r\\", "bad escape in quoted string"),
            (#"Digest nonce="n""#, "missing realm"),
            (#"Digest realm="r""#, "missing nonce"),
            (#"Digest realm="r", nonce="n", stale=maybe"#, "stale must be true or false"),
            (#"Digest realm="r", nonce="n", qop="auth,,auth-int""#, "qop options are not a list of tokens"),
        ]
        for (value, reason) in cases {
            #expect(challengeError(value, header: .proxyAuthenticate) == SIPParseError(
                element: "Proxy-Authenticate", reason: reason), "\(value)")
        }
    }

    @Test func credentialErrorsAreNamed() {
        let cases: [(String, String)] = [
            (#"Digest realm="r", nonce="n", uri="u", response="\#(md5Response)""#, "missing username"),
            (#"Digest username="u", nonce="n", uri="u", response="\#(md5Response)""#, "missing realm"),
            (#"Digest username="u", realm="r", uri="u", response="\#(md5Response)""#, "missing nonce"),
            (#"Digest username="u", realm="r", nonce="n", response="\#(md5Response)""#, "missing uri"),
            (base, "missing response"),
            (base + #", response="6629fae49393a05397450978507c4eg1""#, "response is not hex"),
            (base + #", response="6629fae49393a05397450978507c4e""#, "response has 30 hex digits, MD5 needs 32"),
            (base + #", response="\#(md5Response)", algorithm=SHA-256"#, "response has 32 hex digits, SHA-256 needs 64"),
            (base + #", response="", algorithm=SHA-256"#, "response has 0 hex digits, SHA-256 needs 64"),
            (base + #", response="\#(md5Response)", qop=auth-int, nc=00000001, cnonce="c""#, "qop auth-int is not supported"),
            (base + #", response="\#(md5Response)", qop=auth, nc=0000001, cnonce="c""#, "nc must be 8 hex digits"),
            (base + #", response="\#(md5Response)", qop=auth, nc=000000001, cnonce="c""#, "nc must be 8 hex digits"),
            (base + #", response="\#(md5Response)", qop=auth, nc=0000000g, cnonce="c""#, "nc must be 8 hex digits"),
            (base + #", response="\#(md5Response)", qop=auth, nc=00000001"#, "missing cnonce (qop is auth)"),
            (base + #", response="\#(md5Response)", qop=auth, cnonce="c""#, "missing nc (qop is auth)"),
            (base + #", response="\#(md5Response)", nc=00000001"#, "cnonce or nc without qop"),
            (base + #", response="\#(md5Response)", cnonce="c""#, "cnonce or nc without qop"),
            (base + #", response="\#(md5Response)", userhash=true"#, "userhash=true is not supported"),
            (base + #", response="\#(md5Response)", userhash=yes"#, "userhash must be true or false"),
        ]
        for (value, reason) in cases {
            #expect(credentialsError(value, header: .proxyAuthorization) == SIPParseError(
                element: "Proxy-Authorization", reason: reason), "\(value)")
        }
    }

    @Test func hugeValuesAreRefused() {
        let huge = #"Digest realm=""# + String(repeating: "x", count: 1_000_000) + #"", nonce="n""#
        #expect(challengeError(huge)?.reason == "value is 1000026 bytes, more than 8192")
        let atLimit = #"Digest realm="r", nonce=""# + String(repeating: "n", count: 8192 - 26) + "\""
        #expect(atLimit.utf8.count == 8192)
        #expect(challengeError(atLimit) == nil)
        #expect(challengeError(atLimit + " ")?.reason == "value is 8193 bytes, more than 8192")
    }

    @Test func thousandsOfParametersAreRefused() throws {
        let many = "Digest " + (0..<3000).map { "p\($0)=v" }.joined(separator: ",")
        #expect(challengeError(many)?.reason == "value is \(many.utf8.count) bytes, more than 8192")
        let compact = "Digest " + (0..<1000).map { "p\($0)=1" }.joined(separator: ",").prefix(8000)
        #expect(challengeError(String(compact))?.reason == "more than 32 parameters")
        let exactly = #"Digest realm="r", nonce="n""# + (0..<30).map { ",x\($0)=1" }.joined()
        #expect(try DigestChallenge(parsing: exactly).extensions.count == 30)
    }

    @Test func hostileBytesNeverCrash() throws {
        let pieces = ["Digest", " ", ",", "=", "\"", "\\", "realm", "nonce", "uri", "response", "qop", "nc", "auth",
                      "\r\n", "\u{0}", "é", "\u{FF}", "0000000a", md5Response, "algorithm", "SHA-256", "\t"]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<3000 {
            var value = ""
            for _ in 0..<(Int(state % 24)) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                value += pieces[Int((state >> 33) % UInt64(pieces.count))]
            }
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            if let credentials = try? DigestCredentials(parsing: value) {
                #expect(try DigestCredentials(parsing: credentials.description) == credentials)
            }
            if let challenge = try? DigestChallenge(parsing: value) {
                #expect(try DigestChallenge(parsing: challenge.description) == challenge)
            }
        }
    }

    @Test func lineBreakInQuotedStringIsRefused() {
        #expect(challengeError("Digest realm=\"a\r\nb\", nonce=n")?.reason == "line break in quoted string")
    }

    @Test func serializationNeverSplitsTheHeaderLine() throws {
        let challenge = DigestChallenge(realm: "a\r\nVia: injected", nonce: "n\n")
        #expect(challenge.description == #"Digest realm="a  Via: injected", nonce="n ", qop="auth""#)
        #expect(try DigestChallenge(parsing: challenge.description).realm == "a  Via: injected")
    }
}
