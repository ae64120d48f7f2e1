internal import CNetlink
internal import Glibc

/// Owner of a libnl `struct nl_addr` built from an `XFRMAddress`.
final class NetlinkAddress {
    /// `struct nl_addr *`, owned: one reference released with `nl_addr_put` in `deinit`.
    let pointer: OpaquePointer
    let family: XFRMAddress.Family

    init(_ address: XFRMAddress, prefixLength: Int? = nil, operation: String) throws(XFRMError) {
        if let prefixLength, !(0...address.family.length * 8).contains(prefixLength) {
            throw .invalidArgument(operation, "prefix length \(prefixLength) does not fit \(address)")
        }
        let built = address.bytes.withUnsafeBytes { raw in
            nl_addr_build(address.family.addressFamily, raw.baseAddress, raw.count)
        }
        guard let built else { throw allocationFailure(operation) }
        if let prefixLength {
            nl_addr_set_prefixlen(built, Int32(prefixLength))
        }
        pointer = built
        family = address.family
    }

    deinit {
        nl_addr_put(pointer)
    }

    /// Reads a borrowed `nl_addr` into a value; `nil` for a missing or non-IP address.
    static func value(of address: OpaquePointer?) -> XFRMAddress? {
        guard let address, let data = nl_addr_get_binary_addr(address) else { return nil }
        let family: XFRMAddress.Family
        switch nl_addr_get_family(address) {
        case AF_INET: family = .ipv4
        case AF_INET6: family = .ipv6
        default: return nil
        }
        let length = Int(nl_addr_get_len(address))
        guard length == family.length else { return nil }
        let bytes = Array(UnsafeRawBufferPointer(start: data, count: length))
        return XFRMAddress(family: family, bytes: bytes)
    }

    static func prefixLength(of address: OpaquePointer?) -> Int {
        guard let address else { return 0 }
        return Int(nl_addr_get_prefixlen(address))
    }
}
