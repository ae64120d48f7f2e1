/// The trust store: external roots the edge accepts peers from (a call manager's CAPF or
/// CallManager root, a phone manufacturer's CA), each with an optional CRL.
extension PKIStore {
    /// Whether certificates under a trusted root need the root's CRL.
    public enum CRLRequirement: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// Refused until the root's CRL is added (fail closed; the default, and the edge CA's).
        case required
        /// Accepted while the root has no CRL (a call manager whose CA publishes none); once a
        /// CRL is added it is checked like any other.
        case optional

        public var description: String { rawValue }
    }

    /// One trusted external root.
    public struct TrustedRoot: Sendable {
        /// SHA-256 of the DER, uppercase hex: the root's identifier in the store.
        public var fingerprint: String
        public var certificate: Certificate
        public var revocationList: CertificateRevocationList?
        public var path: String
        public var revocationListPath: String?
        public var crlRequirement: CRLRequirement = .required
    }

    /// Adds a self-signed CA root (PEM holding exactly one certificate), optionally with its CRL,
    /// and whether certificates under it need that CRL (`required` unless told). Refused: a non-CA or not self-signed certificate, an expired or not yet valid one, a key
    /// below the floor, the edge's own CA, a root already trusted, a CRL the root did not sign
    /// or whose nextUpdate has passed.
    @discardableResult
    public func addTrustedRoot(
        pem: String, crlPEM: String? = nil, crlRequirement: CRLRequirement = .required
    ) throws(PKIStoreError) -> TrustedRoot {
        let certificates = try openSSL("read the root") { () throws(PKIError) in try Certificate.all(pemEncoded: pem) }
        guard certificates.count == 1 else {
            throw PKIStoreError(.invalidInput, "the file holds \(certificates.count) certificates; add one root at a time")
        }
        let root = certificates[0]
        let violations = settings.policy.violations(of: root, as: .trustAnchor)
        guard violations.isEmpty else {
            throw PKIStoreError(.policyViolation, "root \(root.subject) refused: it " + violations.map(\.description).joined(separator: "; "))
        }
        guard root.isSelfSigned else {
            throw PKIStoreError(.invalidInput,
                "\(root.subject) is not self-signed (issued by \(root.issuer)); add the root that issued it instead")
        }
        let crl = try crlPEM.map { text throws(PKIStoreError) in try checkedCRL(text, for: root) }

        let lock = try exclusiveLock()
        defer { lock.release() }
        let own = try loadCertificate(layout.authorityCertificate)
        guard own != root else { throw PKIStoreError(.alreadyExists, "\(root.subject) is the edge's own CA, trusted already") }
        let fingerprint = root.sha256FingerprintHex
        let path = layout.trustedRoot(fingerprint: fingerprint)
        guard !SecureFile.exists(path) else {
            throw PKIStoreError(.alreadyExists, "\(root.subject) (SHA-256 \(fingerprint)) is already trusted")
        }
        try SecureFile.makeDirectory(layout.trustDirectory)
        var crlPath: String?
        if let crl {
            crlPath = layout.trustedRootCRL(fingerprint: fingerprint)
            try SecureFile.write(try openSSL("encode the CRL") { () throws(PKIError) in try crl.pemEncoded() }, to: crlPath!, mode: SecureFile.publicMode)
        }
        // The choice before the certificate: a root is never visible without it.
        try SecureFile.write(
            crlRequirement.rawValue + "\n", to: layout.trustedRootCRLRequirement(fingerprint: fingerprint), mode: SecureFile.publicMode)
        try writeCertificates([root], to: path)
        try writeBundle(authority: own)
        return TrustedRoot(
            fingerprint: fingerprint, certificate: root, revocationList: crl, path: path, revocationListPath: crlPath,
            crlRequirement: crlRequirement)
    }

    /// Sets or replaces the CRL of a trusted root (identified by fingerprint or a unique prefix).
    @discardableResult
    public func setTrustedRootCRL(fingerprint: String, crlPEM: String) throws(PKIStoreError) -> TrustedRoot {
        let lock = try exclusiveLock()
        defer { lock.release() }
        var root = try findTrustedRoot(fingerprint)
        let crl = try checkedCRL(crlPEM, for: root.certificate)
        if let current = root.revocationList, let currentNumber = current.number, let newNumber = crl.number, newNumber < currentNumber {
            throw PKIStoreError(.invalidInput, "the CRL's number \(newNumber) is older than the stored one (\(currentNumber))")
        }
        let path = layout.trustedRootCRL(fingerprint: root.fingerprint)
        try SecureFile.write(try openSSL("encode the CRL") { () throws(PKIError) in try crl.pemEncoded() }, to: path, mode: SecureFile.publicMode)
        root.revocationList = crl
        root.revocationListPath = path
        return root
    }

    /// Removes a trusted root (and its CRL).
    @discardableResult
    public func removeTrustedRoot(fingerprint: String) throws(PKIStoreError) -> TrustedRoot {
        let lock = try exclusiveLock()
        defer { lock.release() }
        let root = try findTrustedRoot(fingerprint)
        try SecureFile.remove(root.path)
        if let crlPath = root.revocationListPath { try SecureFile.remove(crlPath) }
        try SecureFile.remove(layout.trustedRootCRLRequirement(fingerprint: root.fingerprint))
        try writeBundle(authority: try loadCertificate(layout.authorityCertificate))
        return root
    }

    /// The trusted external roots, by fingerprint.
    public func trustedRoots() throws(PKIStoreError) -> [TrustedRoot] {
        let lock = try sharedLock()
        defer { lock.release() }
        return try readTrustedRoots()
    }

    func readTrustedRoots() throws(PKIStoreError) -> [TrustedRoot] {
        var roots: [TrustedRoot] = []
        for name in try SecureFile.list(layout.trustDirectory) where name.hasSuffix(".pem") && !name.hasSuffix(".crl.pem") {
            let fingerprint = String(name.dropLast(4))
            let path = layout.trustedRoot(fingerprint: fingerprint)
            let certificate = try loadCertificate(path)
            let crlPath = layout.trustedRootCRL(fingerprint: fingerprint)
            var crl: CertificateRevocationList?
            if SecureFile.exists(crlPath) {
                let text = try SecureFile.readText(crlPath)
                crl = try openSSL("read \(crlPath)") { () throws(PKIError) in try CertificateRevocationList(pemEncoded: text) }
            }
            roots.append(TrustedRoot(
                fingerprint: fingerprint, certificate: certificate, revocationList: crl, path: path,
                revocationListPath: crl == nil ? nil : crlPath, crlRequirement: try readCRLRequirement(fingerprint: fingerprint)))
        }
        return roots
    }

    /// The stored choice; a root stored without one (before the choice existed) needs its CRL.
    /// Anything but `required` or `optional` is refused rather than guessed.
    private func readCRLRequirement(fingerprint: String) throws(PKIStoreError) -> CRLRequirement {
        let path = layout.trustedRootCRLRequirement(fingerprint: fingerprint)
        guard SecureFile.exists(path) else { return .required }
        let text = String(try SecureFile.readText(path).filter { !$0.isWhitespace })
        guard let requirement = CRLRequirement(rawValue: text) else {
            throw PKIStoreError(.inconsistentState, "\(path) holds '\(text)'; expected required or optional")
        }
        return requirement
    }

    /// A root by full fingerprint or unique prefix of at least 8 hex digits (colons and case ignored).
    func findTrustedRoot(_ fingerprint: String) throws(PKIStoreError) -> TrustedRoot {
        let wanted = fingerprint.filter { $0 != ":" }.uppercased()
        guard wanted.count >= 8, wanted.allSatisfy(\.isHexDigit) else {
            throw PKIStoreError(.invalidInput, "'\(fingerprint)' is not a SHA-256 fingerprint (at least 8 hex digits)")
        }
        let matches = try readTrustedRoots().filter { $0.fingerprint.hasPrefix(wanted) }
        guard matches.count == 1 else {
            throw matches.isEmpty
                ? PKIStoreError(.notFound, "no trusted root has fingerprint \(wanted)")
                : PKIStoreError(.invalidInput, "\(wanted) matches \(matches.count) trusted roots; give more digits")
        }
        return matches[0]
    }

    private func checkedCRL(_ pem: String, for root: Certificate) throws(PKIStoreError) -> CertificateRevocationList {
        let crl = try openSSL("read the CRL") { () throws(PKIError) in try CertificateRevocationList(pemEncoded: pem) }
        guard crl.verifySignature(issuer: root) else {
            throw PKIStoreError(.invalidInput, "the CRL (issuer \(crl.issuer)) is not signed by \(root.subject)")
        }
        if let next = crl.nextUpdate, next < now {
            throw PKIStoreError(.policyViolation, "the CRL of \(root.subject) expired on \(next) (nextUpdate)")
        }
        return crl
    }

    /// Rewrites the CA bundle: the edge CA first, then every trusted root.
    func writeBundle(authority: Certificate) throws(PKIStoreError) {
        try writeCertificates([authority] + readTrustedRoots().map(\.certificate), to: layout.caBundle)
    }
}
