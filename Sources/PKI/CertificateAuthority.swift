internal import COpenSSL
internal import COutpostShims.OpenSSL

/// A certificate authority: a CA certificate and its private key, which issues certificates
/// (random 128-bit serials, subject and authority key identifiers) and signs CRLs.
///
/// Mechanism only: it issues what it is asked to. Whether a request's key or a certificate is
/// acceptable is `CertificatePolicy`'s decision, applied by `PKIStore`.
public final class CertificateAuthority: Sendable {
    public let certificate: Certificate
    public let privateKey: PrivateKey

    /// An existing CA. Refuses a certificate that is not a CA or whose key is not `privateKey`.
    public init(certificate: Certificate, privateKey: PrivateKey) throws(PKIError) {
        guard certificate.isCertificateAuthority else {
            throw .refused(.invalidInput, operation: "CertificateAuthority", reason: "\(certificate.subject) is not a CA certificate")
        }
        guard certificate.matches(privateKey) else {
            throw .refused(.invalidInput, operation: "CertificateAuthority", reason: "the private key does not belong to \(certificate.subject)")
        }
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// A new self-signed root, by default an EC P-384 key valid 10 years, path length 0,
    /// keyCertSign|cRLSign.
    public static func createRoot(
        subject: DistinguishedName, key: PrivateKey? = nil, validity: Validity = .days(3652), pathLength: Int? = 0
    ) throws(PKIError) -> CertificateAuthority {
        let key = if let key { key } else { try PrivateKey(generating: .ecP384) }
        let profile = CertificateProfile.rootAuthority(subject: subject, validity: validity, pathLength: pathLength)
        let certificate = try X509Builder.build(profile: profile, publicKey: key.publicKey, issuer: nil, signer: key, digest: nil)
        return try CertificateAuthority(certificate: certificate, privateKey: key)
    }

    /// Issues a certificate for `publicKey` as `profile` describes it. `digest` defaults to
    /// SHA-256 (SHA-384 for a P-384 CA key).
    public func issue(_ profile: CertificateProfile, for publicKey: PublicKey, digest: DigestAlgorithm? = nil) throws(PKIError) -> Certificate {
        try X509Builder.build(profile: profile, publicKey: publicKey, issuer: certificate, signer: privateKey, digest: digest)
    }

    /// The edge/SRST server certificate (SANs DNS + IP; serverAuth and clientAuth).
    public func issueServerCertificate(
        commonName: String? = nil, dnsNames: [String], ipAddresses: [String], organization: String? = nil,
        for publicKey: PublicKey, validity: Validity
    ) throws(PKIError) -> Certificate {
        guard let name = commonName ?? dnsNames.first ?? ipAddresses.first else {
            throw .refused(.invalidInput, operation: "issue server certificate", reason: "no DNS name or IP address to certify")
        }
        let profile = CertificateProfile.server(
            subject: DistinguishedName(commonName: name, organization: organization), dnsNames: dnsNames,
            ipAddresses: ipAddresses, keyAlgorithm: publicKey.algorithm, validity: validity)
        return try issue(profile, for: publicKey)
    }

    /// A device certificate (CN = `name`, clientAuth, optional SAN URI).
    public func issueDeviceCertificate(
        name: String, uri: String? = nil, organization: String? = nil, for publicKey: PublicKey, validity: Validity
    ) throws(PKIError) -> Certificate {
        try DeviceName.validate(name, operation: "issue device certificate")
        let profile = CertificateProfile.device(
            name: name, uri: uri, organization: organization, keyAlgorithm: publicKey.algorithm, validity: validity)
        return try issue(profile, for: publicKey)
    }

    /// The SAST trust-list signing certificate. Its key must be RSA (Cisco trust lists carry RSA
    /// PKCS#1 v1.5 signatures).
    public func issueTrustListSignerCertificate(
        commonName: String, organization: String? = nil, for publicKey: PublicKey, validity: Validity
    ) throws(PKIError) -> Certificate {
        guard publicKey.algorithm == .rsa else {
            throw .refused(.invalidInput, operation: "issue SAST certificate", reason: "a trust-list signer needs an RSA key, not \(publicKey.algorithm)")
        }
        let profile = CertificateProfile.trustListSigner(
            subject: DistinguishedName(commonName: commonName, organization: organization), validity: validity)
        return try issue(profile, for: publicKey)
    }
}

/// Rules for device names (a certificate CN and an index key).
public enum DeviceName {
    /// 1–64 characters (the X.520 commonName bound), no control characters, no leading or
    /// trailing space.
    public static func validate(_ name: String, operation: String = "device name") throws(PKIError) {
        guard !name.isEmpty, name.count <= 64, !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }),
              name.first != " ", name.last != " "
        else {
            throw .refused(.invalidInput, operation: operation, reason: "'\(name)' is not a valid device name (1–64 characters, no control characters)")
        }
    }
}

/// Assembles and signs an `X509`.
enum X509Builder {
    static func build(
        profile: CertificateProfile, publicKey: PublicKey, issuer: Certificate?, signer: PrivateKey, digest: DigestAlgorithm?
    ) throws(PKIError) -> Certificate {
        let operation = "issue \(profile.subject)"
        OpenSSLErrorQueue.clear()
        guard profile.validity.notBefore < profile.validity.notAfter else {
            throw .refused(.invalidInput, operation: operation, reason: "notBefore \(profile.validity.notBefore) is not before notAfter \(profile.validity.notAfter)")
        }
        for name in profile.subjectAlternativeNames { try name.validate(operation: operation) }
        guard let x509 = X509_new() else {
            throw .drainingOpenSSLQueue(.allocationFailed, operation: "\(operation): X509_new")
        }
        var owned: OpaquePointer? = x509
        defer { if let owned { X509_free(owned) } }

        guard X509_set_version(x509, 2) == 1 else {
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): X509_set_version")
        }
        let serial = try OpenSSLValues.randomSerial(operation: operation)
        defer { ASN1_INTEGER_free(serial) }
        let subject = try OpenSSLValues.makeName(profile.subject, operation: operation)
        defer { X509_NAME_free(subject) }
        let notBefore = try OpenSSLValues.makeTime(profile.validity.notBefore, operation: operation)
        defer { ASN1_TIME_free(notBefore) }
        let notAfter = try OpenSSLValues.makeTime(profile.validity.notAfter, operation: operation)
        defer { ASN1_TIME_free(notAfter) }
        let issuerName = issuer.map { X509_get_subject_name($0.pointer) } ?? subject
        guard X509_set_serialNumber(x509, serial) == 1,
              X509_set_subject_name(x509, subject) == 1,
              X509_set_issuer_name(x509, issuerName) == 1,
              X509_set1_notBefore(x509, notBefore) == 1,
              X509_set1_notAfter(x509, notAfter) == 1,
              X509_set_pubkey(x509, publicKey.pointer) == 1
        else {
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): X509_set_*")
        }

        // Extensions, in the order OpenSSL's own tools write them.
        let issuerPointer = issuer?.pointer ?? x509
        var basic = profile.isCertificateAuthority ? "critical,CA:TRUE" : "critical,CA:FALSE"
        if profile.isCertificateAuthority, let pathLength = profile.pathLength { basic += ",pathlen:\(pathLength)" }
        try add(NID_basic_constraints, basic, to: x509, issuer: issuerPointer, operation: operation)
        if !profile.keyUsage.isEmpty {
            try add(NID_key_usage, "critical,\(profile.keyUsage)", to: x509, issuer: issuerPointer, operation: operation)
        }
        if !profile.extendedKeyUsages.isEmpty {
            let usages = profile.extendedKeyUsages.map(\.oid).joined(separator: ",")
            try add(NID_ext_key_usage, usages, to: x509, issuer: issuerPointer, operation: operation)
        }
        try add(NID_subject_key_identifier, "hash", to: x509, issuer: issuerPointer, operation: operation)
        try add(NID_authority_key_identifier, "keyid:always", to: x509, issuer: issuerPointer, operation: operation)
        if !profile.subjectAlternativeNames.isEmpty {
            let names = try OpenSSLValues.makeGeneralNames(profile.subjectAlternativeNames, operation: operation)
            defer { outpost_pki_GENERAL_NAMES_free(names) }
            guard X509_add1_ext_i2d(x509, NID_subject_alt_name, UnsafeMutableRawPointer(names), 0, UInt(X509V3_ADD_DEFAULT)) == 1 else {
                throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): subjectAltName")
            }
        }

        let md = (digest ?? KeyFacts.defaultDigest(for: signer.pointer)).evpMD
        guard X509_sign(x509, signer.pointer, md) > 0 else {
            throw .drainingOpenSSLQueue(.signingFailed, operation: "\(operation): X509_sign")
        }
        owned = nil
        return try Certificate(taking: x509, operation: operation)
    }

    private static func add(_ nid: Int32, _ value: String, to x509: OpaquePointer, issuer: OpaquePointer, operation: String) throws(PKIError) {
        guard let extensionObject = outpost_pki_extension(issuer, x509, nil, nil, nid, value) else {
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): X509V3_EXT_conf_nid(\(OpenSSLValues.longName(nid: nid)), \(value))")
        }
        defer { X509_EXTENSION_free(extensionObject) }
        guard X509_add_ext(x509, extensionObject, -1) == 1 else {
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): X509_add_ext(\(OpenSSLValues.longName(nid: nid)))")
        }
    }
}
