import Foundation
import Runtime

/// The openssl-CLI test PKI of the TLS tests (Tests/TLSTests/Fixtures/make-test-pki.sh), made once
/// for this test process.
enum IntegrationPKI {
    static let directory: String = {
        let directory = NSTemporaryDirectory() + "outpost-integration-pki-\(getpid())"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TLSTests/Fixtures/make-test-pki.sh").path
        let outcome = try! ExternalTool.run("/bin/bash", [script, directory], timeout: .seconds(60))
        precondition(outcome.status == 0, "make-test-pki.sh failed; see \(directory)/log.txt")
        return directory
    }()

    static func path(_ name: String) -> String { "\(directory)/\(name)" }

    static func edgeTLS(handshakeTimeoutSeconds: Int = 10, fipsMode: Bool = false) -> OutpostConfiguration.TLS {
        OutpostConfiguration.TLS(
            certificate: path("server.pem"), key: path("server.key"), trustRoots: path("trusted.pem"),
            crls: [path("crl.pem"), path("rsa-crl.pem")], handshakeTimeoutSeconds: handshakeTimeoutSeconds, fipsMode: fipsMode)
    }
}
