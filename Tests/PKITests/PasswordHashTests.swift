import Foundation
import Testing

@testable import PKI

@Suite struct PasswordHashTests {
    /// RFC 7914 §11: PBKDF2-HMAC-SHA256 of "passwd" with salt "salt", one iteration, 64 bytes.
    @Test func derivationMatchesTheRFC7914Vector() throws {
        let derived = try PasswordHash.derive("passwd", salt: Array("salt".utf8), iterations: 1, length: 64)
        let expected = "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
        #expect(derived.map { String(format: "%02x", $0) }.joined() == expected)
    }

    @Test func aMadeHashVerifiesItsPasswordOnlyAndSurvivesItsOwnPrintedForm() throws {
        let made = try PasswordHash.make(password: "correct horse", iterations: 1_000)
        #expect(made.verifies("correct horse"))
        #expect(!made.verifies("correct hors"))
        #expect(!made.verifies(""))
        let parsed = try PasswordHash(parsing: made.description)
        #expect(parsed == made && parsed.verifies("correct horse"))
        #expect(made.description.hasPrefix("pbkdf2-sha256$1000$"))
        #expect(try PasswordHash.make(password: "correct horse", iterations: 1_000) != made, "a fresh salt each time")
    }

    /// Passlib's form leaves out the base64 padding; Python's hashlib made this one independently.
    @Test func passlibsUnpaddedFormIsRead() throws {
        let hash = try PasswordHash(parsing: "pbkdf2-sha256$600000$kVoZHN3eLdy2Hp8Z95ONKw$qFtnONr5aw3Hv4hlACOBUKqYbe8HWfIzST5zbWQenQg")
        #expect(hash.verifies("secret"))
        #expect(!hash.verifies("Secret"))
    }

    @Test(arguments: [
        "", "secret", "pbkdf2-sha1$1000$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==", "pbkdf2-sha256$10$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==",
        "pbkdf2-sha256$1000$!!$aGFzaGhhc2hoYXNoaGFzaA==", "pbkdf2-sha256$1000$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==", "pbkdf2-sha256$1000$c2FsdHNhbHQ=$aGFzaA==",
        "pbkdf2-sha256$1000$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==$extra",
    ])
    func malformedHashesAreRefusedWithWhy(text: String) {
        #expect(throws: PasswordHash.Problem.self) { try PasswordHash(parsing: text) }
    }
}
