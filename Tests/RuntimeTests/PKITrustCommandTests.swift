import ArgumentParser
import Testing

@testable import outpost
import PKI

/// `outpost pki trust add`'s arguments: `--crl required|optional` (required unless told) and the
/// root's CRL file as `--crl-file`.
@Suite struct PKITrustCommandTests {
    @Test func crlIsRequiredUnlessToldOtherwise() throws {
        let plain = try PKITrustAdd.parse(["root.pem", "--state-dir", "/tmp/state"])
        #expect(plain.crl == .required)
        #expect(plain.crlFile == nil)
        let optional = try PKITrustAdd.parse(["root.pem", "--state-dir", "/tmp/state", "--crl", "optional", "--crl-file", "root.crl.pem"])
        #expect(optional.crl == .optional)
        #expect(optional.crlFile == "root.crl.pem")
        #expect(try PKITrustAdd.parse(["root.pem", "--state-dir", "/tmp/state", "--crl", "required"]).crl == .required)
    }

    @Test func aCRLFileGivenToCRLIsRefusedWithAPointerToCRLFile() {
        #expect(throws: (any Error).self) { try PKITrustAdd.parse(["root.pem", "--state-dir", "/tmp/state", "--crl", "root.crl.pem"]) }
        do {
            _ = try PKITrustAdd.parse(["root.pem", "--state-dir", "/tmp/state", "--crl", "root.crl.pem"])
        } catch {
            let message = PKITrustAdd.message(for: error)
            #expect(message.contains("--crl takes required or optional"), "\(message)")
            #expect(message.contains("--crl-file"), "\(message)")
        }
        #expect(throws: (any Error).self) { try PKITrustAdd.parse(["root.pem", "--state-dir", "/tmp/state", "--crl", "Optional"]) }
    }

    @Test func helpExplainsTheChoice() {
        // Words, whatever the wrapping.
        let help = PKITrustAdd.helpMessage(columns: 100).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("--crl <required|optional>"), "\(help)")
        #expect(help.contains("--crl-file"))
        #expect(help.contains("call manager whose CA publishes no CRL"))
    }
}
