import Foundation

/// A PKI made by the openssl CLI for the TLS tests (see Fixtures/make-test-pki.sh), built once.
enum TestPKI {
    static let directory: String = {
        let directory = NSTemporaryDirectory() + "outpost-tls-pki-\(getpid())"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/make-test-pki.sh").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, directory]
        try! process.run()
        process.waitUntilExit()
        precondition(process.terminationStatus == 0, "make-test-pki.sh failed; see \(directory)/log.txt")
        return directory
    }()

    static func path(_ name: String) -> String { "\(directory)/\(name)" }
}
