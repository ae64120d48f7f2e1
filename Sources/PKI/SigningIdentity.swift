/// A certificate with its private key, for signing files: the SAST identity that signs Cisco
/// CTL/ITL trust lists (RSA PKCS#1 v1.5) and `.sgn` files.
public struct SigningIdentity: Sendable {
    public let certificate: Certificate
    public let privateKey: PrivateKey

    /// Refuses a key that is not the certificate's.
    public init(certificate: Certificate, privateKey: PrivateKey) throws(PKIError) {
        guard certificate.matches(privateKey) else {
            throw .refused(.invalidInput, operation: "SigningIdentity", reason: "the private key does not belong to \(certificate.subject)")
        }
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// Signs `bytes` (RSA PKCS#1 v1.5 for an RSA key). Verify with `certificate.verify(signature:for:digest:)`.
    public func sign(_ bytes: some Collection<UInt8>, digest: DigestAlgorithm = .sha256) throws(PKIError) -> [UInt8] {
        try privateKey.sign(bytes, digest: digest)
    }

    public func verify(signature: some Collection<UInt8>, for bytes: some Collection<UInt8>, digest: DigestAlgorithm = .sha256) throws(PKIError) -> Bool {
        try certificate.verify(signature: signature, for: bytes, digest: digest)
    }
}
