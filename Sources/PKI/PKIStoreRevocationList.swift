/// The edge CA's CRL: signed at initialisation, re-signed on every revocation and when due.
extension PKIStore {

    /// The edge CA's current CRL.
    public func revocationList() throws(PKIStoreError) -> CertificateRevocationList {
        let lock = try sharedLock()
        defer { lock.release() }
        return try loadCRL()
    }

    /// Re-signs the CRL (entries from the index, next number, fresh thisUpdate/nextUpdate) when
    /// `force`, when less than half its validity is left, or when it does not list exactly the
    /// revocations of the index (a revocation interrupted between the two writes). The running
    /// edge calls this daily; TLS peers checking CRLs refuse everything once nextUpdate has passed.
    @discardableResult
    public func refreshRevocationList(force: Bool = false) throws(PKIStoreError) -> (crl: CertificateRevocationList, renewed: Bool) {
        let lock = try exclusiveLock()
        defer { lock.release() }
        let current = try loadCRL()
        let records = try readIndex()
        let halfLife = Int64(settings.crlValidityDays) * 86_400 / 2
        let due = current.nextUpdate.map { $0.seconds(since: now) < halfLife } ?? true
        let listed = Set(current.entries.map(\.serialNumber))
        let revoked = Set(records.filter { $0.revocation != nil }.map(\.serialNumber))
        guard force || due || listed != revoked else {
            return (current, false)
        }
        let authority = try loadAuthority()
        let renewed = try writeCRL(authority: authority, records: records, number: (current.number ?? 0) + 1)
        return (renewed, true)
    }

    func nextCRLNumber() throws(PKIStoreError) -> Int {
        guard SecureFile.exists(layout.revocationList) else { return 1 }
        return (try loadCRL().number ?? 0) + 1
    }

    func writeCRL(authority: CertificateAuthority, records: [IssuedCertificateRecord], number: Int) throws(PKIStoreError) -> CertificateRevocationList {
        let entries = records.compactMap { record in
            record.revocation.map { CertificateRevocationList.Entry(serialNumber: record.serialNumber, revocationDate: $0.date, reason: $0.reason) }
        }
        let thisUpdate = now
        let crl = try openSSL("sign the CRL") { () throws(PKIError) in
            try CertificateRevocationList.build(
                authority: authority, entries: entries, number: number, thisUpdate: thisUpdate,
                nextUpdate: thisUpdate.adding(days: settings.crlValidityDays))
        }
        let pem = try openSSL("encode the CRL") { () throws(PKIError) in try crl.pemEncoded() }
        try SecureFile.write(pem, to: layout.revocationList, mode: SecureFile.publicMode)
        return crl
    }

    func loadCRL() throws(PKIStoreError) -> CertificateRevocationList {
        guard SecureFile.exists(layout.revocationList) else { throw notInitialised() }
        let text = try SecureFile.readText(layout.revocationList)
        return try openSSL("read \(layout.revocationList)") { () throws(PKIError) in try CertificateRevocationList(pemEncoded: text) }
    }
}
