internal import COpenSSL
internal import COutpostShims.OpenSSL
internal import Glibc

/// Conversions between OpenSSL's ASN.1 values and Swift values, shared by certificates, requests
/// and CRLs. Every function here borrows its C arguments; whatever it returns as a pointer the
/// caller owns.
enum OpenSSLValues {
    // MARK: Times

    static func time(_ asn1: UnsafePointer<ASN1_TIME>?) -> PKITime? {
        guard let asn1 else { return nil }
        var fields = tm()
        guard ASN1_TIME_to_tm(asn1, &fields) == 1 else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        return PKITime(secondsSince1970: Int64(timegm(&fields)))
    }

    /// A new `ASN1_TIME` (UTCTime before 2050, GeneralizedTime from 2050, as RFC 5280 wants).
    static func makeTime(_ time: PKITime, operation: String) throws(PKIError) -> UnsafeMutablePointer<ASN1_TIME> {
        guard let asn1 = ASN1_TIME_set(nil, time_t(time.secondsSince1970)) else {
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): ASN1_TIME_set(\(time))")
        }
        return asn1
    }

    // MARK: Serial numbers

    /// Uppercase hexadecimal, whole bytes (`0F3A…`), as `openssl x509 -serial` prints it.
    static func serialHex(_ integer: UnsafePointer<ASN1_INTEGER>?) -> String {
        guard let integer, let number = ASN1_INTEGER_to_BN(integer, nil) else {
            OpenSSLErrorQueue.clear()
            return ""
        }
        defer { BN_free(number) }
        return hex(of: number)
    }

    static func hex(of number: OpaquePointer) -> String {
        guard let text = BN_bn2hex(number) else { return "" }
        defer { outpost_OPENSSL_free(text) }
        return String(cString: text)
    }

    /// The canonical form of a serial typed by a person (`0f:3a…`, `0x0F3A`, `F3A`), or `nil`.
    static func canonicalSerial(_ text: String) -> String? {
        var digits = text.filter { $0 != ":" }
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits.removeFirst(2) }
        guard !digits.isEmpty, digits.count <= 40, digits.allSatisfy(\.isHexDigit) else { return nil }
        var number: OpaquePointer?
        guard BN_hex2bn(&number, digits) > 0, let number else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        defer { BN_free(number) }
        return hex(of: number)
    }

    static func makeInteger(hex text: String, operation: String) throws(PKIError) -> UnsafeMutablePointer<ASN1_INTEGER> {
        guard let canonical = canonicalSerial(text) else {
            throw .refused(.invalidInput, operation: operation, reason: "'\(text)' is not a hexadecimal serial number")
        }
        var number: OpaquePointer?
        guard BN_hex2bn(&number, canonical) > 0, let number else {
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): BN_hex2bn")
        }
        defer { BN_free(number) }
        guard let integer = BN_to_ASN1_INTEGER(number, nil) else {
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): BN_to_ASN1_INTEGER")
        }
        return integer
    }

    /// A positive 128-bit serial with its top bit set (always 32 hex digits), from OpenSSL's DRBG.
    static func randomSerial(operation: String) throws(PKIError) -> UnsafeMutablePointer<ASN1_INTEGER> {
        guard let number = BN_new() else {
            throw .drainingOpenSSLQueue(.allocationFailed, operation: "\(operation): BN_new")
        }
        defer { BN_free(number) }
        guard BN_rand(number, 128, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1 else {
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): BN_rand")
        }
        guard let integer = BN_to_ASN1_INTEGER(number, nil) else {
            throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): BN_to_ASN1_INTEGER")
        }
        return integer
    }

    // MARK: Names

    /// RFC 2253 text, most specific first (`CN=SEP001122334455,O=Outpost`).
    static func nameString(_ name: OpaquePointer?) -> String {
        guard let name, let bio = try? MemoryBIO(operation: "X509_NAME_print_ex") else { return "" }
        guard X509_NAME_print_ex(bio.pointer, name, 0, outpost_pki_name_flags_rfc2253()) >= 0 else {
            OpenSSLErrorQueue.clear()
            return ""
        }
        return String(decoding: bio.contents, as: UTF8.self)
    }

    /// The (last) commonName attribute, as UTF-8.
    static func commonName(_ name: OpaquePointer?) -> String? {
        guard let name else { return nil }
        var index: Int32 = -1
        var last: Int32 = -1
        while true {
            index = X509_NAME_get_index_by_NID(name, NID_commonName, index)
            if index < 0 { break }
            last = index
        }
        guard last >= 0, let entry = X509_NAME_get_entry(name, last),
              let data = X509_NAME_ENTRY_get_data(entry)
        else { return nil }
        var utf8: UnsafeMutablePointer<UInt8>?
        let length = ASN1_STRING_to_UTF8(&utf8, data)
        guard length >= 0, let utf8 else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        defer { outpost_OPENSSL_free(utf8) }
        return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
    }

    /// Every attribute in encoding order (`[("C", "NZ"), ("O", "Outpost"), ("CN", "…")]`), by
    /// OpenSSL's short name (the OID in dotted form when it has none), values as UTF-8.
    static func attributes(_ name: OpaquePointer?) -> [(type: String, value: String)] {
        guard let name else { return [] }
        var result: [(type: String, value: String)] = []
        for index in 0..<X509_NAME_entry_count(name) {
            guard let entry = X509_NAME_get_entry(name, index), let data = X509_NAME_ENTRY_get_data(entry) else { continue }
            let object = X509_NAME_ENTRY_get_object(entry)
            let nid = OBJ_obj2nid(object)
            let type = nid == NID_undef ? oid(object) : String(cString: OBJ_nid2sn(nid))
            var utf8: UnsafeMutablePointer<UInt8>?
            let length = ASN1_STRING_to_UTF8(&utf8, data)
            guard length >= 0, let utf8 else {
                OpenSSLErrorQueue.clear()
                continue
            }
            result.append((type, String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)))
            outpost_OPENSSL_free(utf8)
        }
        return result
    }

    /// A new `X509_NAME` for `name`; the caller frees it with `X509_NAME_free`.
    static func makeName(_ name: DistinguishedName, operation: String) throws(PKIError) -> OpaquePointer {
        guard let x509Name = X509_NAME_new() else {
            throw .drainingOpenSSLQueue(.allocationFailed, operation: "\(operation): X509_NAME_new")
        }
        // Least specific first in the DER sequence, so the RFC 2253 text starts with CN.
        var attributes: [(String, String)] = []
        if let country = name.country { attributes.append(("C", country)) }
        if let organization = name.organization { attributes.append(("O", organization)) }
        if let unit = name.organizationalUnit { attributes.append(("OU", unit)) }
        attributes.append(("CN", name.commonName))
        for (field, value) in attributes {
            let bytes = Array(value.utf8)
            let added = bytes.withUnsafeBufferPointer { buffer in
                X509_NAME_add_entry_by_txt(x509Name, field, MBSTRING_UTF8, buffer.baseAddress, Int32(buffer.count), -1, 0)
            }
            guard added == 1 else {
                X509_NAME_free(x509Name)
                throw .drainingOpenSSLQueue(.invalidInput, operation: "\(operation): X509_NAME_add_entry_by_txt(\(field)=\(value))")
            }
        }
        return x509Name
    }

    // MARK: Objects

    /// The dotted OID of an `ASN1_OBJECT`.
    static func oid(_ object: OpaquePointer?) -> String {
        guard let object else { return "" }
        var buffer = [CChar](repeating: 0, count: 128)
        let length = buffer.withUnsafeMutableBufferPointer { pointer in
            OBJ_obj2txt(pointer.baseAddress, Int32(pointer.count), object, 1)
        }
        guard length > 0 else { return "" }
        return String(decoding: buffer.prefix(Int(min(length, 127))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// OpenSSL's long name for a NID (`sha256WithRSAEncryption`, `ecdsa-with-SHA384`).
    static func longName(nid: Int32) -> String {
        guard nid != NID_undef, let name = OBJ_nid2ln(nid) else { return "unknown" }
        return String(cString: name)
    }

    /// The digest inside a signature algorithm, or `nil` when there is none or it is unknown to us.
    static func digest(ofSignatureNID nid: Int32) -> (name: String, algorithm: DigestAlgorithm?) {
        var digest: Int32 = NID_undef
        var key: Int32 = NID_undef
        guard OBJ_find_sigid_algs(nid, &digest, &key) == 1, digest != NID_undef else {
            return ("none", nil)
        }
        let algorithm: DigestAlgorithm? = switch digest {
        case NID_sha1: .sha1
        case NID_sha256: .sha256
        case NID_sha384: .sha384
        case NID_sha512: .sha512
        default: nil
        }
        return (longName(nid: digest), algorithm)
    }

    // MARK: General names

    static func generalNames(_ names: OpaquePointer?) -> [SubjectAlternativeName] {
        guard let names else { return [] }
        var result: [SubjectAlternativeName] = []
        for index in 0..<outpost_pki_GENERAL_NAMES_count(names) {
            guard let name = outpost_pki_GENERAL_NAMES_value(names, index) else { continue }
            let type = outpost_pki_general_name_type(name)
            var length: Int32 = 0
            let data = outpost_pki_general_name_bytes(name, &length)
            let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: Int(length))) } ?? []
            switch type {
            case GEN_DNS: result.append(.dns(String(decoding: bytes, as: UTF8.self)))
            case GEN_URI: result.append(.uri(String(decoding: bytes, as: UTF8.self)))
            case GEN_EMAIL: result.append(.email(String(decoding: bytes, as: UTF8.self)))
            case GEN_IPADD: result.append(.ipAddress(ipText(bytes)))
            default: result.append(.other(type: Int(type)))
            }
        }
        return result
    }

    static func ipText(_ bytes: [UInt8]) -> String {
        let family: Int32
        switch bytes.count {
        case 4: family = AF_INET
        case 16: family = AF_INET6
        default: return bytes.map { String($0, radix: 16) }.joined(separator: ":")
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count))
        }
        guard ok != nil else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Throws for a name `makeGeneralNames` would refuse.
    static func validate(_ names: [SubjectAlternativeName], operation: String) throws(PKIError) {
        let stack = try makeGeneralNames(names, operation: operation)
        outpost_pki_GENERAL_NAMES_free(stack)
    }

    /// A new `GENERAL_NAMES` stack; the caller frees it with `outpost_pki_GENERAL_NAMES_free`.
    static func makeGeneralNames(_ names: [SubjectAlternativeName], operation: String) throws(PKIError) -> OpaquePointer {
        for name in names { try name.validate(operation: operation) }
        guard let stack = outpost_pki_GENERAL_NAMES_new() else {
            throw .drainingOpenSSLQueue(.allocationFailed, operation: "\(operation): sk_GENERAL_NAME_new_null")
        }
        for name in names {
            let general: UnsafeMutablePointer<GENERAL_NAME>?
            switch name {
            case .dns(let text), .uri(let text), .email(let text):
                let type = switch name {
                case .dns: GEN_DNS
                case .uri: GEN_URI
                default: GEN_EMAIL
                }
                let bytes = Array(text.utf8).map { CChar(bitPattern: $0) }
                general = bytes.withUnsafeBufferPointer { buffer in
                    outpost_pki_general_name_new_ia5(type, buffer.baseAddress, Int32(buffer.count))
                }
            case .ipAddress(let text):
                general = outpost_pki_general_name_new_ip(text)
                if general == nil {
                    outpost_pki_GENERAL_NAMES_free(stack)
                    OpenSSLErrorQueue.clear()
                    throw .refused(.invalidInput, operation: operation, reason: "'\(text)' is not an IPv4 or IPv6 address")
                }
            case .other(let type):
                outpost_pki_GENERAL_NAMES_free(stack)
                throw .refused(.invalidInput, operation: operation, reason: "cannot encode a general name of type \(type)")
            }
            guard let general else {
                outpost_pki_GENERAL_NAMES_free(stack)
                throw .drainingOpenSSLQueue(.buildFailed, operation: "\(operation): GENERAL_NAME for \(name)")
            }
            guard outpost_pki_GENERAL_NAMES_push(stack, general) == 1 else {
                GENERAL_NAME_free(general)
                outpost_pki_GENERAL_NAMES_free(stack)
                throw .drainingOpenSSLQueue(.allocationFailed, operation: "\(operation): sk_GENERAL_NAME_push")
            }
        }
        return stack
    }
}
