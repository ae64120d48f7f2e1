internal import COpenSSL
internal import COutpostShims.OpenSSL

/// Who the peer proved to be: what SIP needs from its certificate (RFC 5922 §7.1 and the Cisco
/// convention of the device name in the subject CN).
public struct TLSPeerCertificate: Hashable, Sendable {
    public var commonName: String?
    public var uris: [String]
    public var dnsNames: [String]
    public var subject: String
    public var issuer: String
    /// The leaf's serial number, uppercase hex (as `openssl x509 -serial` prints it).
    public var serialNumber: String
    /// The certificates the peer presented, DER, its own first: what `TLSContext.reverify`
    /// checks again when trust roots or CRLs change while the connection is open.
    public var chain: [[UInt8]]

    public init(
        commonName: String?, uris: [String], dnsNames: [String], subject: String, issuer: String, serialNumber: String = "",
        chain: [[UInt8]] = []
    ) {
        self.commonName = commonName
        self.uris = uris
        self.dnsNames = dnsNames
        self.subject = subject
        self.issuer = issuer
        self.serialNumber = serialNumber
        self.chain = chain
    }

    /// `presented`: the rest of the chain the peer sent (it may repeat the leaf).
    init(_ certificate: OpaquePointer, presented: OpaquePointer?) {
        commonName = Self.commonName(of: certificate)
        subject = Self.oneLine(X509_get_subject_name(certificate))
        issuer = Self.oneLine(X509_get_issuer_name(certificate))
        serialNumber = Self.serialNumber(of: certificate)
        let leaf = Self.der(certificate)
        var chain = [leaf]
        if let presented {
            for index in 0..<outpost_sk_X509_num(presented) {
                guard let other = outpost_sk_X509_value(presented, index) else { continue }
                let bytes = Self.der(other)
                if bytes != leaf, !bytes.isEmpty { chain.append(bytes) }
            }
        }
        self.chain = chain
        var uris: [String] = []
        var dnsNames: [String] = []
        if let names = outpost_X509_subject_alt_names(certificate) {
            for index in 0..<outpost_sk_GENERAL_NAME_num(names) {
                guard let name = outpost_sk_GENERAL_NAME_value(names, index) else { continue }
                var length: Int32 = 0
                guard let bytes = outpost_general_name_ia5(name, &length) else { continue }
                let text = String(decoding: UnsafeBufferPointer(start: bytes, count: Int(length)), as: UTF8.self)
                switch outpost_general_name_type(name) {
                case outpost_gen_uri(): uris.append(text)
                case outpost_gen_dns(): dnsNames.append(text)
                default: break
                }
            }
            outpost_GENERAL_NAMES_free(names)
        }
        self.uris = uris
        self.dnsNames = dnsNames
    }

    static func der(_ certificate: OpaquePointer) -> [UInt8] {
        let length = i2d_X509(certificate, nil)
        guard length > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(length))
        let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_X509(certificate, &cursor)
        }
        return written == length ? bytes : []
    }

    private static func serialNumber(of certificate: OpaquePointer) -> String {
        guard let serial = X509_get0_serialNumber(certificate), let number = ASN1_INTEGER_to_BN(serial, nil) else { return "" }
        defer { BN_free(number) }
        guard let hex = BN_bn2hex(number) else { return "" }
        defer { outpost_OPENSSL_free(hex) }
        return String(cString: hex)
    }

    private static func commonName(of certificate: OpaquePointer) -> String? {
        guard let name = X509_get_subject_name(certificate) else { return nil }
        let index = X509_NAME_get_index_by_NID(name, NID_commonName, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index), let data = X509_NAME_ENTRY_get_data(entry) else { return nil }
        var utf8: UnsafeMutablePointer<UInt8>?
        let length = ASN1_STRING_to_UTF8(&utf8, data)
        guard length >= 0, let utf8 else { return nil }
        defer { outpost_OPENSSL_free(utf8) }
        return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
    }

    private static func oneLine(_ name: OpaquePointer?) -> String {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, name, 0, outpost_xn_flag_rfc2253()) >= 0 else { return "" }
        var data: UnsafeMutablePointer<CChar>?
        let length = outpost_BIO_get_mem_data(bio, &data)
        guard length > 0, let data else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }
}
