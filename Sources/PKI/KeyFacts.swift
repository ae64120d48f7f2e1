internal import COpenSSL

/// Facts about an `EVP_PKEY` shared by `PrivateKey` and `PublicKey`.
enum KeyFacts {
    static func algorithm(of pkey: OpaquePointer) -> KeyAlgorithm {
        if EVP_PKEY_is_a(pkey, "RSA") == 1 { return .rsa }
        if EVP_PKEY_is_a(pkey, "EC") == 1 {
            var name = [CChar](repeating: 0, count: 80)
            var length = 0
            let ok = name.withUnsafeMutableBufferPointer { buffer in
                EVP_PKEY_get_group_name(pkey, buffer.baseAddress, buffer.count, &length)
            }
            OpenSSLErrorQueue.clear()
            let curve = ok == 1 ? String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown"
            return .ec(NamedCurve(openSSLName: curve))
        }
        if let typeName = EVP_PKEY_get0_type_name(pkey) {
            return .other(String(cString: typeName))
        }
        return .other("unknown")
    }

    /// The digest Outpost signs with for a key: SHA-384 for P-384, SHA-512 for P-521, SHA-256 otherwise.
    static func defaultDigest(for pkey: OpaquePointer) -> DigestAlgorithm {
        switch algorithm(of: pkey) {
        case .ec(.p384): .sha384
        case .ec(.p521): .sha512
        default: .sha256
        }
    }

    /// Signs `bytes` (digest then sign; PKCS#1 v1.5 padding for RSA, DER ECDSA-Sig-Value for EC).
    static func sign(_ bytes: [UInt8], digest: DigestAlgorithm, with pkey: OpaquePointer) throws(PKIError) -> [UInt8] {
        OpenSSLErrorQueue.clear()
        guard let context = EVP_MD_CTX_new() else {
            throw .drainingOpenSSLQueue(.allocationFailed, operation: "EVP_MD_CTX_new")
        }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit_ex(context, nil, digest.rawValue, nil, nil, pkey, nil) == 1 else {
            throw .drainingOpenSSLQueue(.signingFailed, operation: "EVP_DigestSignInit_ex(\(digest))")
        }
        var length = 0
        let sized = bytes.withUnsafeBufferPointer { input in
            EVP_DigestSign(context, nil, &length, input.baseAddress, input.count)
        }
        guard sized == 1 else { throw .drainingOpenSSLQueue(.signingFailed, operation: "EVP_DigestSign") }
        var signature = [UInt8](repeating: 0, count: length)
        let signed = bytes.withUnsafeBufferPointer { input in
            EVP_DigestSign(context, &signature, &length, input.baseAddress, input.count)
        }
        guard signed == 1 else { throw .drainingOpenSSLQueue(.signingFailed, operation: "EVP_DigestSign") }
        return Array(signature.prefix(length))
    }

    /// Whether `signature` is a valid signature of `bytes` by `pkey`. A malformed signature is
    /// simply not valid; only a failure to set up the check throws.
    static func verify(
        _ signature: [UInt8], of bytes: [UInt8], digest: DigestAlgorithm, with pkey: OpaquePointer
    ) throws(PKIError) -> Bool {
        OpenSSLErrorQueue.clear()
        guard let context = EVP_MD_CTX_new() else {
            throw .drainingOpenSSLQueue(.allocationFailed, operation: "EVP_MD_CTX_new")
        }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit_ex(context, nil, digest.rawValue, nil, nil, pkey, nil) == 1 else {
            throw .drainingOpenSSLQueue(.signingFailed, operation: "EVP_DigestVerifyInit_ex(\(digest))")
        }
        let result = signature.withUnsafeBufferPointer { sig in
            bytes.withUnsafeBufferPointer { input in
                EVP_DigestVerify(context, sig.baseAddress, sig.count, input.baseAddress, input.count)
            }
        }
        OpenSSLErrorQueue.clear()
        return result == 1
    }
}
