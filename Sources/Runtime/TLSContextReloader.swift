import Logging
import PKI
import ServiceLifecycle
import SIPTransport
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
/// own CRL before it goes stale, so a revocation reaches new connections without a restart; then
/// checks every live phone connection's certificate against the trust of now and closes those
/// that no longer verify (revoked, expired, untrusted), marking their bindings' flows gone.
final class TLSContextReloader: Service, Sendable {
    private let configuration: OutpostConfiguration
    private let store: TLSContextStore
    private let interval: Duration
    private let live: LiveTLSConnections
    private let connections: SIPConnectionTable
    private let flowsGone: @Sendable (Set<UInt64>) -> Void
    private let logger: Logger
    /// The file contents the current contexts were built from; the lock also keeps a poll the
    /// operator asks for from running alongside the periodic one.
    private let lastSeen: Mutex<[String: [UInt8]]>

    init(
        configuration: OutpostConfiguration, store: TLSContextStore, interval: Duration, live: LiveTLSConnections = LiveTLSConnections(),
        connections: SIPConnectionTable = SIPConnectionTable(), flowsGone: @escaping @Sendable (Set<UInt64>) -> Void = { _ in },
        logger: Logger
    ) {
        self.configuration = configuration
        self.store = store
        self.interval = interval
        self.live = live
        self.connections = connections
        self.flowsGone = flowsGone
        self.logger = logger
        // The contexts in `store` were just built from these files.
        self.lastSeen = Mutex(Self.fingerprint(configuration))
    }

    func run() async throws {
        while await FileChangePolling.waitForNextPoll(interval) {
            poll()
        }
    }

    /// What one poll did.
    struct Outcome: Sendable {
        var reloaded = false
        var closed = 0
    }

    /// One round: renew the edge CRL, reload the contexts if their files changed (or always, with
    /// `force`), then re-check the live connections. Every round re-checks, so a certificate that
    /// expires while its connection is open is caught within an interval even when no file changed.
    @discardableResult
    func poll(force: Bool = false) -> Outcome {
        lastSeen.withLock { seen in
            var outcome = Outcome()
            if configuration.sip.tls.certificate == nil {
                let pki = PKIStore(stateDirectory: configuration.stateDirectory)
                do {
                    _ = try pki.refreshRevocationList(force: false)
                } catch {
                    logger.warning("cannot renew the edge CRL", metadata: ["error": "\(error)"])
                }
            }
            let now = Self.fingerprint(configuration)
            if force || now != seen {
                do {
                    store.replace(with: try EdgePKI.serverContexts(configuration, logger: logger))
                    seen = now
                    outcome.reloaded = true
                    logger.notice("TLS identity, trust roots or CRLs changed; new connections use them")
                } catch {
                    logger.error("TLS files changed but cannot be loaded; keeping the previous ones", metadata: ["error": "\(error)"])
                }
            }
            outcome.closed = revalidate()
            return outcome
        }
    }

    /// Re-reads every TLS file now, changed or not (SIGHUP); false when they cannot be loaded, and
    /// then the previous contexts stay.
    @discardableResult
    func reloadNow() -> Bool { poll(force: true).reloaded }

    private func revalidate() -> Int {
        let distrusted = live.revalidate(with: store, connections: connections)
        for item in distrusted {
            let peer = item.peer
            let names = ([peer.commonName].compactMap { $0 } + peer.uris + peer.dnsNames).joined(separator: ", ")
            logger.notice(
                "TLS connection closed: its peer certificate no longer verifies",
                metadata: [
                    "certificate": "\(names.isEmpty ? peer.subject : names)", "subject": "\(peer.subject)", "serial": "\(peer.serialNumber)",
                    "issuer": "\(peer.issuer)", "reason": "\(item.reason)", "remote": "\(item.remote)",
                ])
        }
        let gone = Set(distrusted.compactMap { $0.connection?.rawValue })
        if !gone.isEmpty { flowsGone(gone) }
        return distrusted.count
    }

    /// The contents of every file the contexts are built from.
    private static func fingerprint(_ configuration: OutpostConfiguration) -> [String: [UInt8]] {
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
