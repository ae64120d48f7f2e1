internal import COpenSSL
internal import COutpostShims.OpenSSL

/// A PKCS#10 certificate signing request (`X509_REQ`), immutable once created.
///
/// `@unchecked Sendable`: no method mutates the `X509_REQ` after `init`, and the DER encoding
/// is taken once there.
public final class CertificateSigningRequest: @unchecked Sendable {
    /// `X509_REQ *`, owned: released in `deinit`.
    let pointer: OpaquePointer
    public let derEncoded: [UInt8]

    init(taking request: OpaquePointer, operation: String) throws(PKIError) {
        var output: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509_REQ(request, &output)
        guard length > 0, let output else {
            X509_REQ_free(request)
            throw .drainingOpenSSLQueue(.encodingFailed, operation: "\(operation): i2d_X509_REQ")
        }
        self.derEncoded = Array(UnsafeBufferPointer(start: output, count: Int(length)))
        outpost_OPENSSL_free(output)
        self.pointer = request
    }

    deinit {
        X509_REQ_free(pointer)
    }

    /// Decodes a PEM request (`-----BEGIN CERTIFICATE REQUEST-----`, or the older `NEW CERTIFICATE
    /// REQUEST` label). The self-signature is not checked here: see `verifySignature()`.
    public convenience init(pemEncoded pem: String) throws(PKIError) {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(copying: Array(pem.utf8), operation: "PEM_read_bio_X509_REQ")
        guard let request = PEM_read_bio_X509_REQ(bio.pointer, nil, nil, nil) else {
            throw .drainingOpenSSLQueue(.decodingFailed, operation: "PEM_read_bio_X509_REQ")
        }
        try self.init(taking: request, operation: "PEM_read_bio_X509_REQ")
    }

    /// Creates and signs a request for `key` (for the edge's own use and for tests).
    public convenience init(
        subject: DistinguishedName, key: PrivateKey, subjectAlternativeNames: [SubjectAlternativeName] = [],
        digest: DigestAlgorithm? = nil
    ) throws(PKIError) {
        let operation = "create CSR"
        OpenSSLErrorQueue.clear()
        guard let request = X509_REQ_new() else {
            throw .drainingOpenSSLQueue(.allocationFailed, operation: "\(operation): X509_REQ_new")
        }
        var owned: OpaquePointer? = request
        defer { if let owned { X509_REQ_free(owned) } }
        guard X509_REQ_set_version(request, 0) == 1 else {
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): X509_REQ_set_version")
        }
        let name = try OpenSSLValues.makeName(subject, operation: operation)
        defer { X509_NAME_free(name) }
        guard X509_REQ_set_subject_name(request, name) == 1, X509_REQ_set_pubkey(request, key.pointer) == 1 else {
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): X509_REQ_set_subject_name/pubkey")
        }
        if !subjectAlternativeNames.isEmpty {
            let names = try OpenSSLValues.makeGeneralNames(subjectAlternativeNames, operation: operation)
            defer { outpost_pki_GENERAL_NAMES_free(names) }
            guard let extensions = outpost_pki_extension_stack_new() else {
                throw .drainingOpenSSLQueue(.allocationFailed, operation: "\(operation): sk_X509_EXTENSION_new_null")
            }
            defer { outpost_pki_extension_stack_free(extensions) }
            guard let san = X509V3_EXT_i2d(NID_subject_alt_name, 0, UnsafeMutableRawPointer(names)),
                  outpost_pki_extension_stack_push(extensions, san) == 1,
                  X509_REQ_add_extensions(request, extensions) == 1
            else {
                throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): X509_REQ_add_extensions")
            }
        }
        let md = (digest ?? KeyFacts.defaultDigest(for: key.pointer)).evpMD
        guard X509_REQ_sign(request, key.pointer, md) > 0 else {
            throw .drainingOpenSSLQueue(.signingFailed, operation: "\(operation): X509_REQ_sign")
        }
        owned = nil
        try self.init(taking: request, operation: operation)
    }

    public func pemEncoded() throws(PKIError) -> String {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(operation: "PEM_write_bio_X509_REQ")
        guard PEM_write_bio_X509_REQ(bio.pointer, pointer) == 1 else {
            throw .drainingOpenSSLQueue(.encodingFailed, operation: "PEM_write_bio_X509_REQ")
        }
        return String(decoding: bio.contents, as: UTF8.self)
    }

    /// Whether the request is signed by the private half of the key it carries (proof of possession).
    public func verifySignature() -> Bool {
        defer { OpenSSLErrorQueue.clear() }
        guard let key = X509_REQ_get0_pubkey(pointer) else { return false }
        return X509_REQ_verify(pointer, key) == 1
    }

    public var subjectCommonName: String? { OpenSSLValues.commonName(X509_REQ_get_subject_name(pointer)) }

    /// The subject in RFC 2253 text.
    public var subject: String { OpenSSLValues.nameString(X509_REQ_get_subject_name(pointer)) }

    /// The subjectAltName the requester asked for (informational: the issuer decides what to issue).
    public var requestedSubjectAlternativeNames: [SubjectAlternativeName] {
        guard let names = outpost_pki_X509_REQ_subject_alt_names(pointer) else {
            OpenSSLErrorQueue.clear()
            return []
        }
        defer { outpost_pki_GENERAL_NAMES_free(names) }
        return OpenSSLValues.generalNames(names)
    }

    /// The requester's public key; `nil` when it cannot be decoded.
    public var publicKey: PublicKey? {
        guard let key = X509_REQ_get0_pubkey(pointer) else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        return PublicKey(retaining: key)
    }

    public var signatureAlgorithm: String { OpenSSLValues.longName(nid: X509_REQ_get_signature_nid(pointer)) }
}
