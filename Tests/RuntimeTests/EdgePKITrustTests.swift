import Foundation
import Logging
import PKI
import Synchronization
import Testing

@testable import Runtime
import TLS

/// The edge's own PKI as the TLS contexts see it: which trusted roots may lack a CRL, and what
/// is logged about roots without one.
@Suite struct EdgePKITrustTests {
    /// Keeps the messages logged at warning and notice.
    struct Capture: LogHandler {
        let log: Log
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            guard event.level == .warning || event.level == .notice else { return }
            log.lines.withLock { $0.append("\(event.message) \(event.metadata?["root"].map { "\($0)" } ?? "")") }
        }
    }

    final class Log: Sendable {
        let lines = Mutex<[String]>([])
        var logger: Logger {
            Logger(label: "test") { _ in Capture(log: self) }
        }
        var text: [String] { lines.withLock { $0 } }
    }

    @Test func onlyCRLRequiredRootsAreWarnedAboutAndOnlyOptionalOnesReachTLS() throws {
        let directory = NSTemporaryDirectory() + "edge-pki-trust-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = OutpostConfiguration()
        configuration.stateDirectory = directory
        configuration.pki.names = ["edge.test"]
        configuration.pki.addresses = ["127.0.0.1"]
        let store = PKIStore(stateDirectory: directory)
        _ = try store.initialise(names: ["edge.test"], addresses: ["127.0.0.1"])
        func root(_ name: String) throws -> String {
            try CertificateAuthority.createRoot(
                subject: DistinguishedName(commonName: name), key: try PrivateKey(generating: .ecP256), validity: .days(365)
            ).certificate.pemEncoded()
        }
        let strict = try store.addTrustedRoot(pem: try root("Strict Root"))
        let lenient = try store.addTrustedRoot(pem: try root("CUCM Without CRL"), crlRequirement: .optional)

        let log = Log()
        let context = try EdgePKI.trunkClientContext(configuration, logger: log.logger)
        #expect(context.configuration.crlOptionalRoots == [lenient.fingerprint])
        let warned = log.text.filter { $0.contains("will be refused until one is added") }
        #expect(warned.count == 1)
        #expect(warned.first?.contains(strict.fingerprint) == true, "\(log.text)")
        let noticed = log.text.filter { $0.contains("--crl optional") }
        #expect(noticed.count == 1)
        #expect(noticed.first?.contains(lenient.fingerprint) == true, "\(log.text)")
    }
}
