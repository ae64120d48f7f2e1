import Logging
import PKI
import ServiceLifecycle
import Synchronization
import TLS

/// The TLS contexts new connections are created from, replaceable while the edge runs.
public final class TLSContextStore: Sendable {
    private let contexts: Mutex<[OutpostConfiguration.TLS.ClientCertificates: TLSContext]>

    public init(_ contexts: [OutpostConfiguration.TLS.ClientCertificates: TLSContext]) {
        self.contexts = Mutex(contexts)
    }

    func context(for mode: OutpostConfiguration.TLS.ClientCertificates) -> TLSContext? {
        contexts.withLock { $0[mode] }
    }

    func replace(with new: [OutpostConfiguration.TLS.ClientCertificates: TLSContext]) {
        contexts.withLock { $0 = new }
    }
}

/// Re-reads the TLS identity, trust roots and CRLs when their files change (a device revoked
/// with `outpost pki revoke`, a root added with `outpost pki trust add`), and renews the edge's
/// own CRL before it goes stale, so a revocation reaches new connections without a restart.
final class TLSContextReloader: Service {
    private let configuration: OutpostConfiguration
    private let store: TLSContextStore
    private let interval: Duration
    private let logger: Logger

    init(configuration: OutpostConfiguration, store: TLSContextStore, interval: Duration, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        var lastSeen = fingerprint()
        while await FileChangePolling.waitForNextPoll(interval) {
            if configuration.sip.tls.certificate == nil {
                let pki = PKIStore(stateDirectory: configuration.stateDirectory)
                do {
                    _ = try pki.refreshRevocationList(force: false)
                } catch {
                    logger.warning("cannot renew the edge CRL", metadata: ["error": "\(error)"])
                }
            }
            let now = fingerprint()
            guard now != lastSeen else { continue }
            if load(reason: "TLS identity, trust roots or CRLs changed") { lastSeen = now }
        }
    }

    /// Re-reads every TLS file now, changed or not (SIGHUP); false when they cannot be loaded,
    /// and then the previous contexts stay.
    @discardableResult
    func reloadNow() -> Bool { load(reason: "reload requested") }

    private func load(reason: String) -> Bool {
        do {
            store.replace(with: try EdgePKI.serverContexts(configuration, logger: logger))
            logger.notice("\(reason); new TLS connections use the files as they are now")
            return true
        } catch {
            logger.error("\(reason), but the TLS files cannot be loaded; keeping the previous ones", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// The contents of every file the contexts are built from.
    private func fingerprint() -> [String: [UInt8]] {
        let tls = configuration.sip.tls
        var paths = tls.crls + [tls.certificate, tls.key, tls.trustRoots].compactMap { $0 }
        if tls.certificate == nil {
            let pki = configuration.stateDirectory + "/pki"
            paths += [pki + "/crl.pem", pki + "/ca-bundle.pem", pki + "/srst/chain.pem", pki + "/index.tsv"]
            paths += FileChangePolling.directoryEntries(pki + "/trust").map { pki + "/trust/" + $0 }
        }
        return FileChangePolling.snapshot(paths)
    }
}
