/// Where the PKI keeps its files inside the state directory. Directories are 0700, private keys
/// 0600, everything else 0644.
///
/// ```
/// <state>/pki/.lock                   flock for concurrent invocations
/// <state>/pki/ca/{cert,key}.pem       the edge CA
/// <state>/pki/srst/{cert,chain,key}.pem  the edge/SRST TLS certificate (chain = cert + CA)
/// <state>/pki/sast/{cert,key}.pem     the SAST trust-list signer (RSA-2048)
/// <state>/pki/issued/<SERIAL>.pem     every certificate the CA issued
/// <state>/pki/index.tsv               what was issued, to whom, and revocations
/// <state>/pki/crl.pem                 the edge CA's CRL
/// <state>/pki/trust/<SHA256>.pem      external roots; <SHA256>.crl.pem their CRLs;
///                                     <SHA256>.crl-requirement "required" or "optional"
///                                     (absent, as in stores from before the choice: required)
/// <state>/pki/ca-bundle.pem           edge CA + external roots, for TLS peer verification
/// ```
public struct PKIStoreLayout: Sendable, Hashable {
    public let root: String

    public init(stateDirectory: String) {
        let trimmed = stateDirectory.count > 1 && stateDirectory.hasSuffix("/") ? String(stateDirectory.dropLast()) : stateDirectory
        self.root = trimmed + "/pki"
    }

    public var lockFile: String { root + "/.lock" }
    public var authorityDirectory: String { root + "/ca" }
    public var authorityCertificate: String { authorityDirectory + "/cert.pem" }
    public var authorityKey: String { authorityDirectory + "/key.pem" }
    public var serverDirectory: String { root + "/srst" }
    public var serverCertificate: String { serverDirectory + "/cert.pem" }
    /// The server certificate followed by the CA certificate, for `SSL_CTX_use_certificate_chain_file`.
    public var serverChain: String { serverDirectory + "/chain.pem" }
    public var serverKey: String { serverDirectory + "/key.pem" }
    public var signerDirectory: String { root + "/sast" }
    public var signerCertificate: String { signerDirectory + "/cert.pem" }
    public var signerKey: String { signerDirectory + "/key.pem" }
    public var issuedDirectory: String { root + "/issued" }
    public var index: String { root + "/index.tsv" }
    public var revocationList: String { root + "/crl.pem" }
    public var trustDirectory: String { root + "/trust" }
    public var caBundle: String { root + "/ca-bundle.pem" }

    public func issuedCertificate(serial: String) -> String { issuedDirectory + "/\(serial).pem" }
    public func trustedRoot(fingerprint: String) -> String { trustDirectory + "/\(fingerprint).pem" }
    public func trustedRootCRL(fingerprint: String) -> String { trustDirectory + "/\(fingerprint).crl.pem" }
    public func trustedRootCRLRequirement(fingerprint: String) -> String { trustDirectory + "/\(fingerprint).crl-requirement" }

    var directories: [String] { [root, authorityDirectory, serverDirectory, signerDirectory, issuedDirectory, trustDirectory] }
}
