internal import Glibc

/// An IPv4 or IPv6 address as XFRM uses it (SA endpoints, selector prefixes).
public struct XFRMAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Family: Sendable, Hashable {
        case ipv4
        case ipv6

        var addressFamily: Int32 { self == .ipv4 ? AF_INET : AF_INET6 }
        /// Bytes in an address of this family (4 or 16).
        public var length: Int { self == .ipv4 ? 4 : 16 }
        /// Bits in an address of this family: the prefix length of a single host.
        public var hostPrefixLength: Int { length * 8 }
    }

    public let family: Family
    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    /// Parses dotted-quad IPv4 or RFC 5952 IPv6 text.
    public init?(_ text: String) {
        var buffer = [UInt8](repeating: 0, count: 16)
        for family in [Family.ipv4, .ipv6] {
            let parsed = buffer.withUnsafeMutableBytes { inet_pton(family.addressFamily, text, $0.baseAddress) }
            if parsed == 1 {
                self.family = family
                self.bytes = Array(buffer.prefix(family.length))
                return
            }
        }
        return nil
    }

    /// An address from raw network-order bytes; `nil` if the count does not fit the family.
    public init?(family: Family, bytes: [UInt8]) {
        guard bytes.count == family.length else { return nil }
        self.family = family
        self.bytes = bytes
    }

    /// The all-zero ("any") address of `family`.
    public static func any(_ family: Family) -> XFRMAddress {
        XFRMAddress(family: family, bytes: [UInt8](repeating: 0, count: family.length))!
    }

    public var description: String {
        var text = [CChar](repeating: 0, count: 64)
        let ok = bytes.withUnsafeBytes { raw in
            text.withUnsafeMutableBufferPointer { out in
                inet_ntop(family.addressFamily, raw.baseAddress, out.baseAddress, socklen_t(out.count))
            }
        }
        guard ok != nil else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `other` lies in the prefix `self/prefixLength` (same family required).
    public func contains(_ other: XFRMAddress, prefixLength: Int) -> Bool {
        guard family == other.family else { return false }
        var remaining = max(0, min(prefixLength, family.hostPrefixLength))
        for index in 0..<family.length {
            if remaining <= 0 { break }
            let mask: UInt8 = remaining >= 8 ? 0xFF : UInt8(truncatingIfNeeded: 0xFF << (8 - remaining))
            if bytes[index] & mask != other.bytes[index] & mask { return false }
            remaining -= 8
        }
        return true
    }
}
