internal import COpenSSL
internal import COutpostShims.OpenSSL

/// An X.509 v2 certificate revocation list (`X509_CRL`), immutable once created.
///
/// `@unchecked Sendable`: no method mutates the `X509_CRL` after `init`; the revoked-entry index
/// OpenSSL sorts lazily is sorted in `init` (`X509_CRL_sort`), and the DER is taken there.
public final class CertificateRevocationList: @unchecked Sendable {
    /// RFC 5280 §5.3.1 reason codes.
    public enum Reason: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        case unspecified = 0
        case keyCompromise = 1
        case caCompromise = 2
        case affiliationChanged = 3
        case superseded = 4
        case cessationOfOperation = 5
        case certificateHold = 6
        case removeFromCRL = 8
        case privilegeWithdrawn = 9
        case aaCompromise = 10

        /// The name RFC 5280 gives the reason (`keyCompromise`).
        public var description: String {
            switch self {
            case .unspecified: "unspecified"
            case .keyCompromise: "keyCompromise"
            case .caCompromise: "cACompromise"
            case .affiliationChanged: "affiliationChanged"
            case .superseded: "superseded"
            case .cessationOfOperation: "cessationOfOperation"
            case .certificateHold: "certificateHold"
            case .removeFromCRL: "removeFromCRL"
            case .privilegeWithdrawn: "privilegeWithdrawn"
            case .aaCompromise: "aACompromise"
            }
        }

        /// Parses the RFC name, case-insensitively (`keycompromise`, `superseded`).
        public init?(name: String) {
            guard let match = Reason.allCases.first(where: { $0.description.lowercased() == name.lowercased() }) else { return nil }
            self = match
        }
    }

    /// One revoked certificate.
    public struct Entry: Sendable, Hashable {
        /// Uppercase hexadecimal, as `Certificate.serialNumber`.
        public var serialNumber: String
        public var revocationDate: PKITime
        /// `nil`: the entry carries no reasonCode extension.
        public var reason: Reason?

        public init(serialNumber: String, revocationDate: PKITime, reason: Reason? = nil) {
            self.serialNumber = serialNumber
            self.revocationDate = revocationDate
            self.reason = reason
        }
    }

    /// `X509_CRL *`, owned: released in `deinit`.
    let pointer: OpaquePointer
    public let derEncoded: [UInt8]

    init(taking crl: OpaquePointer, operation: String) throws(PKIError) {
        _ = X509_CRL_sort(crl)
        var output: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509_CRL(crl, &output)
        guard length > 0, let output else {
            X509_CRL_free(crl)
            throw .drainingOpenSSLQueue(.encodingFailed, operation: "\(operation): i2d_X509_CRL")
        }
        self.derEncoded = Array(UnsafeBufferPointer(start: output, count: Int(length)))
        outpost_OPENSSL_free(output)
        self.pointer = crl
        OpenSSLErrorQueue.clear()
    }

    deinit {
        X509_CRL_free(pointer)
    }

    /// Decodes the first CRL of a PEM text (`-----BEGIN X509 CRL-----`).
    public convenience init(pemEncoded pem: String) throws(PKIError) {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(copying: Array(pem.utf8), operation: "PEM_read_bio_X509_CRL")
        guard let crl = PEM_read_bio_X509_CRL(bio.pointer, nil, nil, nil) else {
            throw .drainingOpenSSLQueue(.decodingFailed, operation: "PEM_read_bio_X509_CRL")
        }
        try self.init(taking: crl, operation: "PEM_read_bio_X509_CRL")
    }

    /// Decodes a DER CRL.
    public convenience init(derEncoded der: some Collection<UInt8>) throws(PKIError) {
        OpenSSLErrorQueue.clear()
        let bytes = Array(der)
        let crl: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_X509_CRL(nil, &cursor, buffer.count)
        }
        guard let crl else { throw .drainingOpenSSLQueue(.decodingFailed, operation: "d2i_X509_CRL") }
        try self.init(taking: crl, operation: "d2i_X509_CRL")
    }

    /// Builds a version 2 CRL signed by `authority`: issuer = the CA's subject, the CA's
    /// authorityKeyIdentifier, cRLNumber `number`, and one entry per revoked certificate.
    public static func build(
        authority: CertificateAuthority, entries: [Entry], number: Int, thisUpdate: PKITime, nextUpdate: PKITime,
        digest: DigestAlgorithm? = nil
    ) throws(PKIError) -> CertificateRevocationList {
        let operation = "build CRL"
        OpenSSLErrorQueue.clear()
        guard thisUpdate < nextUpdate else {
            throw .refused(.invalidInput, operation: operation, reason: "nextUpdate \(nextUpdate) is not after thisUpdate \(thisUpdate)")
        }
        guard number >= 0 else {
            throw .refused(.invalidInput, operation: operation, reason: "CRL number \(number) is negative")
        }
        guard let crl = X509_CRL_new() else {
            throw .drainingOpenSSLQueue(.allocationFailed, operation: "\(operation): X509_CRL_new")
        }
        var owned: OpaquePointer? = crl
        defer { if let owned { X509_CRL_free(owned) } }

        let last = try OpenSSLValues.makeTime(thisUpdate, operation: operation)
        defer { ASN1_TIME_free(last) }
        let next = try OpenSSLValues.makeTime(nextUpdate, operation: operation)
        defer { ASN1_TIME_free(next) }
        guard X509_CRL_set_version(crl, 1) == 1,
              X509_CRL_set_issuer_name(crl, X509_get_subject_name(authority.certificate.pointer)) == 1,
              X509_CRL_set1_lastUpdate(crl, last) == 1,
              X509_CRL_set1_nextUpdate(crl, next) == 1
        else {
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): X509_CRL_set_*")
        }

        for entry in entries {
            try add(entry, to: crl, operation: operation)
        }

        guard let crlNumber = ASN1_INTEGER_new() else {
            throw .drainingOpenSSLQueue(.allocationFailed, operation: "\(operation): ASN1_INTEGER_new")
        }
        defer { ASN1_INTEGER_free(crlNumber) }
        guard ASN1_INTEGER_set(crlNumber, number) == 1,
              X509_CRL_add1_ext_i2d(crl, NID_crl_number, UnsafeMutableRawPointer(crlNumber), 0, 0) == 1
        else {
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): cRLNumber")
        }
        guard let akid = outpost_pki_extension(authority.certificate.pointer, nil, nil, crl, NID_authority_key_identifier, "keyid:always") else {
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): authorityKeyIdentifier")
        }
        defer { X509_EXTENSION_free(akid) }
        guard X509_CRL_add_ext(crl, akid, -1) == 1 else {
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): X509_CRL_add_ext")
        }

        _ = X509_CRL_sort(crl)
        let md = (digest ?? KeyFacts.defaultDigest(for: authority.privateKey.pointer)).evpMD
        guard X509_CRL_sign(crl, authority.privateKey.pointer, md) > 0 else {
            throw .drainingOpenSSLQueue(.signingFailed, operation: "\(operation): X509_CRL_sign")
        }
        owned = nil
        return try CertificateRevocationList(taking: crl, operation: operation)
    }

    private static func add(_ entry: Entry, to crl: OpaquePointer, operation: String) throws(PKIError) {
        let serial = try OpenSSLValues.makeInteger(hex: entry.serialNumber, operation: operation)
        defer { ASN1_INTEGER_free(serial) }
        let date = try OpenSSLValues.makeTime(entry.revocationDate, operation: operation)
        defer { ASN1_TIME_free(date) }
        guard let revoked = X509_REVOKED_new() else {
            throw .drainingOpenSSLQueue(.allocationFailed, operation: "\(operation): X509_REVOKED_new")
        }
        guard X509_REVOKED_set_serialNumber(revoked, serial) == 1,
              X509_REVOKED_set_revocationDate(revoked, date) == 1
        else {
            X509_REVOKED_free(revoked)
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): X509_REVOKED_set_*")
        }
        if let reason = entry.reason {
            guard let code = ASN1_ENUMERATED_new() else {
                X509_REVOKED_free(revoked)
                throw .drainingOpenSSLQueue(.allocationFailed, operation: "\(operation): ASN1_ENUMERATED_new")
            }
            defer { ASN1_ENUMERATED_free(code) }
            guard ASN1_ENUMERATED_set(code, reason.rawValue) == 1,
                  X509_REVOKED_add1_ext_i2d(revoked, NID_crl_reason, UnsafeMutableRawPointer(code), 0, 0) == 1
            else {
                X509_REVOKED_free(revoked)
                throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): reasonCode")
            }
        }
        guard X509_CRL_add0_revoked(crl, revoked) == 1 else {
            X509_REVOKED_free(revoked)
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): X509_CRL_add0_revoked")
        }
    }

    public func pemEncoded() throws(PKIError) -> String {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(operation: "PEM_write_bio_X509_CRL")
        guard PEM_write_bio_X509_CRL(bio.pointer, pointer) == 1 else {
            throw .drainingOpenSSLQueue(.encodingFailed, operation: "PEM_write_bio_X509_CRL")
        }
        return String(decoding: bio.contents, as: UTF8.self)
    }

    /// X.509 version as printed (2 for a v2 CRL).
    public var version: Int { Int(X509_CRL_get_version(pointer)) + 1 }

    /// The issuer in RFC 2253 text.
    public var issuer: String { OpenSSLValues.nameString(X509_CRL_get_issuer(pointer)) }

    public var thisUpdate: PKITime { OpenSSLValues.time(X509_CRL_get0_lastUpdate(pointer)) ?? PKITime(secondsSince1970: .max) }

    /// `nil` when the CRL has no nextUpdate.
    public var nextUpdate: PKITime? { OpenSSLValues.time(X509_CRL_get0_nextUpdate(pointer)) }

    /// The cRLNumber extension, or `nil`.
    public var number: Int? {
        let value = outpost_pki_crl_number(pointer)
        OpenSSLErrorQueue.clear()
        return value < 0 ? nil : value
    }

    /// OpenSSL's long name of the signature algorithm.
    public var signatureAlgorithm: String { OpenSSLValues.longName(nid: X509_CRL_get_signature_nid(pointer)) }

    /// The revoked certificates, in serial order.
    public var entries: [Entry] {
        (0..<outpost_pki_revoked_count(pointer)).compactMap { index in
            guard let revoked = outpost_pki_revoked_value(pointer, index) else { return nil }
            let reason = outpost_pki_revoked_reason(revoked)
            OpenSSLErrorQueue.clear()
            return Entry(
                serialNumber: OpenSSLValues.serialHex(X509_REVOKED_get0_serialNumber(revoked)),
                revocationDate: OpenSSLValues.time(X509_REVOKED_get0_revocationDate(revoked)) ?? PKITime(secondsSince1970: 0),
                reason: reason < 0 ? nil : Reason(rawValue: Int(reason)))
        }
    }

    /// Whether the CRL lists `serialNumber` (hex, any case, colons allowed).
    public func contains(serialNumber: String) -> Bool {
        guard let canonical = OpenSSLValues.canonicalSerial(serialNumber) else { return false }
        return entries.contains { $0.serialNumber == canonical }
    }

    /// Whether the CRL lists `certificate` (same issuer name and serial).
    public func contains(_ certificate: Certificate) -> Bool {
        X509_NAME_cmp(X509_CRL_get_issuer(pointer), X509_get_issuer_name(certificate.pointer)) == 0
            && contains(serialNumber: certificate.serialNumber)
    }

    /// Whether `issuer`'s key verifies the CRL's signature and the CRL names `issuer` as its issuer.
    public func verifySignature(issuer: Certificate) -> Bool {
        defer { OpenSSLErrorQueue.clear() }
        guard X509_NAME_cmp(X509_CRL_get_issuer(pointer), X509_get_subject_name(issuer.pointer)) == 0,
              let key = X509_get0_pubkey(issuer.pointer)
        else { return false }
        return X509_CRL_verify(pointer, key) == 1
    }
}
