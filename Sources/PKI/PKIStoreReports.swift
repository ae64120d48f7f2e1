/// What the rest of the edge reads from the store: the files the TLS layer loads and the
/// expiry report the runtime logs ahead of time.
extension PKIStore {
    /// Paths for `TLSConfiguration`: the SRST chain and key, the CA bundle peers are verified
    /// against, and every CRL.
    public struct TLSMaterial: Sendable, Hashable {
        /// SRST certificate then the edge CA (PEM).
        public var certificateChainPath: String
        /// SRST private key (PEM, 0600).
        public var privateKeyPath: String
        /// Edge CA + trusted external roots (PEM).
        public var trustRootsPath: String
        /// The edge CA's CRL first, then each trusted root's.
        public var crlPaths: [String]
        /// SHA-256 fingerprints of the trusted roots added with `--crl optional`, for
        /// `TLSConfiguration.crlOptionalRoots`. The edge CA is never among them.
        public var crlOptionalRoots: Set<String>
        /// CRL-required roots without a CRL. With CRL checking on every issuer (OpenSSL's
        /// CRL_CHECK_ALL), certificates under these roots fail verification until a CRL is added.
        public var rootsWithoutCRL: [String]
        /// CRL-optional roots without a CRL: their certificates are accepted unchecked for revocation.
        public var crlOptionalRootsWithoutCRL: [String] = []
    }

    public func tlsMaterial() throws(PKIStoreError) -> TLSMaterial {
        let lock = try sharedLock()
        defer { lock.release() }
        guard isInitialised else { throw notInitialised() }
        for path in [layout.serverChain, layout.serverKey, layout.caBundle, layout.revocationList] where !SecureFile.exists(path) {
            throw PKIStoreError(.inconsistentState, "\(path) is missing; run `outpost pki init` again")
        }
        let roots = try readTrustedRoots()
        let optional = roots.filter { $0.crlRequirement == .optional }
        func names(_ roots: [TrustedRoot]) -> [String] {
            roots.filter { $0.revocationListPath == nil }.map { "\($0.certificate.subject) (\($0.fingerprint))" }
        }
        return TLSMaterial(
            certificateChainPath: layout.serverChain, privateKeyPath: layout.serverKey, trustRootsPath: layout.caBundle,
            crlPaths: [layout.revocationList] + roots.compactMap(\.revocationListPath),
            crlOptionalRoots: Set(optional.map(\.fingerprint)),
            rootsWithoutCRL: names(roots.filter { $0.crlRequirement == .required }),
            crlOptionalRootsWithoutCRL: names(optional))
    }

    /// Something that expires within the warning window (or already has).
    public struct ExpiryNotice: Sendable, Hashable, CustomStringConvertible {
        public enum Subject: Sendable, Hashable {
            case issued(IssuedCertificateRecord.Kind)
            case trustedRoot
            case trustedRootCRL
            case revocationList
        }

        public var subject: Subject
        /// Device name, certificate subject or CRL issuer.
        public var name: String
        public var serialNumber: String?
        public var expiry: PKITime
        /// Whole days left (negative once expired).
        public var daysLeft: Int

        public var description: String {
            let what: String = switch subject {
            case .issued(.authority): "edge CA"
            case .issued(.server): "SRST certificate"
            case .issued(.trustListSigner): "SAST certificate"
            case .issued(.device): "device certificate"
            case .trustedRoot: "trusted root"
            case .trustedRootCRL: "CRL of trusted root"
            case .revocationList: "edge CA CRL (nextUpdate)"
            }
            let serial = serialNumber.map { " serial \($0)" } ?? ""
            return daysLeft < 0
                ? "\(what) \(name)\(serial) expired on \(expiry)"
                : "\(what) \(name)\(serial) expires on \(expiry) (in \(daysLeft) days)"
        }
    }

    /// Everything that expires within `days` (default: the settings' warning window), or has
    /// expired: unrevoked, current certificates of the index and trusted roots; CRLs whose
    /// nextUpdate is within `min(days, 7)` days. Soonest first.
    public func expiryReport(withinDays days: Int? = nil) throws(PKIStoreError) -> [ExpiryNotice] {
        let lock = try sharedLock()
        defer { lock.release() }
        guard isInitialised else { throw notInitialised() }
        let now = self.now
        let horizon = now.adding(days: days ?? settings.expiryWarningDays)
        // A CRL is re-signed long before it lapses; it is worth a notice only in its last week.
        let crlHorizon = now.adding(days: min(days ?? settings.expiryWarningDays, 7))
        func notice(_ subject: ExpiryNotice.Subject, _ name: String, _ serial: String?, _ expiry: PKITime) -> ExpiryNotice? {
            let isCRL = subject == .revocationList || subject == .trustedRootCRL
            guard expiry <= (isCRL ? crlHorizon : horizon) else { return nil }
            let seconds = expiry.seconds(since: now)
            let daysLeft = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
            return ExpiryNotice(subject: subject, name: name, serialNumber: serial, expiry: expiry, daysLeft: daysLeft)
        }
        var notices: [ExpiryNotice] = []
        for record in try readIndex() where record.revocation == nil && !record.superseded {
            if let found = notice(.issued(record.kind), record.name, record.serialNumber, record.notAfter) { notices.append(found) }
        }
        for root in try readTrustedRoots() {
            if let found = notice(.trustedRoot, root.certificate.subject, root.certificate.serialNumber, root.certificate.notAfter) {
                notices.append(found)
            }
            if let next = root.revocationList?.nextUpdate, let found = notice(.trustedRootCRL, root.certificate.subject, nil, next) {
                notices.append(found)
            }
        }
        if SecureFile.exists(layout.revocationList) {
            let text = try SecureFile.readText(layout.revocationList)
            let crl = try openSSL("read \(layout.revocationList)") { () throws(PKIError) in try CertificateRevocationList(pemEncoded: text) }
            if let next = crl.nextUpdate, let found = notice(.revocationList, crl.issuer, nil, next) { notices.append(found) }
        }
        return notices.sorted { $0.expiry < $1.expiry }
    }
}
