/// A Cisco `.sgn` file: the signed header of `CiscoSignedHeader`, then the original file's bytes.
/// Phones fetch `SEP<MAC>.cnf.xml.sgn` and accept it when its signer is in their trust list with
/// a TFTP function.
public struct CiscoSignedFile: Sendable, Equatable {
    public var header: CiscoSignedHeader
    /// The original file.
    public var content: [UInt8]

    /// Version 1.0, as the project's interop notes give for `.sgn` files; the reference
    /// `sgnfile` tool writes 1.2 and its reader accepts any version.
    static let version: (major: UInt8, minor: UInt8) = (1, 0)

    public static func build(
        content: [UInt8], fileName: String, signer: SigningIdentity, timestamp: PKITime, digest: DigestAlgorithm = .sha1
    ) throws(PKIError) -> [UInt8] {
        try CiscoSignedHeader.sign(
            body: content, version: version, signer: signer, digest: digest, fileName: fileName,
            timestamp: UInt32(clamping: timestamp.secondsSince1970))
    }

    /// Reads the header and cuts out the content. The signature is not checked here: see
    /// `header.verify(with:)`.
    public static func parse(_ file: [UInt8]) throws(PKIError) -> CiscoSignedFile {
        let header = try CiscoSignedHeader.parse(file, operation: "CiscoSignedFile.parse")
        return CiscoSignedFile(header: header, content: Array(file[header.length...]))
    }
}
