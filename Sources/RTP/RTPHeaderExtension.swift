/// The header extension of RFC 3550 §5.3.1: a 16-bit profile-defined field and data counted in
/// 32-bit words. RFC 8285 defines two profiles that carry a list of elements, each with a local ID.
public struct RTPHeaderExtension: Equatable, Sendable {
    public var profile: UInt16
    /// A multiple of 4 bytes on the wire; serialization pads shorter data with zeros (the padding
    /// value RFC 8285 §4.1 uses) and writes at most 65535 words.
    public var data: [UInt8]

    /// RFC 8285 §4.2.
    public static let oneByteProfile: UInt16 = 0xBEDE
    /// RFC 8285 §4.3: 0x100 in the top 12 bits, the low 4 bits "appbits" for the application.
    public static let twoByteProfileMask: UInt16 = 0xFFF0
    public static let twoByteProfile: UInt16 = 0x1000
    static let maximumDataLength = 4 * Int(UInt16.max)

    public init(profile: UInt16, data: [UInt8]) {
        self.profile = profile
        self.data = data
    }

    public var isOneByte: Bool { profile == Self.oneByteProfile }
    public var isTwoByte: Bool { profile & Self.twoByteProfileMask == Self.twoByteProfile }

    var paddedDataLength: Int { min((data.count + 3) / 4 * 4, Self.maximumDataLength) }

    func append(to out: inout [UInt8]) {
        let length = paddedDataLength
        out.appendBigEndian(profile)
        out.appendBigEndian(UInt16(length / 4))
        out.append(contentsOf: data.prefix(length))
        out.append(contentsOf: repeatElement(0, count: length - min(data.count, length)))
    }
}
