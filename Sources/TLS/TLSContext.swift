internal import COpenSSL
internal import COutpostShims.OpenSSL

/// The shared OpenSSL configuration (`SSL_CTX`) connections are created from.
///
/// `@unchecked Sendable`: the context is fully configured in `init` and never changed after;
/// OpenSSL allows creating connections from one context on many threads at once.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    public let configuration: TLSConfiguration
    /// `configuration.crlOptionalRoots` normalised: uppercase hex, no colons.
    let crlOptionalRoots: Set<String>

    public init(configuration: TLSConfiguration) throws(TLSError) {
        ERR_clear_error()
        guard let context = SSL_CTX_new(configuration.role == .server ? TLS_server_method() : TLS_client_method()) else {
            throw .draining(.configuration, context: "SSL_CTX_new failed")
        }
        self.context = context
        self.configuration = configuration
        self.crlOptionalRoots = Set(configuration.crlOptionalRoots.map { $0.filter { $0 != ":" }.uppercased() })
        try configure()
    }

    deinit { SSL_CTX_free(context) }

    private func configure() throws(TLSError) {
        let settings = configuration
        let version = { (version: TLSConfiguration.Version) in version == .tls13 ? outpost_tls1_3_version() : outpost_tls1_2_version() }
        guard outpost_SSL_CTX_set_min_proto_version(context, version(settings.minimumVersion)) == 1,
              outpost_SSL_CTX_set_max_proto_version(context, version(settings.maximumVersion)) == 1
        else { throw .draining(.configuration, context: "cannot restrict TLS versions") }
        _ = outpost_SSL_CTX_set_options(context, outpost_tls_hardening_options())
        _ = outpost_SSL_CTX_set_mode_release_buffers(context)
        // Level 0 lets a legacy phone's SHA-1 signed manufacturer certificate through; the key
        // floor is enforced by the verify callback instead, and FIPS mode raises the level.
        SSL_CTX_set_security_level(context, settings.fipsMode ? 2 : 0)
        guard SSL_CTX_set_cipher_list(context, settings.cipherList) == 1 else {
            throw .draining(.configuration, context: "cipher list '\(settings.cipherList)' refused")
        }
        guard SSL_CTX_set_ciphersuites(context, settings.cipherSuites) == 1 else {
            throw .draining(.configuration, context: "TLS 1.3 suites '\(settings.cipherSuites)' refused")
        }
        guard outpost_SSL_CTX_set1_groups_list(context, settings.groups) == 1 else {
            throw .draining(.configuration, context: "groups '\(settings.groups)' refused")
        }
        if let chain = settings.certificateChainPath {
            guard SSL_CTX_use_certificate_chain_file(context, chain) == 1 else {
                throw .draining(.configuration, context: "cannot load certificate chain \(chain)")
            }
        }
        if let key = settings.privateKeyPath {
            guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
                throw .draining(.configuration, context: "cannot load private key \(key)")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw .draining(.configuration, context: "private key \(key) does not match the certificate")
            }
        }
        if let roots = settings.trustRootsPath {
            guard SSL_CTX_load_verify_locations(context, roots, nil) == 1 else {
                throw .draining(.configuration, context: "cannot load trust roots \(roots)")
            }
            if settings.role == .server, let names = SSL_load_client_CA_file(roots) {
                SSL_CTX_set_client_CA_list(context, names)
            }
        }
        if !settings.crlPaths.isEmpty {
            let store = SSL_CTX_get_cert_store(context)
            guard let lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file()) else {
                throw .draining(.configuration, context: "cannot add a CRL lookup")
            }
            for path in settings.crlPaths where X509_load_crl_file(lookup, path, X509_FILETYPE_PEM) < 1 {
                throw .draining(.configuration, context: "cannot load CRL \(path)")
            }
            X509_STORE_set_flags(store, UInt(outpost_x509_v_flags_crl_check_all()))
        }
        let sessionContext: [UInt8] = Array("outpost-sip".utf8)
        _ = SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))
        _ = outpost_SSL_CTX_set_timeout(context, 7200)

        // The verify callback finds this context (and its CRL-optional roots) through the
        // SSL_CTX's ex_data; unretained, since every connection holds its context.
        guard contextOwnerIndex >= 0, SSL_CTX_set_ex_data(context, contextOwnerIndex, Unmanaged.passUnretained(self).toOpaque()) == 1 else {
            throw .draining(.configuration, context: "cannot attach the context to its SSL_CTX")
        }

        var mode: Int32 = 0
        switch settings.peerVerification {
        case .required:
            mode = outpost_ssl_verify_peer() | outpost_ssl_verify_fail_if_no_peer_cert() | outpost_ssl_verify_client_once()
        case .optional:
            mode = outpost_ssl_verify_peer() | outpost_ssl_verify_client_once()
        case .none:
            mode = 0
        }
        if settings.fipsMode {
            SSL_CTX_set_verify(context, mode, verifyWithFIPSFloor)
        } else {
            SSL_CTX_set_verify(context, mode, verifyWithKeyFloor)
        }
    }
}

extension TLSContext {
    /// Verifies a chain a peer presented earlier against this context's trust roots and CRLs, as
    /// the handshake does (the same store and flags, the same purpose and security level, the
    /// same key floor, SHA-1 refusal and CRL-optional roots through the same verify callback), at
    /// the current time. Nil when it still verifies; otherwise OpenSSL's verification error
    /// ("certificate revoked", "unable to get local issuer certificate", "certificate has expired").
    /// A connection opened before trust changed is judged by the trust of now.
    public func reverify(_ peer: TLSPeerCertificate) -> String? {
        guard let leafBytes = peer.chain.first, let leaf = Self.certificate(fromDER: leafBytes) else {
            return "no stored peer certificate"
        }
        defer { X509_free(leaf) }
        guard let untrusted = outpost_sk_X509_new_null() else { return "out of memory" }
        defer { outpost_sk_X509_pop_free(untrusted) }
        for bytes in peer.chain.dropFirst() {
            guard let certificate = Self.certificate(fromDER: bytes) else { return "a stored chain certificate does not parse" }
            if outpost_sk_X509_push(untrusted, certificate) <= 0 {
                X509_free(certificate)
                return "out of memory"
            }
        }
        // A connection object of this context carries its parameters and verify callback, and
        // lets the callback find this context as it does during a handshake.
        guard let ssl = SSL_new(context) else { return "SSL_new failed" }
        defer { SSL_free(ssl) }
        guard let store = X509_STORE_CTX_new() else { return "out of memory" }
        defer { X509_STORE_CTX_free(store) }
        ERR_clear_error()
        guard X509_STORE_CTX_init(store, SSL_CTX_get_cert_store(context), leaf, untrusted) == 1 else {
            return (["cannot set up verification"] + OpenSSLErrors.drain()).joined(separator: "; ")
        }
        // What libssl's ssl_verify_cert_chain does before X509_verify_cert.
        guard X509_STORE_CTX_set_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx(), UnsafeMutableRawPointer(ssl)) == 1 else {
            return "cannot attach the connection to the verification"
        }
        let parameters = X509_STORE_CTX_get0_param(store)
        X509_VERIFY_PARAM_set_auth_level(parameters, SSL_get_security_level(ssl))
        _ = X509_STORE_CTX_set_default(store, configuration.role == .server ? "ssl_client" : "ssl_server")
        _ = X509_VERIFY_PARAM_set1(parameters, SSL_get0_param(ssl))
        if let callback = SSL_get_verify_callback(ssl) { X509_STORE_CTX_set_verify_cb(store, callback) }
        let verified = X509_verify_cert(store)
        ERR_clear_error()
        if verified == 1 { return nil }
        let code = X509_STORE_CTX_get_error(store)
        return code == X509_V_OK ? "verification failed" : String(cString: X509_verify_cert_error_string(Int(code)))
    }

    private static func certificate(fromDER bytes: [UInt8]) -> OpaquePointer? {
        bytes.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
    }
}

/// The certificate floor of DESIGN.md on top of OpenSSL's own chain checks: RSA of at least 2048
/// bits or EC on P-256, P-384 or P-521; anything else is refused as "key too small".
private func keyMeetsFloor(_ certificate: OpaquePointer) -> Bool {
    guard let key = X509_get0_pubkey(certificate) else { return false }
    switch EVP_PKEY_get_base_id(key) {
    case EVP_PKEY_RSA, EVP_PKEY_RSA_PSS:
        return EVP_PKEY_get_bits(key) >= 2048
    case EVP_PKEY_EC:
        var name = [CChar](repeating: 0, count: 64)
        var length = 0
        guard EVP_PKEY_get_group_name(key, &name, name.count, &length) == 1 else { return false }
        let curve = String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return ["prime256v1", "secp384r1", "secp521r1", "P-256", "P-384", "P-521"].contains(curve)
    default:
        return false
    }
}

/// The ex_data slot of an `SSL_CTX` that holds its `TLSContext`.
private let contextOwnerIndex: Int32 = outpost_SSL_CTX_get_ex_new_index()

/// The `TLSContext` whose `SSL_CTX` the connection being verified came from.
private func owner(of store: OpaquePointer) -> TLSContext? {
    guard let ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
          let context = SSL_get_SSL_CTX(OpaquePointer(ssl)),
          let owner = SSL_CTX_get_ex_data(context, contextOwnerIndex)
    else { return nil }
    return Unmanaged<TLSContext>.fromOpaque(owner).takeUnretainedValue()
}

/// Whether the chain being verified ends at a trusted root (one from the trust store, not the
/// peer) whose SHA-256 fingerprint is among the context's CRL-optional roots.
private func chainEndsAtCRLOptionalRoot(_ store: OpaquePointer) -> Bool {
    guard let optional = owner(of: store)?.crlOptionalRoots, !optional.isEmpty,
          let chain = X509_STORE_CTX_get0_chain(store)
    else { return false }
    let count = outpost_sk_X509_num(chain)
    guard count > 0, count > X509_STORE_CTX_get_num_untrusted(store), let root = outpost_sk_X509_value(chain, count - 1),
          X509_check_issued(root, root) == X509_V_OK
    else { return false }
    var digest = [UInt8](repeating: 0, count: 64)
    var length: UInt32 = 0
    guard X509_digest(root, EVP_sha256(), &digest, &length) == 1 else { return false }
    let hex = "0123456789ABCDEF".map(\.self)
    let fingerprint = String(digest.prefix(Int(length)).flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0x0F)]] })
    return optional.contains(fingerprint)
}

private func checkFloor(_ preverified: Int32, _ store: OpaquePointer?, refuseSHA1: Bool) -> Int32 {
    // The one error a CRL-optional root forgives: no CRL for a certificate of its chain. A CRL
    // that is found is checked as usual, so "certificate revoked" still refuses.
    if preverified == 0, let store, X509_STORE_CTX_get_error(store) == outpost_x509_v_err_unable_to_get_crl(),
       chainEndsAtCRLOptionalRoot(store) {
        X509_STORE_CTX_set_error(store, X509_V_OK)
        return 1
    }
    guard preverified == 1, let store, let certificate = X509_STORE_CTX_get_current_cert(store) else { return preverified }
    let depth = X509_STORE_CTX_get_error_depth(store)
    if !keyMeetsFloor(certificate) {
        X509_STORE_CTX_set_error(store, depth == 0 ? outpost_x509_v_err_ee_key_too_small() : outpost_x509_v_err_ca_key_too_small())
        return 0
    }
    // A trust anchor's signature on itself proves nothing, so only issued certificates count.
    if refuseSHA1, X509_check_issued(certificate, certificate) != X509_V_OK, outpost_signature_digest_nid(certificate) == NID_sha1 {
        X509_STORE_CTX_set_error(store, outpost_x509_v_err_ca_md_too_weak())
        return 0
    }
    return 1
}

private func verifyWithKeyFloor(_ preverified: Int32, _ store: OpaquePointer?) -> Int32 {
    checkFloor(preverified, store, refuseSHA1: false)
}

private func verifyWithFIPSFloor(_ preverified: Int32, _ store: OpaquePointer?) -> Int32 {
    checkFloor(preverified, store, refuseSHA1: true)
}
