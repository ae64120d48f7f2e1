/// What Outpost accepts in a certificate or key, apart from the mechanism that builds or checks
/// chains: a key-size floor, FIPS mode, and the validity window against an injected clock.
///
/// Defaults: RSA of at least 2048 bits, EC on P-256 or P-384, any other key type refused,
/// MD5 (and unknown digests) refused, SHA-1 allowed unless `fipsMode`.
public struct CertificatePolicy: Sendable {
    /// One reason a certificate or key is refused. `description` is the line for the log and the CLI.
    public struct Violation: Sendable, Hashable, CustomStringConvertible {
        public struct Code: Sendable, Hashable, CustomStringConvertible {
            fileprivate let name: String
            public var description: String { name }

            public static let keyTooSmall = Code(name: "keyTooSmall")
            public static let curveNotAllowed = Code(name: "curveNotAllowed")
            public static let keyTypeNotAllowed = Code(name: "keyTypeNotAllowed")
            public static let weakSignature = Code(name: "weakSignature")
            public static let expired = Code(name: "expired")
            public static let notYetValid = Code(name: "notYetValid")
            public static let notCertificateAuthority = Code(name: "notCertificateAuthority")
        }

        public var code: Code
        public var description: String

        public init(code: Code, description: String) {
            self.code = code
            self.description = description
        }
    }

    /// What the certificate is being accepted as.
    public enum Usage: Sendable, Hashable {
        /// A certificate presented by a peer, or issued by Outpost.
        case endEntity
        /// A root added to the trust store: must be a CA. Its self-signature is not checked
        /// against the digest rules, since nothing relies on a trust anchor's own signature
        /// (RFC 5280 §6.1: the anchor's key and name are trusted as such).
        case trustAnchor
    }

    /// Smallest RSA modulus accepted. FIPS mode raises it to at least 2048.
    public var minimumRSABits: Int
    public var allowedCurves: Set<NamedCurve>
    /// Refuses SHA-1 signatures and RSA below 2048 bits whatever `minimumRSABits` says.
    public var fipsMode: Bool
    /// The clock the validity window is checked against (injected for tests).
    public var clock: @Sendable () -> PKITime

    public init(
        minimumRSABits: Int = 2048, allowedCurves: Set<NamedCurve> = [.p256, .p384], fipsMode: Bool = false,
        clock: @escaping @Sendable () -> PKITime = { PKITime.now }
    ) {
        self.minimumRSABits = minimumRSABits
        self.allowedCurves = allowedCurves
        self.fipsMode = fipsMode
        self.clock = clock
    }

    /// The RSA floor actually applied.
    public var effectiveRSAFloor: Int { fipsMode ? max(minimumRSABits, 2048) : minimumRSABits }

    /// Violations of the key floor by a public key (empty: acceptable).
    public func violations(of key: PublicKey) -> [Violation] {
        violations(algorithm: key.algorithm, bits: key.bits)
    }

    /// Violations of the key floor by a private key about to be used (empty: acceptable).
    public func violations(of key: PrivateKey) -> [Violation] {
        violations(algorithm: key.algorithm, bits: key.bits)
    }

    func violations(algorithm: KeyAlgorithm, bits: Int) -> [Violation] {
        switch algorithm {
        case .rsa:
            let floor = effectiveRSAFloor
            return bits < floor
                ? [Violation(code: .keyTooSmall, description: "RSA key of \(bits) bits is below the \(floor)-bit floor")]
                : []
        case .ec(let curve):
            guard allowedCurves.contains(curve) else {
                let allowed = allowedCurves.map(\.description).sorted().joined(separator: ", ")
                return [Violation(code: .curveNotAllowed, description: "EC key on curve \(curve) is not allowed (allowed: \(allowed))")]
            }
            return []
        case .other(let name):
            return [Violation(code: .keyTypeNotAllowed, description: "\(name) keys are not allowed (RSA or EC only)")]
        }
    }

    /// Every violation by `certificate`: key floor, signature digest, validity window at `clock()`,
    /// and for a trust anchor the CA flag. Empty: acceptable.
    public func violations(of certificate: Certificate, as usage: Usage = .endEntity) -> [Violation] {
        var found = violations(of: certificate.publicKey)
        if usage == .endEntity || !certificate.isSelfSigned {
            found += digestViolations(signatureAlgorithm: certificate.signatureAlgorithm, digest: certificate.signatureDigest,
                                      digestName: certificate.signatureDigestName)
        }
        let now = clock()
        if certificate.notAfter < now {
            found.append(Violation(code: .expired, description: "expired on \(certificate.notAfter)"))
        }
        if now < certificate.notBefore {
            found.append(Violation(code: .notYetValid, description: "not valid before \(certificate.notBefore)"))
        }
        if usage == .trustAnchor && !certificate.isCertificateAuthority {
            found.append(Violation(code: .notCertificateAuthority, description: "is not a CA certificate (basicConstraints cA is not set)"))
        }
        return found
    }

    /// Violations by a signing request: its key floor and its signature digest.
    public func violations(of request: CertificateSigningRequest) -> [Violation] {
        guard let key = request.publicKey else {
            return [Violation(code: .keyTypeNotAllowed, description: "the request's public key cannot be decoded")]
        }
        return violations(of: key)
    }

    /// Whether a signature with `digest` is acceptable under this policy.
    public func allows(_ digest: DigestAlgorithm) -> Bool {
        digest != .sha1 || !fipsMode
    }

    func digestViolations(signatureAlgorithm: String, digest: DigestAlgorithm?, digestName: String) -> [Violation] {
        guard let digest else {
            // Ed25519-style algorithms have no separate digest ("none"); their key type is
            // already refused above. Anything else (MD5, MD2) is refused outright.
            return digestName == "none" ? [] : [Violation(code: .weakSignature, description: "signed with \(signatureAlgorithm), which is refused")]
        }
        guard allows(digest) else {
            return [Violation(code: .weakSignature, description: "signed with \(signatureAlgorithm), refused in FIPS mode")]
        }
        return []
    }

    /// Throws `PKIError` (code `policyViolation`, one reason per violation) when `certificate` is
    /// not acceptable.
    public func check(_ certificate: Certificate, as usage: Usage = .endEntity) throws(PKIError) {
        let found = violations(of: certificate, as: usage)
        guard found.isEmpty else {
            throw PKIError(code: .policyViolation, operation: "certificate \(certificate.subject)", reasons: found.map(\.description))
        }
    }
}
