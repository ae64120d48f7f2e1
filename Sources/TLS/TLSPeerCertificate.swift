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

    public init(commonName: String?, uris: [String], dnsNames: [String], subject: String, issuer: String) {
        self.commonName = commonName
        self.uris = uris
        self.dnsNames = dnsNames
        self.subject = subject
        self.issuer = issuer
    }

    init(_ certificate: OpaquePointer) {
        commonName = Self.commonName(of: certificate)
        subject = Self.oneLine(X509_get_subject_name(certificate))
        issuer = Self.oneLine(X509_get_issuer_name(certificate))
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
