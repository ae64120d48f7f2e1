/// A phone's hardware address, accepted in the spellings operators paste (`00:1B:D4:AA:BB:CC`,
/// `001b.d4aa.bbcc`, `001BD4AABBCC`, `00-1B-...`) and written the ways firmware asks for it.
public struct MACAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(_ text: some StringProtocol) {
        var digits: [UInt8] = []
        for character in text.utf8 {
            switch character {
            case UInt8(ascii: ":"), UInt8(ascii: "-"), UInt8(ascii: "."): continue
            default:
                guard let value = Self.hexValue(character) else { return nil }
                digits.append(value)
            }
        }
        guard digits.count == 12 else { return nil }
        bytes = (0..<6).map { digits[2 * $0] << 4 | digits[2 * $0 + 1] }
    }

    /// `001BD4AABBCC`: the form in Cisco's `SEP<MAC>` names.
    public var uppercaseHex: String { bytes.map { Self.hex($0, uppercase: true) }.joined() }
    /// `001bd4aabbcc`: the form in Yealink's `<mac>.cfg` names.
    public var lowercaseHex: String { bytes.map { Self.hex($0, uppercase: false) }.joined() }
    /// `00:1b:d4:aa:bb:cc`.
    public var description: String { bytes.map { Self.hex($0, uppercase: false) }.joined(separator: ":") }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }

    private static func hexValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func hex(_ byte: UInt8, uppercase: Bool) -> String {
        let digits = Array(uppercase ? "0123456789ABCDEF" : "0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}
