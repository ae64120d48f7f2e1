import Logging
import PKI
import ServiceLifecycle
import Synchronization
import TLS

#if canImport(Glibc)
import Glibc
#endif

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
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                // Cut short by a graceful shutdown: stopping the edge must not wait for the interval.
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            } catch {
                return
            }
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
            do {
                store.replace(with: try EdgePKI.serverContexts(configuration, logger: logger))
                lastSeen = now
                logger.notice("TLS identity, trust roots or CRLs changed; new connections use them")
            } catch {
                logger.error("TLS files changed but cannot be loaded; keeping the previous ones", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The contents of every file the contexts are built from. Contents, not modification times:
    /// re-initialising the store may rewrite a file with the same bytes, which is no change.
    private func fingerprint() -> [String: [UInt8]] {
        let tls = configuration.sip.tls
        var paths = tls.crls + [tls.certificate, tls.key, tls.trustRoots].compactMap { $0 }
        if tls.certificate == nil {
            let pki = configuration.stateDirectory + "/pki"
            paths += [pki + "/crl.pem", pki + "/ca-bundle.pem", pki + "/srst/chain.pem", pki + "/index.tsv"]
            if let entries = try? listDirectory(pki + "/trust") { paths += entries.map { pki + "/trust/" + $0 } }
        }
        var result: [String: [UInt8]] = [:]
        for path in paths { result[path] = contents(of: path) }
        return result
    }

    /// A file's bytes (at most 1 MiB, plenty for certificates and CRLs); empty when unreadable.
    private func contents(of path: String) -> [UInt8] {
        guard let file = fopen(path, "rb") else { return [] }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: 1 << 20)
        let count = fread(&bytes, 1, bytes.count, file)
        return Array(bytes.prefix(count))
    }

    private func listDirectory(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }
}
