/// The edge's PKI on disk: its CA, its SRST server certificate, its SAST trust-list signer, the
/// device certificates it issued (with an index and a CRL) and the external roots it trusts.
///
/// Every operation takes the store's lock file (`flock`: exclusive to change, shared to read), so
/// concurrent `outpost pki …` invocations and the running edge never see half a change; every file
/// is replaced atomically. The store never logs or prints key material: it has no logger at all,
/// and its errors name files and certificates, never key bytes.
public struct PKIStore: Sendable {
    /// Key types, lifetimes and policy. Defaults: CA EC P-384 for 10 years; SRST server RSA-2048
    /// for 825 days (RSA because older phones accept nothing else for the SRST reference); devices
    /// 5 years; SAST RSA-2048 for 5 years; CRL valid 30 days; expiry reported 30 days ahead.
    public struct Settings: Sendable {
        public var organization: String?
        public var authorityKey: KeySpec
        public var authorityValidityDays: Int
        public var serverKey: KeySpec
        public var serverValidityDays: Int
        public var deviceKey: KeySpec
        public var deviceValidityDays: Int
        public var trustListSignerValidityDays: Int
        public var crlValidityDays: Int
        public var expiryWarningDays: Int
        /// Applied to CSR keys, generated keys, trusted roots and their CRLs; its clock is the
        /// store's clock.
        public var policy: CertificatePolicy

        public init(
            organization: String? = "Outpost", authorityKey: KeySpec = .ecP384, authorityValidityDays: Int = 3652,
            serverKey: KeySpec = .rsa2048, serverValidityDays: Int = 825, deviceKey: KeySpec = .rsa2048,
            deviceValidityDays: Int = 1826, trustListSignerValidityDays: Int = 1826, crlValidityDays: Int = 30,
            expiryWarningDays: Int = 30, policy: CertificatePolicy = CertificatePolicy()
        ) {
            self.organization = organization
            self.authorityKey = authorityKey
            self.authorityValidityDays = authorityValidityDays
            self.serverKey = serverKey
            self.serverValidityDays = serverValidityDays
            self.deviceKey = deviceKey
            self.deviceValidityDays = deviceValidityDays
            self.trustListSignerValidityDays = trustListSignerValidityDays
            self.crlValidityDays = crlValidityDays
            self.expiryWarningDays = expiryWarningDays
            self.policy = policy
        }
    }

    public let stateDirectory: String
    public let layout: PKIStoreLayout
    public let settings: Settings

    public init(stateDirectory: String, settings: Settings = Settings()) {
        self.stateDirectory = stateDirectory
        self.layout = PKIStoreLayout(stateDirectory: stateDirectory)
        self.settings = settings
    }

    var now: PKITime { settings.policy.clock() }

    // MARK: Initialisation

    /// What `initialise` found and did.
    public struct InitialisationReport: Sendable {
        /// Items created by this run (`edge CA`, `SRST certificate`, …); empty on a second run.
        public var created: [String]
        /// Items that already existed and were left as they were.
        public var existing: [String]
        /// Differences worth an operator's attention (for example requested names the existing
        /// SRST certificate does not carry).
        public var warnings: [String]
        public var authority: Certificate
        public var server: Certificate
        public var trustListSigner: Certificate

        /// Whether this run changed anything on disk.
        public var changedAnything: Bool { !created.isEmpty }
    }

    /// Whether the edge CA exists (the state directory has been initialised).
    public var isInitialised: Bool {
        SecureFile.exists(layout.authorityCertificate) && SecureFile.exists(layout.authorityKey)
    }

    /// Creates what is missing of the edge CA, the SRST server certificate (SANs: `names` as DNS,
    /// `addresses` as IP), the SAST signer, the CRL and the CA bundle. Idempotent: a second run
    /// changes nothing and reports what exists. Refuses to create a new CA next to certificates
    /// issued by a previous one.
    public func initialise(names: [String], addresses: [String]) throws(PKIStoreError) -> InitialisationReport {
        guard !names.isEmpty || !addresses.isEmpty else {
            throw PKIStoreError(.invalidInput, "the SRST certificate needs at least one name or address")
        }
        try validate(names: names, addresses: addresses)
        try SecureFile.makeDirectory(stateDirectory, tightenExisting: false)
        for directory in layout.directories { try SecureFile.makeDirectory(directory) }
        let lock = try StoreLock(path: layout.lockFile, exclusive: true)
        defer { lock.release() }

        var created: [String] = []
        var existing: [String] = []
        var warnings: [String] = []
        var records = try readIndex()
        let label = names.first ?? addresses[0]

        // The CA.
        let authority: CertificateAuthority
        switch (SecureFile.exists(layout.authorityCertificate), SecureFile.exists(layout.authorityKey)) {
        case (true, true):
            authority = try loadAuthority()
            existing.append("edge CA \(authority.certificate.subject)")
        case (false, false):
            let others = [layout.serverCertificate, layout.signerCertificate, layout.index, layout.revocationList]
                .filter(SecureFile.exists)
            guard others.isEmpty else {
                throw PKIStoreError(.inconsistentState,
                    "\(layout.authorityDirectory) has no CA but \(others.joined(separator: ", ")) exist; refusing to create a new CA over them")
            }
            authority = try openSSL("create the edge CA") { () throws(PKIError) in
                let key = try PrivateKey(generating: settings.authorityKey)
                return try CertificateAuthority.createRoot(
                    subject: DistinguishedName(commonName: "Outpost Edge CA \(label)", organization: settings.organization),
                    key: key, validity: .days(settings.authorityValidityDays, now: now))
            }
            try SecureFile.writePrivateKey(authority.privateKey, to: layout.authorityKey)
            try writeCertificates([authority.certificate], to: layout.authorityCertificate)
            try writeCertificates([authority.certificate], to: layout.issuedCertificate(serial: authority.certificate.serialNumber))
            records.append(record(for: authority.certificate, kind: .authority, name: authority.certificate.subjectCommonName ?? label))
            created.append("edge CA \(authority.certificate.subject)")
        case (let hasCertificate, _):
            throw PKIStoreError(.inconsistentState,
                "\(hasCertificate ? layout.authorityKey : layout.authorityCertificate) is missing while its pair exists; restore it or empty \(layout.root)")
        }

        // The SRST server certificate.
        let server: Certificate
        if let present = try loadPair(certificate: layout.serverCertificate, key: layout.serverKey, what: "SRST certificate", authority: authority) {
            server = present
            existing.append("SRST certificate \(server.subject)")
            let has = Set(server.subjectAlternativeNames)
            let wanted = names.map(SubjectAlternativeName.dns) + addresses.map(SubjectAlternativeName.ipAddress)
            let missing = wanted.filter { !has.contains($0) }
            if !missing.isEmpty {
                warnings.append("the SRST certificate does not carry \(missing.map(\.description).joined(separator: ", ")); reissue it to add them")
            }
            if !SecureFile.exists(layout.serverChain) {
                try writeCertificates([server, authority.certificate], to: layout.serverChain)
                created.append("SRST certificate chain \(layout.serverChain)")
            }
        } else {
            server = try issueServer(names: names, addresses: addresses, authority: authority, records: &records)
            created.append("SRST certificate \(server.subject)")
        }

        // The SAST trust-list signer.
        let signer: Certificate
        if let present = try loadPair(certificate: layout.signerCertificate, key: layout.signerKey, what: "SAST certificate", authority: authority) {
            signer = present
            existing.append("SAST certificate \(signer.subject)")
        } else {
            signer = try issueSigner(label: label, authority: authority, records: &records)
            created.append("SAST certificate \(signer.subject)")
        }

        if !created.isEmpty { try writeIndex(records) }

        if SecureFile.exists(layout.revocationList) {
            existing.append("CRL")
        } else {
            _ = try writeCRL(authority: authority, records: records, number: 1)
            created.append("CRL")
        }
        if SecureFile.exists(layout.caBundle) {
            existing.append("CA bundle")
        } else {
            try writeBundle(authority: authority.certificate)
            created.append("CA bundle")
        }
        return InitialisationReport(
            created: created, existing: existing, warnings: warnings, authority: authority.certificate, server: server,
            trustListSigner: signer)
    }

    /// Issues a new SRST server certificate with a new key for `names` and `addresses`, replacing
    /// the current one (which stays in the index as superseded, and valid until it expires).
    public func reissueServerCertificate(names: [String], addresses: [String]) throws(PKIStoreError) -> Certificate {
        guard !names.isEmpty || !addresses.isEmpty else {
            throw PKIStoreError(.invalidInput, "the SRST certificate needs at least one name or address")
        }
        try validate(names: names, addresses: addresses)
        let lock = try exclusiveLock()
        defer { lock.release() }
        let authority = try loadAuthority()
        var records = try readIndex()
        for index in records.indices where records[index].kind == .server && !records[index].superseded {
            records[index].superseded = true
        }
        let server = try issueServer(names: names, addresses: addresses, authority: authority, records: &records)
        try writeIndex(records)
        return server
    }

    func issueServer(
        names: [String], addresses: [String], authority: CertificateAuthority, records: inout [IssuedCertificateRecord]
    ) throws(PKIStoreError) -> Certificate {
        let (certificate, key) = try openSSL("issue the SRST certificate") { () throws(PKIError) in
            let key = try PrivateKey(generating: settings.serverKey)
            let certificate = try authority.issueServerCertificate(
                dnsNames: names, ipAddresses: addresses, organization: settings.organization, for: key.publicKey,
                validity: validity(days: settings.serverValidityDays, authority: authority))
            return (certificate, key)
        }
        try SecureFile.writePrivateKey(key, to: layout.serverKey, overwrite: true)
        try writeCertificates([certificate], to: layout.serverCertificate)
        try writeCertificates([certificate, authority.certificate], to: layout.serverChain)
        try writeCertificates([certificate], to: layout.issuedCertificate(serial: certificate.serialNumber))
        records.append(record(for: certificate, kind: .server, name: certificate.subjectCommonName ?? ""))
        return certificate
    }

    func issueSigner(label: String, authority: CertificateAuthority, records: inout [IssuedCertificateRecord]) throws(PKIStoreError) -> Certificate {
        let (certificate, key) = try openSSL("issue the SAST certificate") { () throws(PKIError) in
            let key = try PrivateKey(generating: .rsa2048)
            let certificate = try authority.issueTrustListSignerCertificate(
                commonName: "Outpost SAST \(label)", organization: settings.organization, for: key.publicKey,
                validity: validity(days: settings.trustListSignerValidityDays, authority: authority))
            return (certificate, key)
        }
        try SecureFile.writePrivateKey(key, to: layout.signerKey, overwrite: true)
        try writeCertificates([certificate], to: layout.signerCertificate)
        try writeCertificates([certificate], to: layout.issuedCertificate(serial: certificate.serialNumber))
        records.append(record(for: certificate, kind: .trustListSigner, name: certificate.subjectCommonName ?? ""))
        return certificate
    }

    // MARK: Reading

    /// Every certificate the edge CA issued, in issuance order.
    public func records() throws(PKIStoreError) -> [IssuedCertificateRecord] {
        let lock = try sharedLock()
        defer { lock.release() }
        guard isInitialised else { throw notInitialised() }
        return try readIndex()
    }

    /// One issued certificate by serial.
    public func certificate(serial: String) throws(PKIStoreError) -> (record: IssuedCertificateRecord, certificate: Certificate) {
        guard let canonical = OpenSSLValues.canonicalSerial(serial) else {
            throw PKIStoreError(.invalidInput, "'\(serial)' is not a hexadecimal serial number")
        }
        let lock = try sharedLock()
        defer { lock.release() }
        guard let record = try readIndex().first(where: { $0.serialNumber == canonical }) else {
            throw PKIStoreError(.notFound, "no certificate with serial \(canonical) was issued by this edge")
        }
        return (record, try loadCertificate(layout.issuedCertificate(serial: canonical)))
    }

    /// Every certificate issued to a device, oldest first.
    public func certificates(device name: String) throws(PKIStoreError) -> [(record: IssuedCertificateRecord, certificate: Certificate)] {
        let lock = try sharedLock()
        defer { lock.release() }
        var found: [(record: IssuedCertificateRecord, certificate: Certificate)] = []
        for record in try readIndex() where record.kind == .device && record.name == name {
            found.append((record, try loadCertificate(layout.issuedCertificate(serial: record.serialNumber))))
        }
        guard !found.isEmpty else { throw PKIStoreError(.notFound, "no certificate was issued to device \(name)") }
        return found
    }

    /// The edge CA's certificate.
    public func authorityCertificate() throws(PKIStoreError) -> Certificate {
        let lock = try sharedLock()
        defer { lock.release() }
        return try loadCertificate(layout.authorityCertificate)
    }

    /// The current SRST server certificate.
    public func serverCertificate() throws(PKIStoreError) -> Certificate {
        let lock = try sharedLock()
        defer { lock.release() }
        return try loadCertificate(layout.serverCertificate)
    }

    /// The SAST certificate alone (its key stays on disk).
    public func trustListSignerCertificate() throws(PKIStoreError) -> Certificate {
        let lock = try sharedLock()
        defer { lock.release() }
        return try loadCertificate(layout.signerCertificate)
    }

    /// The SAST certificate and key that sign trust lists.
    public func trustListSigner() throws(PKIStoreError) -> SigningIdentity {
        let lock = try sharedLock()
        defer { lock.release() }
        let certificate = try loadCertificate(layout.signerCertificate)
        let key = try loadKey(layout.signerKey)
        return try openSSL("load the SAST identity") { () throws(PKIError) in try SigningIdentity(certificate: certificate, privateKey: key) }
    }

    // MARK: Helpers

    func exclusiveLock() throws(PKIStoreError) -> StoreLock {
        guard SecureFile.isDirectory(layout.root) else { throw notInitialised() }
        return try StoreLock(path: layout.lockFile, exclusive: true)
    }

    func sharedLock() throws(PKIStoreError) -> StoreLock {
        guard SecureFile.isDirectory(layout.root) else { throw notInitialised() }
        return try StoreLock(path: layout.lockFile, exclusive: false)
    }

    func notInitialised() -> PKIStoreError {
        PKIStoreError(.notInitialised, "\(stateDirectory) has no PKI; run `outpost pki init --state-dir \(stateDirectory)` first")
    }

    func openSSL<T>(_ doing: String, _ body: () throws(PKIError) -> T) throws(PKIStoreError) -> T {
        do { return try body() } catch { throw PKIStoreError(error, while: doing) }
    }

    func validate(names: [String], addresses: [String]) throws(PKIStoreError) {
        let entries = names.map(SubjectAlternativeName.dns) + addresses.map(SubjectAlternativeName.ipAddress)
        try openSSL("check the SRST names") { () throws(PKIError) in
            try OpenSSLValues.validate(entries, operation: "SRST names")
        }
    }

    func validity(days: Int, authority: CertificateAuthority) -> Validity {
        var validity = Validity.days(days, now: now)
        // Never outlive the CA.
        if authority.certificate.notAfter < validity.notAfter { validity.notAfter = authority.certificate.notAfter }
        return validity
    }

    func record(
        for certificate: Certificate, kind: IssuedCertificateRecord.Kind, name: String,
        keySource: IssuedCertificateRecord.KeySource = .generated
    ) -> IssuedCertificateRecord {
        IssuedCertificateRecord(
            serialNumber: certificate.serialNumber, kind: kind, name: name, notBefore: certificate.notBefore,
            notAfter: certificate.notAfter, keySource: keySource)
    }

    func loadAuthority() throws(PKIStoreError) -> CertificateAuthority {
        guard isInitialised else { throw notInitialised() }
        let certificate = try loadCertificate(layout.authorityCertificate)
        let key = try loadKey(layout.authorityKey)
        return try openSSL("load the edge CA") { () throws(PKIError) in try CertificateAuthority(certificate: certificate, privateKey: key) }
    }

    /// The certificate at `certificate` when it and its key exist, match, and were issued by
    /// `authority`; `nil` when neither exists.
    func loadPair(certificate path: String, key keyPath: String, what: String, authority: CertificateAuthority) throws(PKIStoreError) -> Certificate? {
        switch (SecureFile.exists(path), SecureFile.exists(keyPath)) {
        case (false, false): return nil
        case (true, true): break
        case (let hasCertificate, _):
            throw PKIStoreError(.inconsistentState, "\(hasCertificate ? keyPath : path) is missing while its pair exists")
        }
        let certificate = try loadCertificate(path)
        let key = try loadKey(keyPath)
        guard certificate.matches(key) else {
            throw PKIStoreError(.inconsistentState, "\(keyPath) is not the key of the \(what) \(path)")
        }
        guard certificate.verifySignature(issuer: authority.certificate) else {
            throw PKIStoreError(.inconsistentState, "the \(what) \(path) was not issued by the edge CA")
        }
        return certificate
    }

    func loadCertificate(_ path: String) throws(PKIStoreError) -> Certificate {
        guard SecureFile.exists(path) else {
            throw isInitialised ? PKIStoreError(.inconsistentState, "\(path) is missing") : notInitialised()
        }
        let text = try SecureFile.readText(path)
        return try openSSL("read \(path)") { () throws(PKIError) in try Certificate(pemEncoded: text) }
    }

    func loadKey(_ path: String) throws(PKIStoreError) -> PrivateKey {
        if let mode = SecureFile.permissions(of: path), mode & 0o077 != 0 {
            throw PKIStoreError(.inconsistentState, "\(path) has mode \(String(mode, radix: 8)); a private key must not be readable by others (chmod 600)")
        }
        let text = try SecureFile.readText(path)
        return try openSSL("read the key \(path)") { () throws(PKIError) in try PrivateKey(pemEncoded: text) }
    }

    func writeCertificates(_ certificates: [Certificate], to path: String) throws(PKIStoreError) {
        var pem = ""
        for certificate in certificates {
            pem += try openSSL("encode \(certificate.subject)") { () throws(PKIError) in try certificate.pemEncoded() }
        }
        try SecureFile.write(pem, to: path, mode: SecureFile.publicMode)
    }

    func readIndex() throws(PKIStoreError) -> [IssuedCertificateRecord] {
        guard SecureFile.exists(layout.index) else { return [] }
        return try IssuedCertificateRecord.parse(index: try SecureFile.readText(layout.index), path: layout.index)
    }

    func writeIndex(_ records: [IssuedCertificateRecord]) throws(PKIStoreError) {
        try SecureFile.write(IssuedCertificateRecord.serialize(records), to: layout.index, mode: SecureFile.publicMode)
    }
}
