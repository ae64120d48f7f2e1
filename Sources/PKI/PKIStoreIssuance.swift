/// Device certificates: issuance from a CSR or a generated key, and revocation.
extension PKIStore {

    /// Where a device certificate's key comes from.
    public enum DeviceKey: Sendable {
        /// The device's signing request: it keeps its private key.
        case request(CertificateSigningRequest)
        /// A key generated here and returned once to the caller (who writes it 0600 for the
        /// device); the store keeps only the certificate.
        case generate(KeySpec)
    }

    /// A device certificate just issued.
    public struct IssuedDevice: Sendable {
        public var certificate: Certificate
        /// The generated private key; `nil` when issued from a CSR.
        public var privateKey: PrivateKey?
        public var record: IssuedCertificateRecord
        /// The edge CA, for the device's trust store.
        public var authority: Certificate
    }

    /// Issues a device certificate: CN = `name`, clientAuth, optional SAN URI. A CSR must carry a
    /// valid self-signature, a key the policy accepts, and either no CN or CN = `name`.
    public func issueDevice(name: String, key: DeviceKey, uri: String? = nil, validityDays: Int? = nil) throws(PKIStoreError) -> IssuedDevice {
        do { try DeviceName.validate(name) } catch { throw PKIStoreError(error, while: "issue a certificate") }
        if let days = validityDays, days < 1 { throw PKIStoreError(.invalidInput, "validity of \(days) days: must be at least 1") }
        let lock = try exclusiveLock()
        defer { lock.release() }
        let authority = try loadAuthority()
        let authorityViolations = settings.policy.violations(of: authority.certificate).filter { $0.code == .expired || $0.code == .notYetValid }
        guard authorityViolations.isEmpty else {
            throw PKIStoreError(.policyViolation, "the edge CA cannot issue: it " + authorityViolations.map(\.description).joined(separator: "; "))
        }

        let publicKey: PublicKey
        var privateKey: PrivateKey?
        let source: IssuedCertificateRecord.KeySource
        switch key {
        case .request(let request):
            guard request.verifySignature(), let requested = request.publicKey else {
                throw PKIStoreError(.invalidInput, "the CSR's signature does not verify with its own key (no proof of possession)")
            }
            if let commonName = request.subjectCommonName, commonName != name {
                throw PKIStoreError(.invalidInput, "the CSR is for CN=\(commonName), not for device \(name)")
            }
            let violations = settings.policy.violations(of: requested)
            guard violations.isEmpty else {
                throw PKIStoreError(.policyViolation, "CSR refused: " + violations.map(\.description).joined(separator: "; "))
            }
            publicKey = requested
            source = .request
        case .generate(let spec):
            let generated = try openSSL("generate a \(spec) key") { () throws(PKIError) in try PrivateKey(generating: spec) }
            let violations = settings.policy.violations(of: generated)
            guard violations.isEmpty else {
                throw PKIStoreError(.policyViolation, "\(spec) key refused: " + violations.map(\.description).joined(separator: "; "))
            }
            publicKey = generated.publicKey
            privateKey = generated
            source = .generated
        }

        let certificate = try openSSL("issue a certificate for \(name)") { () throws(PKIError) in
            try authority.issueDeviceCertificate(
                name: name, uri: uri, organization: settings.organization, for: publicKey,
                validity: validity(days: validityDays ?? settings.deviceValidityDays, authority: authority))
        }
        try writeCertificates([certificate], to: layout.issuedCertificate(serial: certificate.serialNumber))
        var records = try readIndex()
        let entry = record(for: certificate, kind: .device, name: name, keySource: source)
        records.append(entry)
        try writeIndex(records)
        return IssuedDevice(certificate: certificate, privateKey: privateKey, record: entry, authority: authority.certificate)
    }

    // MARK: Revocation

    /// Revokes one device certificate by serial (hex, any case, colons allowed) and re-signs the CRL.
    @discardableResult
    public func revoke(serial: String, reason: CertificateRevocationList.Reason = .unspecified) throws(PKIStoreError) -> IssuedCertificateRecord {
        guard let canonical = OpenSSLValues.canonicalSerial(serial) else {
            throw PKIStoreError(.invalidInput, "'\(serial)' is not a hexadecimal serial number")
        }
        let lock = try exclusiveLock()
        defer { lock.release() }
        let authority = try loadAuthority()
        var records = try readIndex()
        guard let index = records.firstIndex(where: { $0.serialNumber == canonical }) else {
            throw PKIStoreError(.notFound, "no certificate with serial \(canonical) was issued by this edge")
        }
        try checkRevocable(records[index])
        records[index].revocation = .init(date: now, reason: reason)
        try writeIndex(records)
        _ = try writeCRL(authority: authority, records: records, number: nextCRLNumber())
        return records[index]
    }

    /// Revokes every valid certificate of a device and re-signs the CRL.
    @discardableResult
    public func revoke(device name: String, reason: CertificateRevocationList.Reason = .unspecified) throws(PKIStoreError) -> [IssuedCertificateRecord] {
        let lock = try exclusiveLock()
        defer { lock.release() }
        let authority = try loadAuthority()
        var records = try readIndex()
        let indices = records.indices.filter { records[$0].kind == .device && records[$0].name == name && records[$0].revocation == nil }
        guard !indices.isEmpty else {
            throw PKIStoreError(.notFound, "device \(name) has no unrevoked certificate")
        }
        let date = now
        for index in indices { records[index].revocation = .init(date: date, reason: reason) }
        try writeIndex(records)
        _ = try writeCRL(authority: authority, records: records, number: nextCRLNumber())
        return indices.map { records[$0] }
    }

    private func checkRevocable(_ record: IssuedCertificateRecord) throws(PKIStoreError) {
        if let revocation = record.revocation {
            throw PKIStoreError(.alreadyExists, "certificate \(record.serialNumber) (\(record.name)) was already revoked on \(revocation.date)")
        }
        switch record.kind {
        case .device: return
        case .authority:
            throw PKIStoreError(.invalidInput, "certificate \(record.serialNumber) is the edge CA itself; it cannot revoke itself")
        case .server, .trustListSigner:
            throw PKIStoreError(.invalidInput,
                "certificate \(record.serialNumber) is the edge's \(record.kind.rawValue.uppercased()) certificate; reissue it instead of revoking it")
        }
    }
}
