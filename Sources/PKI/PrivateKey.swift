internal import COpenSSL

/// Key types Outpost generates. Only sizes that meet a sensible floor are offered; smaller keys
/// can still be imported (and are then refused by policy, which reads `PrivateKey.bits`).
public enum KeySpec: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case ecP256
    case ecP384
    case rsa2048
    case rsa3072
    case rsa4096

    public var description: String {
        switch self {
        case .ecP256: "EC P-256"
        case .ecP384: "EC P-384"
        case .rsa2048: "RSA 2048"
        case .rsa3072: "RSA 3072"
        case .rsa4096: "RSA 4096"
        }
    }
}

/// A named elliptic curve, identified by OpenSSL's group name.
public struct NamedCurve: Sendable, Hashable, CustomStringConvertible {
    /// OpenSSL's name for the group (`prime256v1`, `secp384r1`, …).
    public let openSSLName: String

    public init(openSSLName: String) {
        self.openSSLName = openSSLName
    }

    public static let p256 = NamedCurve(openSSLName: "prime256v1")
    public static let p384 = NamedCurve(openSSLName: "secp384r1")
    public static let p521 = NamedCurve(openSSLName: "secp521r1")

    public var description: String {
        switch self {
        case .p256: "P-256"
        case .p384: "P-384"
        case .p521: "P-521"
        default: openSSLName
        }
    }
}

/// The algorithm of a key, as far as policy needs to know it.
public enum KeyAlgorithm: Sendable, Hashable, CustomStringConvertible {
    case rsa
    case ec(NamedCurve)
    /// Any other OpenSSL key type, by OpenSSL's type name (`ED25519`, `RSA-PSS`, …).
    case other(String)

    public var description: String {
        switch self {
        case .rsa: "RSA"
        case .ec(let curve): "EC \(curve)"
        case .other(let name): name
        }
    }
}

/// A private key held by OpenSSL (`EVP_PKEY`).
///
/// `@unchecked Sendable`: the `EVP_PKEY` is never modified after this object is created (every
/// method only reads or encodes it), and OpenSSL 3 documents concurrent read-only use of one
/// `EVP_PKEY` from several threads as safe.
public final class PrivateKey: @unchecked Sendable {
    /// `EVP_PKEY *`, owned: released in `deinit`.
    let pointer: OpaquePointer

    /// Takes ownership of one reference to `pkey`.
    init(taking pkey: OpaquePointer) {
        self.pointer = pkey
    }

    deinit {
        EVP_PKEY_free(pointer)
    }

    /// Generates a fresh key with OpenSSL's default random generator.
    public convenience init(generating spec: KeySpec) throws(PKIError) {
        OpenSSLErrorQueue.clear()
        let typeName: String
        switch spec {
        case .ecP256, .ecP384: typeName = "EC"
        case .rsa2048, .rsa3072, .rsa4096: typeName = "RSA"
        }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, typeName, nil) else {
            throw .drainingOpenSSLQueue(.allocationFailed, operation: "EVP_PKEY_CTX_new_from_name(\(typeName))")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1 else {
            throw .drainingOpenSSLQueue(.keyGenerationFailed, operation: "EVP_PKEY_keygen_init")
        }
        switch spec {
        case .ecP256, .ecP384:
            let curve: NamedCurve = spec == .ecP256 ? .p256 : .p384
            guard EVP_PKEY_CTX_set_group_name(context, curve.openSSLName) == 1 else {
                throw .drainingOpenSSLQueue(.keyGenerationFailed, operation: "EVP_PKEY_CTX_set_group_name(\(curve))")
            }
        case .rsa2048, .rsa3072, .rsa4096:
            let bits: Int32 = spec == .rsa2048 ? 2048 : spec == .rsa3072 ? 3072 : 4096
            guard EVP_PKEY_CTX_set_rsa_keygen_bits(context, bits) == 1 else {
                throw .drainingOpenSSLQueue(.keyGenerationFailed, operation: "EVP_PKEY_CTX_set_rsa_keygen_bits(\(bits))")
            }
        }
        var generated: OpaquePointer?
        guard EVP_PKEY_generate(context, &generated) == 1, let generated else {
            throw .drainingOpenSSLQueue(.keyGenerationFailed, operation: "EVP_PKEY_generate(\(spec))")
        }
        self.init(taking: generated)
    }

    /// Decodes a PEM private key (PKCS#8 `PRIVATE KEY`, or the traditional `RSA`/`EC PRIVATE KEY`
    /// forms). Encrypted keys are refused: no passphrase is ever prompted for.
    public convenience init(pemEncoded pem: String) throws(PKIError) {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(copying: Array(pem.utf8), operation: "PEM_read_bio_PrivateKey_ex")
        // A callback that supplies no passphrase, so OpenSSL never falls back to its terminal prompt.
        let noPassphrase: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = { _, _, _, _ in 0 }
        guard let key = PEM_read_bio_PrivateKey_ex(bio.pointer, nil, noPassphrase, nil, nil, nil) else {
            throw .drainingOpenSSLQueue(.decodingFailed, operation: "PEM_read_bio_PrivateKey_ex")
        }
        self.init(taking: key)
    }

    /// The key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    public func pkcs8PEM() throws(PKIError) -> String {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(operation: "PEM_write_bio_PKCS8PrivateKey")
        guard PEM_write_bio_PKCS8PrivateKey(bio.pointer, pointer, nil, nil, 0, nil, nil) == 1 else {
            throw .drainingOpenSSLQueue(.encodingFailed, operation: "PEM_write_bio_PKCS8PrivateKey")
        }
        return String(decoding: bio.contents, as: UTF8.self)
    }

    /// The public half as SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`).
    public func publicKeyPEM() throws(PKIError) -> String {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(operation: "PEM_write_bio_PUBKEY")
        guard PEM_write_bio_PUBKEY(bio.pointer, pointer) == 1 else {
            throw .drainingOpenSSLQueue(.encodingFailed, operation: "PEM_write_bio_PUBKEY")
        }
        return String(decoding: bio.contents, as: UTF8.self)
    }

    /// The key's algorithm (and curve for EC keys).
    public var algorithm: KeyAlgorithm {
        KeyFacts.algorithm(of: pointer)
    }

    /// The key size in bits as OpenSSL reports it (RSA modulus length, EC group order length).
    public var bits: Int {
        Int(EVP_PKEY_get_bits(pointer))
    }

    /// The key's strength in bits of security (RSA 2048 → 112, P-256 → 128).
    public var securityBits: Int {
        Int(EVP_PKEY_get_security_bits(pointer))
    }
}

extension PrivateKey {
    /// The public half.
    public var publicKey: PublicKey {
        PublicKey(retaining: pointer)
    }

    /// Signs `bytes`: the digest, then RSA PKCS#1 v1.5 (for RSA keys, what Cisco CTL/ITL files
    /// carry) or ECDSA (DER `ECDSA-Sig-Value`). Check with `PublicKey.verify(signature:for:digest:)`.
    public func sign(_ bytes: some Collection<UInt8>, digest: DigestAlgorithm = .sha256) throws(PKIError) -> [UInt8] {
        try KeyFacts.sign(Array(bytes), digest: digest, with: pointer)
    }
}

extension PrivateKey: Equatable {
    /// Keys are equal when OpenSSL says their public components and parameters match.
    public static func == (lhs: PrivateKey, rhs: PrivateKey) -> Bool {
        let equal = EVP_PKEY_eq(lhs.pointer, rhs.pointer) == 1
        OpenSSLErrorQueue.clear()
        return equal
    }
}

extension PrivateKey: CustomStringConvertible {
    /// Never prints key material.
    public var description: String {
        "PrivateKey(\(algorithm), \(bits) bits)"
    }
}
