import Testing

import PKI
@testable import SIP

/// The process's digests: OpenSSL's EVP, default provider.
private let hashing = OpenSSLDigests.hashing(fipsMode: false)

@Suite struct DigestComputationTests {
    /// RFC 7616 §3.9.1, the MD5 and SHA-256 responses for Mufasa.
    @Test(arguments: [
        (SIPDigestAlgorithm.md5, "8ca523f5e9506fed4657c9700eebdbec"),
        (SIPDigestAlgorithm.sha256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ])
    func rfc7616Example(algorithm: SIPDigestAlgorithm, expected: String) throws {
        let ha1 = try algorithm.ha1(username: "Mufasa", realm: "http-auth@example.org", password: "Circle of Life", using: hashing)
        let ha2 = try algorithm.ha2(method: "GET", uri: "/dir/index.html", using: hashing)
        let qop = DigestQOPParameters(nonceCount: "00000001", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
        let response = try algorithm.response(
            ha1: ha1, nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ha2: ha2, qop: qop, using: hashing)
        #expect(response == expected)

        // The same through the header: the RFC's Authorization value, verified against HA1.
        let header = """
            Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", \
            algorithm=\(algorithm.rawValue), nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, \
            cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="\(expected)", \
            opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
            """
        let credentials = try DigestCredentials(parsing: header)
        #expect(credentials.algorithm == algorithm)
        #expect(DigestVerifier.verify(credentials, method: "GET", storedHA1: ha1, using: hashing))
        #expect(!DigestVerifier.verify(credentials, method: "POST", storedHA1: ha1, using: hashing))
        let otherHA1 = try algorithm.ha1(username: "Mufasa", realm: "http-auth@example.org", password: "Circle of life", using: hashing)
        #expect(!DigestVerifier.verify(credentials, method: "GET", storedHA1: otherHA1, using: hashing))
    }

    /// RFC 7616 §3.9.1, the challenge.
    @Test func rfc7616Challenge() throws {
        let challenge = try DigestChallenge(parsing: """
            Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, \
            nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
            """)
        #expect(challenge.realm == "http-auth@example.org")
        #expect(challenge.qopOptions == ["auth", "auth-int"])
        #expect(challenge.offersAuthQOP)
        #expect(challenge.algorithm == .sha256)
        #expect(challenge.opaque == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
        let answer = try DigestCredentials.answering(
            challenge, username: "Mufasa", password: "Circle of Life", method: "GET", uri: "/dir/index.html",
            cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", using: hashing)
        #expect(answer.response == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
        #expect(answer.nonceCount == "00000001")
        #expect(answer.opaque == challenge.opaque)
    }

    /// RFC 2617 §3.5 (MD5, qop=auth).
    @Test func rfc2617Example() throws {
        let credentials = try DigestCredentials(parsing: """
            Digest username="Mufasa",
                 realm="testrealm@host.com",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 uri="/dir/index.html",
                 qop=auth,
                 nc=00000001,
                 cnonce="0a4f113b",
                 response="6629fae49393a05397450978507c4ef1",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41"
            """.replacingNewlines())
        let ha1 = try SIPDigestAlgorithm.md5.ha1(username: "Mufasa", realm: "testrealm@host.com", password: "Circle Of Life", using: hashing)
        #expect(credentials.effectiveAlgorithm == .md5)
        #expect(credentials.nonceCountValue == 1)
        #expect(DigestVerifier.verify(credentials, method: "GET", storedHA1: ha1, using: hashing))
        #expect(DigestVerifier.verify(credentials, method: "GET", storedHA1: ha1.uppercased(), using: hashing))
    }

    /// A SIP REGISTER, computed independently with Python:
    ///
    /// ```python
    /// import hashlib
    /// def H(a, s): return hashlib.new(a, s.encode()).hexdigest()
    /// for a in ("md5", "sha256"):
    ///     ha1 = H(a, "SEP001122334455:outpost.branch.example:s3cr\"et")
    ///     ha2 = H(a, "REGISTER:sip:outpost.branch.example;transport=tls")
    ///     print(a, "ha1", ha1)
    ///     print(a, "qop", H(a, ha1 + ":5f1d2c3b4a69788796a5b4c3d2e1f0aa:0000000a:Xy7.cn0nce:auth:" + ha2))
    ///     print(a, "noqop", H(a, ha1 + ":5f1d2c3b4a69788796a5b4c3d2e1f0aa:" + ha2))
    /// ```
    @Test(arguments: [
        (SIPDigestAlgorithm.md5, "908fd7259b3fbc58ad9c5baca2ec13bc", "8eb952761beba9c1243b4bc016a4f905",
         "b55e31320e2d4a6ad16a164778f6afea"),
        (SIPDigestAlgorithm.sha256, "a5f5bf3b38df5d966221fc5c87ba93665d0c82308aa49f6024653b7c58aaa757",
         "55436502a357dea35c05506aeca2f0a2549a455025c0252155d714113cb60d49",
         "8cce15295a490fd3af4cd3b65da91724c16d19e19b5aeec324098ed894e76fb5"),
    ])
    func sipRegisterExample(algorithm: SIPDigestAlgorithm, ha1: String, withQOP: String, withoutQOP: String) throws {
        #expect(try algorithm.ha1(username: "SEP001122334455", realm: "outpost.branch.example", password: "s3cr\"et", using: hashing) == ha1)
        let uri = "sip:outpost.branch.example;transport=tls"
        let nonce = "5f1d2c3b4a69788796a5b4c3d2e1f0aa"

        let withQOPHeader = """
            Digest username="SEP001122334455",realm="outpost.branch.example",nonce="\(nonce)",\
            uri="\(uri)",response="\(withQOP.uppercased())",algorithm=\(algorithm.rawValue.lowercased()),\
            cnonce="Xy7.cn0nce",qop=auth,nc=0000000a
            """
        let credentials = try DigestCredentials(parsing: withQOPHeader, header: .proxyAuthorization)
        #expect(credentials.response == withQOP)
        #expect(credentials.nonceCountValue == 10)
        #expect(DigestVerifier.verify(credentials, method: "REGISTER", storedHA1: ha1, using: hashing))
        #expect(!DigestVerifier.verify(credentials, method: "INVITE", storedHA1: ha1, using: hashing))

        let withoutQOPHeader = """
            Digest username="SEP001122334455", realm="outpost.branch.example", nonce="\(nonce)", \
            uri="\(uri)", response="\(withoutQOP)", algorithm=\(algorithm.rawValue)
            """
        let plain = try DigestCredentials(parsing: withoutQOPHeader)
        #expect(plain.qopParameters == nil)
        #expect(DigestVerifier.verify(plain, method: "REGISTER", storedHA1: ha1, using: hashing))

        let answer = try DigestCredentials.answering(
            DigestChallenge(realm: "outpost.branch.example", nonce: nonce, algorithm: algorithm, qopOptions: []),
            username: "SEP001122334455", password: "s3cr\"et", method: "REGISTER", uri: uri, cnonce: "unused", using: hashing)
        #expect(answer.response == withoutQOP)
        #expect(answer.qop == nil && answer.cnonce == nil && answer.nonceCount == nil)
    }

    @Test func storedHA1OfTheOtherAlgorithmIsRefused() throws {
        let challenge = DigestChallenge(realm: "r", nonce: "n", algorithm: .sha256)
        let credentials = try DigestCredentials.answering(
            challenge, username: "u", password: "p", method: "REGISTER", uri: "sip:r", cnonce: "c", using: hashing)
        #expect(DigestVerifier.verify(
            credentials, method: "REGISTER", storedHA1: try SIPDigestAlgorithm.sha256.ha1(username: "u", realm: "r", password: "p", using: hashing), using: hashing))
        #expect(!DigestVerifier.verify(
            credentials, method: "REGISTER", storedHA1: try SIPDigestAlgorithm.md5.ha1(username: "u", realm: "r", password: "p", using: hashing), using: hashing))
    }

    /// `sip.tls.fips_mode`: an MD5 answer authenticates no one (the hash is refused, not crashed
    /// on), while SHA-256 (RFC 7616 §3.9.1) still verifies.
    @Test func fipsModeRefusesMD5AndKeepsSHA256() throws {
        let fips = OpenSSLDigests.hashing(fipsMode: true)
        let md5HA1 = try SIPDigestAlgorithm.md5.ha1(username: "Mufasa", realm: "testrealm@host.com", password: "Circle Of Life", using: hashing)
        let md5 = try DigestCredentials(parsing: """
            Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",             uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1"
            """)
        #expect(DigestVerifier.verify(md5, method: "GET", storedHA1: md5HA1, using: hashing))
        #expect(!DigestVerifier.verify(md5, method: "GET", storedHA1: md5HA1, using: fips))
        #expect(throws: DigestHashingError(algorithm: "MD5", reason: "MD5 is not allowed in FIPS mode")) {
            try DigestVerifier.check(md5, method: "GET", storedHA1: md5HA1, using: fips)
        }
        #expect(throws: DigestHashingError.self) {
            try SIPDigestAlgorithm.md5.ha1(username: "u", realm: "r", password: "p", using: fips)
        }
        #expect(throws: DigestHashingError.self) {
            try DigestCredentials.answering(
                DigestChallenge(realm: "r", nonce: "n", algorithm: .md5), username: "u", password: "p", method: "REGISTER",
                uri: "sip:r", cnonce: "c", using: fips)
        }

        let ha1 = try SIPDigestAlgorithm.sha256.ha1(username: "Mufasa", realm: "http-auth@example.org", password: "Circle of Life", using: fips)
        let sha256 = try DigestCredentials(parsing: """
            Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256,             nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001,             cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth,             response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
            """)
        #expect(DigestVerifier.verify(sha256, method: "GET", storedHA1: ha1, using: fips))
    }

    @Test func constantTimeEquality() {
        #expect(DigestVerifier.constantTimeEqual("abcdef", "abcdef"))
        #expect(!DigestVerifier.constantTimeEqual("abcdef", "abcdeg"))
        #expect(!DigestVerifier.constantTimeEqual("abcdef", "abcde"))
        #expect(DigestVerifier.constantTimeEqual("", ""))
    }
}

extension String {
    /// Joins the lines of a multi-line literal with a space, as header unfolding does.
    fileprivate func replacingNewlines() -> String {
        split(separator: "\n").joined(separator: " ")
    }
}
