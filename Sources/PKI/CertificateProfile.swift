/// The period a certificate is valid for.
public struct Validity: Sendable, Hashable, CustomStringConvertible {
    public var notBefore: PKITime
    public var notAfter: PKITime

    public init(notBefore: PKITime, notAfter: PKITime) {
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    /// `days` days starting at `start` exactly.
    public static func days(_ days: Int, startingAt start: PKITime) -> Validity {
        Validity(notBefore: start, notAfter: start.adding(days: days))
    }

    /// `days` days from now, starting five minutes ago so that a phone whose clock runs a little
    /// behind still accepts a certificate issued a moment ago.
    public static func days(_ days: Int, now: PKITime = .now) -> Validity {
        let start = now.adding(seconds: -300)
        return Validity(notBefore: start, notAfter: now.adding(days: days))
    }

    public var description: String { "\(notBefore) – \(notAfter)" }
}

/// What a certificate says: subject, names, usages and constraints. Mechanism (signing, serials,
/// key identifiers) is `CertificateAuthority`'s; the profiles below are Outpost's certificate kinds.
public struct CertificateProfile: Sendable, Hashable {
    public var subject: DistinguishedName
    public var subjectAlternativeNames: [SubjectAlternativeName]
    /// Marked critical.
    public var keyUsage: KeyUsage
    /// Empty: no extendedKeyUsage extension.
    public var extendedKeyUsages: [ExtendedKeyUsage]
    /// basicConstraints cA (critical); `pathLength` applies only to a CA.
    public var isCertificateAuthority: Bool
    public var pathLength: Int?
    public var validity: Validity

    public init(
        subject: DistinguishedName, subjectAlternativeNames: [SubjectAlternativeName] = [], keyUsage: KeyUsage,
        extendedKeyUsages: [ExtendedKeyUsage] = [], isCertificateAuthority: Bool = false, pathLength: Int? = nil,
        validity: Validity
    ) {
        self.subject = subject
        self.subjectAlternativeNames = subjectAlternativeNames
        self.keyUsage = keyUsage
        self.extendedKeyUsages = extendedKeyUsages
        self.isCertificateAuthority = isCertificateAuthority
        self.pathLength = pathLength
        self.validity = validity
    }

    /// A root CA: keyCertSign and cRLSign, path length 0 (it signs end-entity certificates only).
    public static func rootAuthority(subject: DistinguishedName, validity: Validity, pathLength: Int? = 0) -> CertificateProfile {
        CertificateProfile(
            subject: subject, keyUsage: [.keyCertSign, .cRLSign], isCertificateAuthority: true, pathLength: pathLength,
            validity: validity)
    }

    /// The edge's own (SRST) TLS certificate: serverAuth for the phones and clientAuth because the
    /// edge is also a TLS client of the call manager. The common name is the first DNS name (or
    /// address) unless `subject` says otherwise.
    public static func server(
        subject: DistinguishedName, dnsNames: [String], ipAddresses: [String], keyAlgorithm: KeyAlgorithm, validity: Validity
    ) -> CertificateProfile {
        CertificateProfile(
            subject: subject,
            subjectAlternativeNames: dnsNames.map(SubjectAlternativeName.dns) + ipAddresses.map(SubjectAlternativeName.ipAddress),
            keyUsage: endEntityKeyUsage(for: keyAlgorithm), extendedKeyUsages: [.serverAuth, .clientAuth], validity: validity)
    }

    /// A phone's certificate: CN = the device name (Cisco style `SEP<MAC>`), clientAuth, and an
    /// optional SAN URI identity.
    public static func device(
        name: String, uri: String? = nil, organization: String? = nil, keyAlgorithm: KeyAlgorithm, validity: Validity
    ) -> CertificateProfile {
        CertificateProfile(
            subject: DistinguishedName(commonName: name, organization: organization),
            subjectAlternativeNames: uri.map { [.uri($0)] } ?? [],
            keyUsage: endEntityKeyUsage(for: keyAlgorithm), extendedKeyUsages: [.clientAuth], validity: validity)
    }

    /// The SAST certificate whose key signs Cisco CTL/ITL trust lists: digitalSignature only.
    public static func trustListSigner(subject: DistinguishedName, validity: Validity) -> CertificateProfile {
        CertificateProfile(subject: subject, keyUsage: [.digitalSignature], validity: validity)
    }

    /// digitalSignature, plus keyEncipherment for RSA (TLS 1.2 RSA key transport, which older
    /// phones still offer).
    public static func endEntityKeyUsage(for algorithm: KeyAlgorithm) -> KeyUsage {
        algorithm == .rsa ? [.digitalSignature, .keyEncipherment] : [.digitalSignature]
    }
}
