internal import COpenSSL
internal import COutpostShims.OpenSSL

/// The public half of a key pair, as found in a certificate or a certificate signing request.
///
/// `@unchecked Sendable` for the reason `PrivateKey` is: the `EVP_PKEY` is never modified after
/// this object is created, and OpenSSL 3 allows concurrent read-only use of one `EVP_PKEY`.
public final class PublicKey: @unchecked Sendable {
    /// `EVP_PKEY *`, owned: released in `deinit`.
    let pointer: OpaquePointer

    /// Takes ownership of one reference to `pkey`.
    init(taking pkey: OpaquePointer) {
        self.pointer = pkey
    }

    /// Adds a reference to `pkey` (for `get0` accessors) and owns that reference.
    init(retaining pkey: OpaquePointer) {
        EVP_PKEY_up_ref(pkey)
        self.pointer = pkey
    }

    deinit {
        EVP_PKEY_free(pointer)
    }

    /// Decodes a SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`).
    public convenience init(pemEncoded pem: String) throws(PKIError) {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(copying: Array(pem.utf8), operation: "PEM_read_bio_PUBKEY_ex")
        guard let key = PEM_read_bio_PUBKEY_ex(bio.pointer, nil, nil, nil, nil, nil) else {
            throw .drainingOpenSSLQueue(.decodingFailed, operation: "PEM_read_bio_PUBKEY_ex")
        }
        self.init(taking: key)
    }

    /// The key as SubjectPublicKeyInfo PEM.
    public func pemEncoded() throws(PKIError) -> String {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(operation: "PEM_write_bio_PUBKEY")
        guard PEM_write_bio_PUBKEY(bio.pointer, pointer) == 1 else {
            throw .drainingOpenSSLQueue(.encodingFailed, operation: "PEM_write_bio_PUBKEY")
        }
        return String(decoding: bio.contents, as: UTF8.self)
    }

    /// The key as DER SubjectPublicKeyInfo (what Cisco trust lists and key identifiers hash).
    public func derEncoded() throws(PKIError) -> [UInt8] {
        try encoded(with: i2d_PUBKEY, operation: "i2d_PUBKEY")
    }

    /// The key without its algorithm identifier: PKCS#1 `RSAPublicKey` DER for RSA, the
    /// uncompressed point for EC. This is the subjectPublicKey BIT STRING's content, which is
    /// what Cisco trust-list records carry.
    public func keyDataEncoded() throws(PKIError) -> [UInt8] {
        try encoded(with: i2d_PublicKey, operation: "i2d_PublicKey")
    }

    /// The bytes an OpenSSL `i2d_…(EVP_PKEY *, unsigned char **)` encoder allocates.
    private func encoded(
        with encoder: (OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32, operation: String
    ) throws(PKIError) -> [UInt8] {
        OpenSSLErrorQueue.clear()
        var output: UnsafeMutablePointer<UInt8>?
        let length = encoder(pointer, &output)
        guard length > 0, let output else {
            throw .drainingOpenSSLQueue(.encodingFailed, operation: operation)
        }
        defer { outpost_OPENSSL_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: Int(length)))
    }

    public var algorithm: KeyAlgorithm { KeyFacts.algorithm(of: pointer) }

    /// RSA modulus length or EC group order length, in bits.
    public var bits: Int { Int(EVP_PKEY_get_bits(pointer)) }

    /// Strength in bits of security (RSA 2048 → 112, P-256 → 128).
    public var securityBits: Int { Int(EVP_PKEY_get_security_bits(pointer)) }

    /// Whether `signature` is `privateKey.sign(bytes, digest:)` for the matching private key
    /// (RSA PKCS#1 v1.5 or ECDSA).
    public func verify(signature: some Collection<UInt8>, for bytes: some Collection<UInt8>, digest: DigestAlgorithm = .sha256) throws(PKIError) -> Bool {
        try KeyFacts.verify(Array(signature), of: Array(bytes), digest: digest, with: pointer)
    }

    /// Whether `privateKey` is the private half of this key.
    public func matches(_ privateKey: PrivateKey) -> Bool {
        let equal = EVP_PKEY_eq(pointer, privateKey.pointer) == 1
        OpenSSLErrorQueue.clear()
        return equal
    }
}

extension PublicKey: Equatable {
    public static func == (lhs: PublicKey, rhs: PublicKey) -> Bool {
        let equal = EVP_PKEY_eq(lhs.pointer, rhs.pointer) == 1
        OpenSSLErrorQueue.clear()
        return equal
    }
}

extension PublicKey: CustomStringConvertible {
    public var description: String { "PublicKey(\(algorithm), \(bits) bits)" }
}
