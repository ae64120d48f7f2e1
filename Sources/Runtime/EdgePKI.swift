import Logging
import PKI
import SIPTransport
import TLS

#if canImport(Glibc)
import Glibc
#endif

/// The TLS identity of the edge's SIP listeners: the operator's files when configured, otherwise
/// the edge's own PKI, created on first start so a fresh machine serves TLS with no preparation.
enum EdgePKI {
    /// One server context per client-certificate mode the TLS listeners use.
    static func serverContexts(
        _ configuration: OutpostConfiguration, logger: Logger
    ) throws -> [OutpostConfiguration.TLS.ClientCertificates: TLSContext] {
        let modes = Set(configuration.sip.listeners.filter { $0.transport == .tls }.map { $0.clientCertificates ?? configuration.sip.tls.clientCertificates })
        var contexts: [OutpostConfiguration.TLS.ClientCertificates: TLSContext] = [:]
        for mode in modes.sorted(by: { $0.rawValue < $1.rawValue }) {
            var settings = configuration
            settings.sip.tls.clientCertificates = mode
            contexts[mode] = try serverContext(settings, logger: logger)
        }
        return contexts
    }

    static func serverContext(_ configuration: OutpostConfiguration, logger: Logger) throws -> TLSContext {
        let files = try identityFiles(configuration, logger: logger)
        return try TLSContext(configuration: tlsConfiguration(configuration.sip.tls, role: .server, files: files))
    }

    /// The edge as a TLS client of the call manager: the same identity (the SRST certificate, or
    /// the operator's), and the call manager's certificate must chain to a trusted root.
    static func trunkClientContext(_ configuration: OutpostConfiguration, logger: Logger) throws -> TLSContext {
        let files = try identityFiles(configuration, logger: logger)
        return try TLSContext(configuration: tlsConfiguration(configuration.sip.tls, role: .client, files: files))
    }

    private struct IdentityFiles {
        var chain: String
        var key: String
        var roots: String
        var crls: [String]
        var crlOptionalRoots: Set<String> = []
    }

    /// The certificate chain the TLS listeners present (the configured one, or the edge's own
    /// SRST certificate); nil without a TLS listener.
    static func serverCertificateFile(_ configuration: OutpostConfiguration) -> String? {
        guard configuration.sip.listeners.contains(where: { $0.transport == .tls }) else { return nil }
        return configuration.sip.tls.certificate ?? PKIStoreLayout(stateDirectory: configuration.stateDirectory).serverCertificate
    }

    private static func identityFiles(_ configuration: OutpostConfiguration, logger: Logger) throws -> IdentityFiles {
        let tls = configuration.sip.tls
        if tls.certificate != nil || tls.key != nil {
            guard let certificate = tls.certificate, let key = tls.key, let roots = tls.trustRoots else {
                throw ConfigurationError(
                    file: "(configuration)", line: nil, key: "sip.tls",
                    reason: "certificate, key and trust_roots go together; leave all three out to use the edge's own PKI")
            }
            return IdentityFiles(chain: certificate, key: key, roots: roots, crls: tls.crls)
        }
        let store = PKIStore(
            stateDirectory: configuration.stateDirectory,
            settings: PKIStore.Settings(
                expiryWarningDays: configuration.pki.expiryWarningDays,
                policy: CertificatePolicy(fipsMode: tls.fipsMode)))
        let names = configuration.pki.names.isEmpty ? HostIdentity.names() : configuration.pki.names
        let addresses = configuration.pki.addresses.isEmpty ? HostIdentity.addresses() : configuration.pki.addresses
        let report = try store.initialise(names: names, addresses: addresses)
        for item in report.created {
            logger.notice("PKI created \(item)", metadata: ["state_directory": "\(configuration.stateDirectory)"])
        }
        for warning in report.warnings { logger.warning("PKI: \(warning)") }
        logger.info(
            "SRST certificate",
            metadata: ["subject": "\(report.server.subject)", "fingerprint": "\(report.server.sha256FingerprintHex)",
                       "expires": "\(report.server.notAfter)"])
        for notice in try store.expiryReport() { logger.warning("PKI expiry: \(notice)") }
        _ = try? store.refreshRevocationList(force: false)
        let material = try store.tlsMaterial()
        for root in material.rootsWithoutCRL {
            logger.warning("trusted root has no CRL, so certificates under it will be refused until one is added", metadata: ["root": "\(root)"])
        }
        for root in material.crlOptionalRootsWithoutCRL {
            logger.notice("trusted root has no CRL and was added with --crl optional, so certificates under it are not checked for revocation", metadata: ["root": "\(root)"])
        }
        return IdentityFiles(
            chain: material.certificateChainPath, key: material.privateKeyPath, roots: material.trustRootsPath,
            crls: material.crlPaths + tls.crls, crlOptionalRoots: material.crlOptionalRoots)
    }

    private static func tlsConfiguration(_ tls: OutpostConfiguration.TLS, role: TLSConfiguration.Role, files: IdentityFiles) -> TLSConfiguration {
        var configuration = TLSConfiguration(
            role: role, certificateChainPath: files.chain, privateKeyPath: files.key, trustRootsPath: files.roots, crlPaths: files.crls,
            crlOptionalRoots: files.crlOptionalRoots, peerVerification: role == .client || tls.clientCertificates == .required ? .required : .optional, fipsMode: tls.fipsMode,
            handshakeTimeout: .seconds(tls.handshakeTimeoutSeconds))
        if let cipherList = tls.cipherList { configuration.cipherList = cipherList }
        if let cipherSuites = tls.cipherSuites { configuration.cipherSuites = cipherSuites }
        return configuration
    }
}

/// This host's name and addresses, for the SRST certificate when the operator names none.
enum HostIdentity {
    static func names() -> [String] {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return [] }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let valid = !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }
        return valid ? [name] : []
    }

    /// Non-loopback IPv4 and IPv6 (not link-local) addresses, and 127.0.0.1 so local tools work.
    static func addresses() -> [String] {
        var result: [String] = []
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return ["127.0.0.1"] }
        defer { freeifaddrs(list) }
        var entry: UnsafeMutablePointer<ifaddrs>? = first
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            guard let address = current.pointee.ifa_addr else { continue }
            let family = Int32(address.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
            guard getnameinfo(address, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
            let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text != "127.0.0.1", text != "::1", !text.hasPrefix("fe80"), !text.contains("%") else { continue }
            if !result.contains(text) { result.append(text) }
        }
        return result + ["127.0.0.1"]
    }
}
