internal import COpenSSL
internal import COutpostShims.OpenSSL

/// An X.509 certificate (`X509`), immutable once created.
///
/// `@unchecked Sendable`: no method mutates the `X509`. The one write OpenSSL does on read paths
/// (caching decoded extensions on first use) is forced in `init` by `X509_check_purpose`, and the
/// DER encoding is taken once in `init`, so later use from several threads only reads.
public final class Certificate: @unchecked Sendable {
    /// `X509 *`, owned: released in `deinit`.
    let pointer: OpaquePointer
    /// The DER encoding, taken once.
    public let derEncoded: [UInt8]

    /// Takes ownership of `x509`. Fails (and frees it) when it cannot be encoded or its public
    /// key is of a type OpenSSL cannot decode (so `publicKey` is always available).
    init(taking x509: OpaquePointer, operation: String) throws(PKIError) {
        guard X509_get0_pubkey(x509) != nil else {
            X509_free(x509)
            throw .drainingOpenSSLQueue(.decodingFailed, operation: "\(operation): X509_get0_pubkey")
        }
        var output: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509(x509, &output)
        guard length > 0, let output else {
            X509_free(x509)
            throw .drainingOpenSSLQueue(.encodingFailed, operation: "\(operation): i2d_X509")
        }
        self.derEncoded = Array(UnsafeBufferPointer(start: output, count: Int(length)))
        outpost_OPENSSL_free(output)
        self.pointer = x509
        // Decode and cache the extensions now (see the Sendable note above).
        _ = X509_check_purpose(x509, -1, 0)
        OpenSSLErrorQueue.clear()
    }

    deinit {
        X509_free(pointer)
    }

    /// Decodes one DER certificate; trailing bytes are refused.
    public convenience init(derEncoded der: some Collection<UInt8>) throws(PKIError) {
        OpenSSLErrorQueue.clear()
        let bytes = Array(der)
        let (x509, consumed): (OpaquePointer?, Int) = bytes.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            let decoded = d2i_X509(nil, &cursor, buffer.count)
            let used = cursor.map { $0 - buffer.baseAddress! } ?? 0
            return (decoded, used)
        }
        guard let x509 else { throw .drainingOpenSSLQueue(.decodingFailed, operation: "d2i_X509") }
        guard consumed == bytes.count else {
            X509_free(x509)
            throw .refused(.decodingFailed, operation: "d2i_X509", reason: "\(bytes.count - consumed) bytes after the certificate")
        }
        try self.init(taking: x509, operation: "d2i_X509")
    }

    /// Decodes the first certificate of a PEM text (`-----BEGIN CERTIFICATE-----`).
    public convenience init(pemEncoded pem: String) throws(PKIError) {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(copying: Array(pem.utf8), operation: "PEM_read_bio_X509")
        guard let x509 = PEM_read_bio_X509(bio.pointer, nil, nil, nil) else {
            throw .drainingOpenSSLQueue(.decodingFailed, operation: "PEM_read_bio_X509")
        }
        try self.init(taking: x509, operation: "PEM_read_bio_X509")
    }

    /// Every certificate of a PEM bundle, in order. Text between the blocks is ignored; a bundle
    /// with no certificate, or with a block that does not decode, is refused.
    public static func all(pemEncoded pem: String) throws(PKIError) -> [Certificate] {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(copying: Array(pem.utf8), operation: "PEM_read_bio_X509")
        var certificates: [Certificate] = []
        while let x509 = PEM_read_bio_X509(bio.pointer, nil, nil, nil) {
            certificates.append(try Certificate(taking: x509, operation: "PEM_read_bio_X509"))
        }
        // The loop ends with "no start line" at the end of the input; anything else is a bad block.
        let reasons = OpenSSLErrorQueue.drain()
        let endOfInput = reasons.allSatisfy { $0.contains("no start line") }
        guard !certificates.isEmpty, endOfInput else {
            throw PKIError(code: .decodingFailed, operation: "PEM_read_bio_X509",
                           reasons: reasons.isEmpty ? ["no certificate in the input"] : reasons)
        }
        return certificates
    }

    /// The certificate as PEM (`-----BEGIN CERTIFICATE-----`, 64-column base64, trailing newline).
    public func pemEncoded() throws(PKIError) -> String {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(operation: "PEM_write_bio_X509")
        guard PEM_write_bio_X509(bio.pointer, pointer) == 1 else {
            throw .drainingOpenSSLQueue(.encodingFailed, operation: "PEM_write_bio_X509")
        }
        return String(decoding: bio.contents, as: UTF8.self)
    }

    // MARK: Names and numbers

    /// The subject's commonName (for a phone, `SEP<MAC>`), or `nil` when the subject has none.
    public var subjectCommonName: String? { OpenSSLValues.commonName(X509_get_subject_name(pointer)) }

    /// The subject in RFC 2253 text (`CN=SEP001122334455,O=Outpost`).
    public var subject: String { OpenSSLValues.nameString(X509_get_subject_name(pointer)) }

    /// The issuer in RFC 2253 text.
    public var issuer: String { OpenSSLValues.nameString(X509_get_issuer_name(pointer)) }

    public var issuerCommonName: String? { OpenSSLValues.commonName(X509_get_issuer_name(pointer)) }

    /// The serial number in uppercase hexadecimal, whole bytes (as `openssl x509 -serial` prints it).
    public var serialNumber: String { OpenSSLValues.serialHex(X509_get0_serialNumber(pointer)) }

    /// The subject's attributes in encoding order, by short name (`C`, `O`, `CN`).
    public var subjectAttributes: [(type: String, value: String)] { OpenSSLValues.attributes(X509_get_subject_name(pointer)) }

    /// The issuer's attributes in encoding order, by short name.
    public var issuerAttributes: [(type: String, value: String)] { OpenSSLValues.attributes(X509_get_issuer_name(pointer)) }

    /// The serial number as unsigned big-endian bytes without leading zeros (at least one byte).
    public var serialNumberBytes: [UInt8] {
        var digits = Array(serialNumber.utf8)
        if digits.count % 2 == 1 { digits.insert(UInt8(ascii: "0"), at: 0) }
        var bytes: [UInt8] = stride(from: 0, to: digits.count, by: 2).map { Self.nibble(digits[$0]) << 4 | Self.nibble(digits[$0 + 1]) }
        while bytes.count > 1, bytes[0] == 0 { bytes.removeFirst() }
        return bytes.isEmpty ? [0] : bytes
    }

    public var notBefore: PKITime { OpenSSLValues.time(X509_get0_notBefore(pointer)) ?? PKITime(secondsSince1970: .max) }

    public var notAfter: PKITime { OpenSSLValues.time(X509_get0_notAfter(pointer)) ?? PKITime(secondsSince1970: .min) }

    /// X.509 version as printed (1 or 3).
    public var version: Int { Int(X509_get_version(pointer)) + 1 }

    // MARK: Extensions

    public var subjectAlternativeNames: [SubjectAlternativeName] {
        guard let names = outpost_pki_X509_subject_alt_names(pointer) else {
            OpenSSLErrorQueue.clear()
            return []
        }
        defer { outpost_pki_GENERAL_NAMES_free(names) }
        return OpenSSLValues.generalNames(names)
    }

    /// The extendedKeyUsage purposes, in certificate order; empty when the extension is absent.
    public var extendedKeyUsages: [ExtendedKeyUsage] {
        guard let usages = outpost_pki_X509_extended_key_usage(pointer) else {
            OpenSSLErrorQueue.clear()
            return []
        }
        defer { outpost_pki_EKU_free(usages) }
        return (0..<outpost_pki_EKU_count(usages)).map { index in
            ExtendedKeyUsage(oid: OpenSSLValues.oid(outpost_pki_EKU_value(usages, index)))
        }
    }

    /// The keyUsage bits, or `nil` when the extension is absent (every usage allowed).
    public var keyUsage: KeyUsage? {
        guard X509_get_extension_flags(pointer) & UInt32(EXFLAG_KUSAGE) != 0 else { return nil }
        return KeyUsage(rawValue: X509_get_key_usage(pointer))
    }

    /// basicConstraints cA.
    public var isCertificateAuthority: Bool {
        X509_get_extension_flags(pointer) & UInt32(EXFLAG_CA) != 0
    }

    /// basicConstraints pathLenConstraint, or `nil` when absent.
    public var pathLengthConstraint: Int? {
        let length = X509_get_pathlen(pointer)
        return length < 0 ? nil : Int(length)
    }

    /// subjectKeyIdentifier as uppercase hex, or `nil`.
    public var subjectKeyIdentifier: String? {
        guard let identifier = X509_get0_subject_key_id(pointer) else { return nil }
        return Self.hex(ASN1_STRING_get0_data(identifier), count: Int(ASN1_STRING_length(identifier)))
    }

    /// authorityKeyIdentifier keyIdentifier as uppercase hex, or `nil`.
    public var authorityKeyIdentifier: String? {
        guard let identifier = X509_get0_authority_key_id(pointer) else { return nil }
        return Self.hex(ASN1_STRING_get0_data(identifier), count: Int(ASN1_STRING_length(identifier)))
    }

    // MARK: Keys and signatures

    public var publicKey: PublicKey {
        // Checked in init: a certificate whose key OpenSSL cannot decode is never created.
        PublicKey(retaining: X509_get0_pubkey(pointer)!)
    }

    public var publicKeyAlgorithm: KeyAlgorithm { publicKey.algorithm }

    public var publicKeyBits: Int { publicKey.bits }

    /// OpenSSL's long name of the signature algorithm (`sha256WithRSAEncryption`, `ecdsa-with-SHA384`).
    public var signatureAlgorithm: String { OpenSSLValues.longName(nid: X509_get_signature_nid(pointer)) }

    /// The digest of the signature algorithm, or `nil` for one without a separate digest (Ed25519)
    /// or one this wrapper does not know (MD5).
    public var signatureDigest: DigestAlgorithm? { OpenSSLValues.digest(ofSignatureNID: X509_get_signature_nid(pointer)).algorithm }

    /// OpenSSL's name of that digest (`sha1`, `md5`, `none`).
    var signatureDigestName: String { OpenSSLValues.digest(ofSignatureNID: X509_get_signature_nid(pointer)).name }

    /// The signature value (the BIT STRING's bytes) the issuer put on this certificate.
    public var signatureValue: [UInt8] {
        var signature: UnsafePointer<ASN1_BIT_STRING>?
        X509_get0_signature(&signature, nil, pointer)
        guard let signature else { return [] }
        return Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(signature), count: Int(ASN1_STRING_length(signature))))
    }

    /// SHA-256 of the DER encoding.
    public var sha256Fingerprint: [UInt8] {
        (try? DigestAlgorithm.sha256.hash(derEncoded)) ?? []
    }

    /// Uppercase hex without separators (64 digits): the trust store's identifier for a root.
    public var sha256FingerprintHex: String {
        Self.hex(sha256Fingerprint)
    }

    /// `AB:CD:…`, as `openssl x509 -fingerprint -sha256` prints it.
    public var sha256FingerprintText: String {
        sha256Fingerprint.map { Self.hex([$0]) }.joined(separator: ":")
    }

    /// Issuer name equals subject name and the certificate's own key verifies its signature.
    public var isSelfSigned: Bool {
        let result = X509_self_signed(pointer, 1) == 1
        OpenSSLErrorQueue.clear()
        return result
    }

    /// Whether `issuer` issued this certificate: the issuer name matches `issuer`'s subject and
    /// `issuer`'s key verifies the signature. (No validity, key-usage or chain checks: that is
    /// `CertificatePolicy`'s and the TLS layer's work.)
    public func verifySignature(issuer: Certificate) -> Bool {
        defer { OpenSSLErrorQueue.clear() }
        guard X509_NAME_cmp(X509_get_issuer_name(pointer), X509_get_subject_name(issuer.pointer)) == 0,
              let key = X509_get0_pubkey(issuer.pointer)
        else { return false }
        return X509_verify(pointer, key) == 1
    }

    /// Whether `signature` over `bytes` was made with this certificate's key (RSA PKCS#1 v1.5 or ECDSA).
    public func verify(signature: some Collection<UInt8>, for bytes: some Collection<UInt8>, digest: DigestAlgorithm = .sha256) throws(PKIError) -> Bool {
        try publicKey.verify(signature: signature, for: bytes, digest: digest)
    }

    /// Whether `key` is the private half of this certificate's public key.
    public func matches(_ key: PrivateKey) -> Bool {
        publicKey.matches(key)
    }

    private static func nibble(_ digit: UInt8) -> UInt8 {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: 0
        }
    }

    static func hex(_ bytes: UnsafePointer<UInt8>?, count: Int) -> String {
        guard let bytes else { return "" }
        return hex(Array(UnsafeBufferPointer(start: bytes, count: count)))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension Certificate: Equatable, Hashable {
    /// Certificates are equal when their DER encodings are.
    public static func == (lhs: Certificate, rhs: Certificate) -> Bool {
        lhs.derEncoded == rhs.derEncoded
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(derEncoded)
    }
}

extension Certificate: CustomStringConvertible {
    public var description: String {
        "Certificate(\(subject), serial \(serialNumber), \(notBefore) – \(notAfter))"
    }
}
