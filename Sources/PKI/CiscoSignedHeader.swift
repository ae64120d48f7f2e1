/// The signed header Cisco phones expect at the start of trust lists (`CTLFile.tlv`,
/// `ITLFile.tlv`) and of signed files (`*.sgn`), and the TLV encoding both are written in.
///
/// Encoding: each element is `tag u8, length u16 big-endian, value`, except tag 13, a one-byte
/// pad with no length. The header tags and their layout follow the open-source `tlvfile` and
/// `sgnfile` tools (usecallmanagernz/certutils), whose files real phones accept:
///
/// | tag | element                         | value                                          |
/// |-----|---------------------------------|------------------------------------------------|
/// | 1   | version                         | 2 bytes: major, minor                          |
/// | 2   | header length                   | u16: bytes from the start of the file to the end of the header, signature included |
/// | 3   | signer id (container)           | its length covers tags 4, 5, 6 that follow     |
/// | 4   | signer name                     | `CN=…;O=…` of the signer's subject, NUL-terminated |
/// | 5   | serial number                   | the signer certificate's serial, big-endian     |
/// | 6   | CA name                         | `CN=…;O=…` of the signer's issuer, NUL-terminated |
/// | 7   | signature info (container)      | covers tags 8 and 9 (15 bytes)                  |
/// | 8   | digest algorithm                | 1 byte: 1 SHA-1, 2 SHA-256                      |
/// | 9   | signature algorithm info (container) | covers tags 10 and 11 (8 bytes)           |
/// | 10  | signature algorithm             | 1 byte: 0 RSA                                   |
/// | 11  | signature modulus               | 1 byte: 0 512, 1 1024, 2 2048, 3 4096 bits      |
/// | 12  | signature                       | RSA PKCS#1 v1.5 over the whole file without this element |
/// | 13  | padding                         | one byte, no length: pads the header to a multiple of 4 |
/// | 14  | file name                       | NUL-terminated                                  |
/// | 15  | timestamp                       | u32 seconds since 1970                          |
/// | 28  | signer version (newer files)    | 2 bytes; read and ignored                       |
///
/// The signature is computed over the finished file with the signature element left out (the
/// header length already counts it), then the element is inserted after the signature info.
public struct CiscoSignedHeader: Sendable, Equatable {
    public let version: (major: UInt8, minor: UInt8)
    public let signerName: String
    public let serialNumber: [UInt8]
    public let caName: String
    public let digest: DigestAlgorithm
    public let signature: [UInt8]
    public let fileName: String
    public let timestamp: UInt32
    /// Bytes from the start of the file to the end of the header.
    public let length: Int
    /// The whole file without the signature element: what `signature` signs.
    public let signedBytes: [UInt8]

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.version == rhs.version && lhs.signerName == rhs.signerName && lhs.serialNumber == rhs.serialNumber
            && lhs.caName == rhs.caName && lhs.digest == rhs.digest && lhs.signature == rhs.signature
            && lhs.fileName == rhs.fileName && lhs.timestamp == rhs.timestamp && lhs.length == rhs.length
            && lhs.signedBytes == rhs.signedBytes
    }

    enum Tag {
        static let version: UInt8 = 1
        static let headerLength: UInt8 = 2
        static let signerID: UInt8 = 3
        static let signerName: UInt8 = 4
        static let serialNumber: UInt8 = 5
        static let caName: UInt8 = 6
        static let signatureInfo: UInt8 = 7
        static let digestAlgorithm: UInt8 = 8
        static let signatureAlgorithmInfo: UInt8 = 9
        static let signatureAlgorithm: UInt8 = 10
        static let signatureModulus: UInt8 = 11
        static let signature: UInt8 = 12
        static let padding: UInt8 = 13
        static let fileName: UInt8 = 14
        static let timestamp: UInt8 = 15
        static let signerVersion: UInt8 = 28
    }

    // MARK: Building

    /// Signs `body` under a header naming `signer`: the finished file.
    ///
    /// Digest: SHA-1 (code 1) is what every phone generation verifies and is the default of the
    /// reference tools; SHA-256 (code 2) is accepted by newer firmware for `.sgn` files. The tools
    /// disagree on the code for SHA-512 (3 in `tlvfile`, 4 in `sgnfile`), so it is not offered.
    static func sign(
        body: [UInt8], version: (major: UInt8, minor: UInt8), signer: SigningIdentity, digest: DigestAlgorithm,
        fileName: String, timestamp: UInt32
    ) throws(PKIError) -> [UInt8] {
        let operation = "CiscoSignedHeader.sign"
        guard let digestCode = digestCode(digest) else {
            throw .refused(.unsupported, operation: operation, reason: "Cisco signed files carry SHA-1 or SHA-256 signatures, not \(digest)")
        }
        guard signer.certificate.publicKeyAlgorithm == .rsa else {
            throw .refused(.unsupported, operation: operation, reason: "Cisco signed files need an RSA signer, not \(signer.certificate.publicKeyAlgorithm)")
        }
        let signatureLength = signer.certificate.publicKeyBits / 8
        guard let modulusCode = modulusCode(bytes: signatureLength) else {
            throw .refused(.unsupported, operation: operation, reason: "RSA-\(signer.certificate.publicKeyBits) is not a modulus Cisco signed files describe")
        }

        var writer = CiscoTLVWriter(operation: operation)
        try writer.element(Tag.version, [version.major, version.minor])
        let headerLengthOffset = writer.bytes.count + 3
        try writer.element(Tag.headerLength, [0, 0])
        let signerName = nulTerminated(Self.name(signer.certificate.subjectAttributes))
        let serial = signer.certificate.serialNumberBytes
        let caName = nulTerminated(Self.name(signer.certificate.issuerAttributes))
        try writer.container(Tag.signerID, length: 9 + signerName.count + serial.count + caName.count)
        try writer.element(Tag.signerName, signerName)
        try writer.element(Tag.serialNumber, serial)
        try writer.element(Tag.caName, caName)
        try writer.container(Tag.signatureInfo, length: 15)
        try writer.element(Tag.digestAlgorithm, [digestCode])
        try writer.container(Tag.signatureAlgorithmInfo, length: 8)
        try writer.element(Tag.signatureAlgorithm, [0])
        try writer.element(Tag.signatureModulus, [modulusCode])
        let signatureOffset = writer.bytes.count
        try writer.element(Tag.fileName, nulTerminated(fileName))
        try writer.element(Tag.timestamp, bigEndian(timestamp))
        // Pad so that the header, once the signature element is in, ends on a 4-byte boundary.
        while (writer.bytes.count + 3 + signatureLength) % 4 != 0 { writer.bytes.append(Tag.padding) }
        let headerLength = writer.bytes.count + 3 + signatureLength
        guard headerLength <= Int(UInt16.max) else {
            throw .refused(.invalidInput, operation: operation, reason: "the header would be \(headerLength) bytes")
        }
        writer.bytes[headerLengthOffset] = UInt8(headerLength >> 8)
        writer.bytes[headerLengthOffset + 1] = UInt8(headerLength & 0xFF)

        var unsigned = writer.bytes
        unsigned.append(contentsOf: body)
        let signature = try signer.sign(unsigned, digest: digest)
        guard signature.count == signatureLength else {
            throw .refused(.signingFailed, operation: operation, reason: "signature of \(signature.count) bytes, expected \(signatureLength)")
        }
        var file = Array(unsigned[..<signatureOffset])
        file.reserveCapacity(unsigned.count + 3 + signature.count)
        file.append(Tag.signature)
        file.append(contentsOf: bigEndian(UInt16(signature.count)))
        file.append(contentsOf: signature)
        file.append(contentsOf: unsigned[signatureOffset...])
        return file
    }

    /// `CN=…;O=…` from the attributes Cisco's tools print (CN, O, OU, L, ST, C), in certificate order.
    static func name(_ attributes: [(type: String, value: String)]) -> String {
        let kept: Set<String> = ["CN", "O", "OU", "L", "ST", "C"]
        return attributes.filter { kept.contains($0.type) }.map { "\($0.type)=\($0.value)" }.joined(separator: ";")
    }

    static func digestCode(_ digest: DigestAlgorithm) -> UInt8? {
        switch digest {
        case .sha1: 1
        case .sha256: 2
        case .sha384, .sha512: nil
        }
    }

    static func modulusCode(bytes: Int) -> UInt8? {
        switch bytes {
        case 64: 0
        case 128: 1
        case 256: 2
        case 512: 3
        default: nil
        }
    }

    // MARK: Parsing

    /// Reads the header at the start of `file`; the body starts at `length`.
    static func parse(_ file: [UInt8], operation: String) throws(PKIError) -> CiscoSignedHeader {
        var reader = CiscoTLVReader(file, operation: operation)
        let first = try reader.element()
        guard first.tag == Tag.version, first.value.count == 2 else {
            throw reader.malformed("the file does not start with a 2-byte version element")
        }
        let second = try reader.element()
        guard second.tag == Tag.headerLength, second.value.count == 2 else {
            throw reader.malformed("the version is not followed by a 2-byte header length")
        }
        let length = Int(second.value[0]) << 8 | Int(second.value[1])
        guard length > reader.offset, length <= file.count else {
            throw reader.malformed("header length \(length) outside the file of \(file.count) bytes")
        }
        reader.limit = length

        var signerName: String?
        var serial: [UInt8]?
        var caName: String?
        var digest: DigestAlgorithm?
        var signature: (offset: Int, value: [UInt8])?
        var fileName: String?
        var timestamp: UInt32?
        while reader.offset < length {
            if file[reader.offset] == Tag.padding {
                reader.offset += 1
                continue
            }
            let start = reader.offset
            let tag = try reader.tagAndLength()
            switch tag.tag {
            case Tag.signerID, Tag.signatureInfo, Tag.signatureAlgorithmInfo:
                // Containers: their elements follow, each read on its own.
                guard reader.offset + tag.length <= length else { throw reader.malformed("container \(tag.tag) runs past the header") }
                continue
            default:
                break
            }
            let value = try reader.value(length: tag.length)
            switch tag.tag {
            case Tag.signerName: signerName = try reader.string(value, field: "signer name")
            case Tag.serialNumber: serial = value
            case Tag.caName: caName = try reader.string(value, field: "CA name")
            case Tag.digestAlgorithm:
                guard value.count == 1 else { throw reader.malformed("digest algorithm of \(value.count) bytes") }
                switch value[0] {
                case 1: digest = .sha1
                case 2: digest = .sha256
                default: throw PKIError.refused(.unsupported, operation: operation, reason: "digest algorithm code \(value[0])")
                }
            case Tag.signatureAlgorithm, Tag.signatureModulus:
                guard value.count == 1 else { throw reader.malformed("element \(tag.tag) of \(value.count) bytes") }
            case Tag.signature:
                guard signature == nil else { throw reader.malformed("two signatures") }
                signature = (start, value)
            case Tag.fileName: fileName = try reader.string(value, field: "file name")
            case Tag.timestamp:
                guard value.count == 4 else { throw reader.malformed("timestamp of \(value.count) bytes") }
                timestamp = value.reduce(0) { $0 << 8 | UInt32($1) }
            case Tag.signerVersion:
                guard value.count == 2 else { throw reader.malformed("signer version of \(value.count) bytes") }
            default:
                throw reader.malformed("unknown header tag \(tag.tag) at offset \(start)")
            }
        }
        guard let signature else { throw reader.malformed("no signature in the header") }
        guard let digest else { throw reader.malformed("no digest algorithm in the header") }
        guard let serial else { throw reader.malformed("no signer serial number in the header") }
        let signatureEnd = signature.offset + 3 + signature.value.count
        return CiscoSignedHeader(
            version: (first.value[0], first.value[1]), signerName: signerName ?? "", serialNumber: serial, caName: caName ?? "",
            digest: digest, signature: signature.value, fileName: fileName ?? "", timestamp: timestamp ?? 0, length: length,
            signedBytes: Array(file[..<signature.offset]) + Array(file[signatureEnd...]))
    }

    /// Whether `certificate`'s key made `signature` over `signedBytes`.
    public func verify(with certificate: Certificate) throws(PKIError) -> Bool {
        try certificate.verify(signature: signature, for: signedBytes, digest: digest)
    }

    static func nulTerminated(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }

    static func bigEndian(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }

    static func bigEndian(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
}

/// Appends TLV elements; refuses a value longer than the 16-bit length allows.
struct CiscoTLVWriter {
    var bytes: [UInt8] = []
    let operation: String

    init(operation: String) {
        self.operation = operation
    }

    mutating func element(_ tag: UInt8, _ value: [UInt8]) throws(PKIError) {
        try container(tag, length: value.count)
        bytes.append(contentsOf: value)
    }

    /// A tag and length whose value is the elements written next.
    mutating func container(_ tag: UInt8, length: Int) throws(PKIError) {
        guard length <= Int(UInt16.max) else {
            throw .refused(.invalidInput, operation: operation, reason: "element \(tag) of \(length) bytes exceeds the 16-bit length")
        }
        bytes.append(tag)
        bytes.append(contentsOf: CiscoSignedHeader.bigEndian(UInt16(length)))
    }
}

/// Reads TLV elements with bounds checks; every failure is a `decodingFailed` naming the offset.
struct CiscoTLVReader {
    let bytes: [UInt8]
    let operation: String
    var offset = 0
    /// Reads stop here (the end of the header or of a record).
    var limit: Int

    init(_ bytes: [UInt8], operation: String) {
        self.bytes = bytes
        self.operation = operation
        self.limit = bytes.count
    }

    mutating func tagAndLength() throws(PKIError) -> (tag: UInt8, length: Int) {
        guard offset + 3 <= limit else { throw malformed("truncated element at offset \(offset)") }
        let tag = bytes[offset]
        let length = Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
        offset += 3
        return (tag, length)
    }

    mutating func value(length: Int) throws(PKIError) -> [UInt8] {
        guard offset + length <= limit else { throw malformed("element of \(length) bytes at offset \(offset - 3) runs past its end") }
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }

    mutating func element() throws(PKIError) -> (tag: UInt8, value: [UInt8]) {
        let header = try tagAndLength()
        return (header.tag, try value(length: header.length))
    }

    /// A NUL-terminated UTF-8 string (the terminator is optional on input).
    func string(_ value: [UInt8], field: String) throws(PKIError) -> String {
        let text = value.last == 0 ? value.dropLast() : value[...]
        guard !text.contains(0), let string = String(validating: text, as: UTF8.self) else {
            throw malformed("\(field) is not a NUL-terminated UTF-8 string")
        }
        return string
    }

    func malformed(_ reason: String) -> PKIError {
        .refused(.decodingFailed, operation: operation, reason: reason)
    }
}
