/// A Cisco certificate trust list (`CTLFile.tlv`, `ITLFile.tlv`): the signed header (version 1.2,
/// see `CiscoSignedHeader`), then one record per certificate. Phones trust a TLS server, a signed
/// configuration file or a certificate issuer only when its certificate is in the list with the
/// matching function.
///
/// Record tags, as the reference `tlvfile` tool (usecallmanagernz/certutils) reads and writes them:
///
/// | tag | element          | value                                                        |
/// |-----|------------------|--------------------------------------------------------------|
/// | 1   | record length    | u16: bytes of the whole record, this element included        |
/// | 2   | DNS name         | NUL-terminated                                               |
/// | 3   | subject name     | `CN=…;O=…`, NUL-terminated                                   |
/// | 4   | function         | u16: the certificate's role (`Function`)                     |
/// | 5   | issuer name      | `CN=…;O=…`, NUL-terminated                                   |
/// | 6   | serial number    | big-endian bytes                                             |
/// | 7   | public key       | PKCS#1 RSAPublicKey DER, or the EC point                     |
/// | 8   | signature        | the certificate's own signature value                        |
/// | 9   | certificate      | DER                                                          |
/// | 10  | IP address       | 4 bytes, IPv4 in network order                               |
/// | 11  | certificate hash | read and ignored                                             |
/// | 12  | hash algorithm   | read and ignored                                             |
///
/// `tlvfile` writes tags 1, 3–9 and skips 10–12 when reading; the IPv4 form of tag 10 is the
/// natural one for a field named IP address but is not confirmed by a reference file, so it is
/// written only when the caller supplies an address.
public struct CiscoTrustList: Sendable {
    /// The role a record's certificate plays.
    public enum Function: UInt16, Sendable, Hashable, CaseIterable {
        /// System Administrator Security Token: signs the list itself.
        case sast = 0
        case callManager = 1
        case callManagerAndTFTP = 2
        /// Signs `.sgn` configuration files.
        case tftp = 3
        /// Certificate Authority Proxy Function: issues the phones' certificates.
        case capf = 4
        case applicationServer = 7
        case trustVerificationService = 21
    }

    public struct Record: Sendable, Equatable {
        public var function: Function
        public var certificate: Certificate
        public var dnsName: String?
        /// IPv4 address, 4 bytes.
        public var ipv4Address: [UInt8]?

        public init(function: Function, certificate: Certificate, dnsName: String? = nil, ipv4Address: [UInt8]? = nil) {
            self.function = function
            self.certificate = certificate
            self.dnsName = dnsName
            self.ipv4Address = ipv4Address
        }
    }

    /// One record as read from a file, its fields kept as they were written.
    public struct ParsedRecord: Sendable, Equatable {
        public var function: UInt16?
        public var dnsName: String?
        public var subjectName: String?
        public var issuerName: String?
        public var serialNumber: [UInt8]?
        public var publicKey: [UInt8]?
        public var certificateSignature: [UInt8]?
        public var certificateDER: [UInt8]?
        public var ipAddress: [UInt8]?
    }

    public var header: CiscoSignedHeader
    public var records: [ParsedRecord]

    enum Tag {
        static let length: UInt8 = 1
        static let dnsName: UInt8 = 2
        static let subjectName: UInt8 = 3
        static let function: UInt8 = 4
        static let issuerName: UInt8 = 5
        static let serialNumber: UInt8 = 6
        static let publicKey: UInt8 = 7
        static let signature: UInt8 = 8
        static let certificate: UInt8 = 9
        static let ipAddress: UInt8 = 10
        static let certificateHash: UInt8 = 11
        static let hashAlgorithm: UInt8 = 12
    }

    static let version: (major: UInt8, minor: UInt8) = (1, 2)

    /// Builds and signs a trust list. `signer`'s certificate should also be among `records` with
    /// the SAST function: phones find the list's signer there (by serial number) to check it.
    public static func build(
        records: [Record], signer: SigningIdentity, fileName: String, timestamp: PKITime, digest: DigestAlgorithm = .sha1
    ) throws(PKIError) -> [UInt8] {
        var body: [UInt8] = []
        for record in records { body.append(contentsOf: try encode(record)) }
        return try CiscoSignedHeader.sign(
            body: body, version: version, signer: signer, digest: digest, fileName: fileName,
            timestamp: UInt32(clamping: timestamp.secondsSince1970))
    }

    static func encode(_ record: Record) throws(PKIError) -> [UInt8] {
        let operation = "CiscoTrustList.build"
        let certificate = record.certificate
        var writer = CiscoTLVWriter(operation: operation)
        try writer.element(Tag.length, [0, 0])
        if let dnsName = record.dnsName { try writer.element(Tag.dnsName, CiscoSignedHeader.nulTerminated(dnsName)) }
        try writer.element(Tag.subjectName, CiscoSignedHeader.nulTerminated(CiscoSignedHeader.name(certificate.subjectAttributes)))
        try writer.element(Tag.function, CiscoSignedHeader.bigEndian(record.function.rawValue))
        try writer.element(Tag.issuerName, CiscoSignedHeader.nulTerminated(CiscoSignedHeader.name(certificate.issuerAttributes)))
        try writer.element(Tag.serialNumber, certificate.serialNumberBytes)
        try writer.element(Tag.publicKey, try certificate.publicKey.keyDataEncoded())
        try writer.element(Tag.signature, certificate.signatureValue)
        try writer.element(Tag.certificate, certificate.derEncoded)
        if let address = record.ipv4Address {
            guard address.count == 4 else {
                throw .refused(.invalidInput, operation: operation, reason: "an IPv4 address is 4 bytes, not \(address.count)")
            }
            try writer.element(Tag.ipAddress, address)
        }
        guard writer.bytes.count <= Int(UInt16.max) else {
            throw .refused(.invalidInput, operation: operation, reason: "the record for \(certificate.subject) would be \(writer.bytes.count) bytes")
        }
        writer.bytes[3] = UInt8(writer.bytes.count >> 8)
        writer.bytes[4] = UInt8(writer.bytes.count & 0xFF)
        return writer.bytes
    }

    /// Reads a trust list. The signature is not checked here: see `verifySignature()`.
    public static func parse(_ file: [UInt8]) throws(PKIError) -> CiscoTrustList {
        let operation = "CiscoTrustList.parse"
        let header = try CiscoSignedHeader.parse(file, operation: operation)
        var reader = CiscoTLVReader(file, operation: operation)
        reader.offset = header.length
        var records: [ParsedRecord] = []
        while reader.offset < file.count {
            let start = reader.offset
            reader.limit = file.count
            let length = try reader.element()
            guard length.tag == Tag.length, length.value.count == 2 else {
                throw reader.malformed("record at offset \(start) does not start with its 2-byte length")
            }
            let recordLength = Int(length.value[0]) << 8 | Int(length.value[1])
            guard recordLength >= 5, start + recordLength <= file.count else {
                throw reader.malformed("record at offset \(start) claims \(recordLength) bytes")
            }
            reader.limit = start + recordLength
            var record = ParsedRecord()
            while reader.offset < reader.limit {
                let element = try reader.element()
                switch element.tag {
                case Tag.dnsName: record.dnsName = try reader.string(element.value, field: "DNS name")
                case Tag.subjectName: record.subjectName = try reader.string(element.value, field: "subject name")
                case Tag.function:
                    guard element.value.count == 2 else { throw reader.malformed("function of \(element.value.count) bytes") }
                    record.function = UInt16(element.value[0]) << 8 | UInt16(element.value[1])
                case Tag.issuerName: record.issuerName = try reader.string(element.value, field: "issuer name")
                case Tag.serialNumber: record.serialNumber = element.value
                case Tag.publicKey: record.publicKey = element.value
                case Tag.signature: record.certificateSignature = element.value
                case Tag.certificate: record.certificateDER = element.value
                case Tag.ipAddress: record.ipAddress = element.value
                case Tag.certificateHash, Tag.hashAlgorithm: continue
                default: throw reader.malformed("unknown record tag \(element.tag) at offset \(reader.offset - 3 - element.value.count)")
                }
            }
            records.append(record)
        }
        return CiscoTrustList(header: header, records: records)
    }

    /// Checks the signature with the SAST record whose serial number the header names, as a
    /// phone does.
    public func verifySignature() throws(PKIError) -> Bool {
        guard let der = records.first(where: { $0.function == Function.sast.rawValue && $0.serialNumber == header.serialNumber })?.certificateDER else {
            throw .refused(.decodingFailed, operation: "CiscoTrustList.verifySignature", reason: "no SAST record carries the signer's serial number")
        }
        return try header.verify(with: try Certificate(derEncoded: der))
    }
}
