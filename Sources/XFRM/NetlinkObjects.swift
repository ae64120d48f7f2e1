internal import CNetlink
internal import Glibc

/// The error for a libnl allocation that returned NULL.
func allocationFailure(_ operation: String) -> XFRMError {
    XFRMError(operation: operation, errno: ENOMEM, libnlCode: NLE_NOMEM, libnlMessage: String(cString: nl_geterror(NLE_NOMEM)))
}

/// Checks a local libnl setter (no kernel round trip).
func checkSetter(_ operation: String, _ result: Int32) throws(XFRMError) {
    if result < 0 {
        throw XFRMError.libnl(operation, result: result, kernelError: 0, kernelMessage: "", systemErrno: 0)
    }
}

/// Owner of a libnl SA object (`struct xfrmnl_sa`) used to build requests.
final class XFRMStateObject {
    /// `struct xfrmnl_sa *`, owned: released with `xfrmnl_sa_put` in `deinit`.
    let pointer: OpaquePointer

    init(operation: String) throws(XFRMError) {
        guard let sa = xfrmnl_sa_alloc() else { throw allocationFailure(operation) }
        pointer = sa
    }

    deinit {
        xfrmnl_sa_put(pointer)
    }
}

/// Owner of a libnl policy object (`struct xfrmnl_sp`) used to build requests. Templates added
/// with `xfrmnl_sp_add_usertemplate` belong to it and are freed with it.
final class XFRMPolicyObject {
    /// `struct xfrmnl_sp *`, owned: released with `xfrmnl_sp_put` in `deinit`.
    let pointer: OpaquePointer

    init(operation: String) throws(XFRMError) {
        guard let sp = xfrmnl_sp_alloc() else { throw allocationFailure(operation) }
        pointer = sp
    }

    deinit {
        xfrmnl_sp_put(pointer)
    }
}

/// Owner of one reference to a libnl selector (`struct xfrmnl_sel`). `xfrmnl_sa_set_sel` and
/// `xfrmnl_sp_set_sel` take their own reference, so this one is dropped in `deinit`.
final class XFRMSelectorObject {
    /// `struct xfrmnl_sel *`, one reference owned.
    let pointer: OpaquePointer
    /// The addresses the selector points at; libnl takes its own references too.
    private let addresses: [NetlinkAddress]

    init(_ selector: XFRMSelector, operation: String) throws(XFRMError) {
        guard let family = selector.family else {
            throw .invalidArgument(operation, "selector \(selector) names no address")
        }
        let source = try NetlinkAddress(selector.source ?? .any(family), prefixLength: selector.sourcePrefixLength, operation: operation)
        let destination = try NetlinkAddress(selector.destination ?? .any(family), prefixLength: selector.destinationPrefixLength, operation: operation)
        guard source.family == destination.family else {
            throw .invalidArgument(operation, "selector \(selector) mixes address families")
        }
        guard let sel = xfrmnl_sel_alloc() else { throw allocationFailure(operation) }
        pointer = sel
        addresses = [source, destination]
        // Each libnl setter only stores the value (and references the address); none can fail.
        _ = xfrmnl_sel_set_family(sel, UInt32(family.addressFamily))
        _ = xfrmnl_sel_set_saddr(sel, source.pointer)
        _ = xfrmnl_sel_set_daddr(sel, destination.pointer)
        _ = xfrmnl_sel_set_prefixlen_s(sel, UInt32(selector.sourcePrefixLength))
        _ = xfrmnl_sel_set_prefixlen_d(sel, UInt32(selector.destinationPrefixLength))
        _ = xfrmnl_sel_set_proto(sel, UInt32(selector.ipProtocol))
        _ = xfrmnl_sel_set_sport(sel, UInt32(selector.sourcePort))
        _ = xfrmnl_sel_set_sportmask(sel, UInt32(selector.sourcePortMask))
        _ = xfrmnl_sel_set_dport(sel, UInt32(selector.destinationPort))
        _ = xfrmnl_sel_set_dportmask(sel, UInt32(selector.destinationPortMask))
    }

    deinit {
        xfrmnl_sel_put(pointer)
    }

    /// Reads a borrowed libnl selector into a value.
    static func value(of sel: OpaquePointer) -> XFRMSelector {
        let source = xfrmnl_sel_get_saddr(sel)
        let destination = xfrmnl_sel_get_daddr(sel)
        return XFRMSelector(
            source: NetlinkAddress.value(of: source),
            sourcePrefixLength: Int(xfrmnl_sel_get_prefixlen_s(sel)),
            destination: NetlinkAddress.value(of: destination),
            destinationPrefixLength: Int(xfrmnl_sel_get_prefixlen_d(sel)),
            ipProtocol: UInt8(truncatingIfNeeded: xfrmnl_sel_get_proto(sel)),
            sourcePort: UInt16(truncatingIfNeeded: xfrmnl_sel_get_sport(sel)),
            destinationPort: UInt16(truncatingIfNeeded: xfrmnl_sel_get_dport(sel)),
            sourcePortMask: UInt16(truncatingIfNeeded: xfrmnl_sel_get_sportmask(sel)),
            destinationPortMask: UInt16(truncatingIfNeeded: xfrmnl_sel_get_dportmask(sel)))
    }
}

/// Owner of one reference to a libnl lifetime configuration (`struct xfrmnl_ltime_cfg`);
/// `xfrmnl_sa_set_lifetime_cfg` / `xfrmnl_sp_set_lifetime_cfg` take their own.
final class XFRMLifetimeObject {
    /// `struct xfrmnl_ltime_cfg *`, one reference owned.
    let pointer: OpaquePointer

    init(_ lifetime: XFRMLifetime, operation: String) throws(XFRMError) {
        guard let cfg = xfrmnl_ltime_cfg_alloc() else { throw allocationFailure(operation) }
        pointer = cfg
        _ = xfrmnl_ltime_cfg_set_soft_bytelimit(cfg, lifetime.softByteLimit)
        _ = xfrmnl_ltime_cfg_set_hard_bytelimit(cfg, lifetime.hardByteLimit)
        _ = xfrmnl_ltime_cfg_set_soft_packetlimit(cfg, lifetime.softPacketLimit)
        _ = xfrmnl_ltime_cfg_set_hard_packetlimit(cfg, lifetime.hardPacketLimit)
        _ = xfrmnl_ltime_cfg_set_soft_addexpires(cfg, lifetime.softAddExpiresSeconds)
        _ = xfrmnl_ltime_cfg_set_hard_addexpires(cfg, lifetime.hardAddExpiresSeconds)
        _ = xfrmnl_ltime_cfg_set_soft_useexpires(cfg, lifetime.softUseExpiresSeconds)
        _ = xfrmnl_ltime_cfg_set_hard_useexpires(cfg, lifetime.hardUseExpiresSeconds)
    }

    deinit {
        xfrmnl_ltime_cfg_put(pointer)
    }

    /// Reads a borrowed libnl lifetime configuration into a value.
    static func value(of cfg: OpaquePointer?) -> XFRMLifetime {
        guard let cfg else { return .unlimited }
        return XFRMLifetime(
            softByteLimit: xfrmnl_ltime_cfg_get_soft_bytelimit(cfg),
            hardByteLimit: xfrmnl_ltime_cfg_get_hard_bytelimit(cfg),
            softPacketLimit: xfrmnl_ltime_cfg_get_soft_packetlimit(cfg),
            hardPacketLimit: xfrmnl_ltime_cfg_get_hard_packetlimit(cfg),
            softAddExpiresSeconds: xfrmnl_ltime_cfg_get_soft_addexpires(cfg),
            hardAddExpiresSeconds: xfrmnl_ltime_cfg_get_hard_addexpires(cfg),
            softUseExpiresSeconds: xfrmnl_ltime_cfg_get_soft_useexpires(cfg),
            hardUseExpiresSeconds: xfrmnl_ltime_cfg_get_hard_useexpires(cfg))
    }
}
