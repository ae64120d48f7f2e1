import Foundation
import PKI
import Testing

@testable import Runtime

@Suite struct AdminAuthenticatorTests {
    static func basic(_ text: String) -> String { "Basic " + Data(text.utf8).base64EncodedString() }

    /// Whatever a client puts in Authorization is refused (and counted) unless it is the login.
    @Test func hostileAuthorizationHeadersAreRefusedAndCounted() throws {
        let authenticator = AdminAuthenticator(
            username: "admin", hash: try PasswordHash.make(password: "s3cret", iterations: 1_000), certificateNames: ["ops-laptop"])
        let hostile = [
            "", "Basic", "Basic ", "Basic !!!not-base64!!!", "Bearer " + Data("admin:s3cret".utf8).base64EncodedString(), Self.basic("admins3cret"),
            Self.basic("admin:"), Self.basic(":s3cret"), Self.basic("root:s3cret"), Self.basic("admin:s3cret\u{0}"), Self.basic("admin:S3CRET"),
            "Basic " + String(repeating: "A", count: 5_000), "Basic " + Data([0xFF, 0xFE, 0x3A, 0x00]).base64EncodedString(),
        ]
        for header in hostile { #expect(!authenticator.admits(certificateNames: [], authorization: header), "\(header.prefix(40))") }
        #expect(authenticator.failedAttempts == hostile.count)
        #expect(!authenticator.admits(certificateNames: [], authorization: nil), "no header")
        #expect(authenticator.failedAttempts == hostile.count, "no header is no attempt")
        #expect(!authenticator.admits(certificateNames: ["SEP001122334455"], authorization: nil), "a certificate not listed")
        #expect(authenticator.admits(certificateNames: ["ops-laptop"], authorization: nil))
        #expect(authenticator.admits(certificateNames: [], authorization: Self.basic("admin:s3cret")))
        #expect(authenticator.admits(certificateNames: [], authorization: Self.basic("admin:s3cret")), "remembered, and still admitted")
    }

    @Test func withoutAPasswordHashOnlyCertificatesLogIn() {
        let authenticator = AdminAuthenticator(username: "admin", hash: nil, certificateNames: ["ops-laptop"])
        #expect(!authenticator.admits(certificateNames: [], authorization: Self.basic("admin:anything")))
        #expect(authenticator.admits(certificateNames: ["ops-laptop"], authorization: nil))
    }
}
