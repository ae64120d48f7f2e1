internal import CNetlink
internal import Glibc

/// A change the kernel announced on the XFRM netlink groups (acquire, expire, SA, policy).
public enum XFRMEvent: Sendable, Hashable, CustomStringConvertible {
    case stateAdded(XFRMState)
    case stateUpdated(XFRMState)
    case stateDeleted(XFRMState)
    /// A soft or hard lifetime limit was reached; after a hard expiry the kernel has removed the SA.
    case stateExpired(XFRMState, hard: Bool)
    /// Every SA of a protocol (`nil`: of every protocol) was flushed.
    case statesFlushed(XFRMProtocol?)
    case policyAdded(XFRMPolicy)
    case policyUpdated(XFRMPolicy)
    case policyDeleted(XFRMPolicy)
    case policyExpired(XFRMPolicy, hard: Bool)
    case policiesFlushed
    /// The kernel needs an SA for traffic a policy requires and has none (no key manager yet).
    case acquire(source: XFRMAddress?, destination: XFRMAddress?, selector: XFRMSelector, policyIndex: UInt32)
    /// The socket's receive buffer overflowed: events were lost, so state must be read back.
    case eventsLost
    case other(type: UInt16)

    public var description: String {
        switch self {
        case .stateAdded(let state): "SA added: \(state)"
        case .stateUpdated(let state): "SA updated: \(state)"
        case .stateDeleted(let state): "SA deleted: \(state)"
        case .stateExpired(let state, let hard): "SA \(hard ? "hard" : "soft") expiry: \(state)"
        case .statesFlushed(let proto): "SAs flushed (\(proto.map(String.init(describing:)) ?? "all protocols"))"
        case .policyAdded(let policy): "policy added: \(policy)"
        case .policyUpdated(let policy): "policy updated: \(policy)"
        case .policyDeleted(let policy): "policy deleted: \(policy)"
        case .policyExpired(let policy, let hard): "policy \(hard ? "hard" : "soft") expiry: \(policy)"
        case .policiesFlushed: "policies flushed"
        case .acquire(let source, let destination, let selector, let index):
            "acquire: no SA for \(selector) (\(source.map(String.init(describing:)) ?? "?") -> \(destination.map(String.init(describing:)) ?? "?"), policy \(index))"
        case .eventsLost: "events lost (receive buffer overflow)"
        case .other(let type): "XFRM message type \(type)"
        }
    }

    /// Parses a buffer of netlink messages as the kernel multicasts them. Malformed or truncated
    /// messages end the parse (what was parsed before them is kept); nothing is trusted beyond
    /// the bytes given.
    public static func parse(messages bytes: [UInt8]) -> [XFRMEvent] {
        bytes.withUnsafeBytes { parse(messages: $0) }
    }

    static func parse(messages buffer: UnsafeRawBufferPointer) -> [XFRMEvent] {
        var events: [XFRMEvent] = []
        var offset = 0
        let headerSize = MemoryLayout<nlmsghdr>.size
        while offset + headerSize <= buffer.count {
            let header = buffer.loadUnaligned(fromByteOffset: offset, as: nlmsghdr.self)
            let length = Int(header.nlmsg_len)
            guard length >= headerSize, offset + length <= buffer.count else { break }
            let payload = UnsafeRawBufferPointer(rebasing: buffer[(offset + headerSize)..<(offset + length)])
            if let event = parseMessage(type: header.nlmsg_type, payload: payload) {
                events.append(event)
            }
            offset += align(length)
        }
        return events
    }

    private static func align(_ length: Int) -> Int { (length + 3) & ~3 }

    private static func parseMessage(type: UInt16, payload: UnsafeRawBufferPointer) -> XFRMEvent? {
        switch Int(type) {
        case Int(NLMSG_NOOP), Int(NLMSG_ERROR), Int(NLMSG_DONE), Int(NLMSG_OVERRUN):
            return nil
        case XFRM_MSG_NEWSA, XFRM_MSG_UPDSA:
            guard let (info, attributes) = fixed(xfrm_usersa_info.self, payload) else { return nil }
            let state = stateValue(info, attributes: attributes)
            return Int(type) == XFRM_MSG_NEWSA ? .stateAdded(state) : .stateUpdated(state)
        case XFRM_MSG_DELSA:
            guard let (id, attributes) = fixed(xfrm_usersa_id.self, payload) else { return nil }
            if let embedded = attribute(Int(XFRMA_SA.rawValue), in: attributes), embedded.count >= MemoryLayout<xfrm_usersa_info>.size {
                let info = embedded.loadUnaligned(as: xfrm_usersa_info.self)
                return .stateDeleted(stateValue(info, attributes: attributes))
            }
            let family = family(id.family)
            return .stateDeleted(XFRMState(
                source: nil, destination: family.flatMap { address(id.daddr, $0) }, spi: UInt32(bigEndian: id.spi),
                proto: XFRMProtocol(number: id.proto), mode: .transport, reqid: 0))
        case XFRM_MSG_EXPIRE:
            guard let (expire, attributes) = fixed(xfrm_user_expire.self, payload) else { return nil }
            return .stateExpired(stateValue(expire.state, attributes: attributes), hard: expire.hard != 0)
        case XFRM_MSG_FLUSHSA:
            guard let (flush, _) = fixed(xfrm_usersa_flush.self, payload) else { return .statesFlushed(nil) }
            // IPSEC_PROTO_ANY (255) and 0 both mean every protocol.
            return .statesFlushed(flush.proto == 0 || flush.proto == 255 ? nil : XFRMProtocol(number: flush.proto))
        case XFRM_MSG_NEWPOLICY, XFRM_MSG_UPDPOLICY:
            guard let (info, attributes) = fixed(xfrm_userpolicy_info.self, payload) else { return nil }
            let policy = policyValue(info, attributes: attributes)
            return Int(type) == XFRM_MSG_NEWPOLICY ? .policyAdded(policy) : .policyUpdated(policy)
        case XFRM_MSG_DELPOLICY:
            guard let (id, attributes) = fixed(xfrm_userpolicy_id.self, payload) else { return nil }
            if let embedded = attribute(Int(XFRMA_POLICY.rawValue), in: attributes), embedded.count >= MemoryLayout<xfrm_userpolicy_info>.size {
                let info = embedded.loadUnaligned(as: xfrm_userpolicy_info.self)
                return .policyDeleted(policyValue(info, attributes: attributes))
            }
            return .policyDeleted(XFRMPolicy(
                index: id.index, direction: XFRMPolicyDirection(number: Int(id.dir)), priority: 0, action: .allow,
                selector: selectorValue(id.sel), templates: templates(in: attributes)))
        case XFRM_MSG_POLEXPIRE:
            guard let (expire, attributes) = fixed(xfrm_user_polexpire.self, payload) else { return nil }
            return .policyExpired(policyValue(expire.pol, attributes: attributes), hard: expire.hard != 0)
        case XFRM_MSG_FLUSHPOLICY:
            return .policiesFlushed
        case XFRM_MSG_ACQUIRE:
            guard let (acquire, _) = fixed(xfrm_user_acquire.self, payload) else { return nil }
            let family = family(acquire.policy.sel.family) ?? family(acquire.sel.family)
            return .acquire(
                source: family.flatMap { address(acquire.saddr, $0) },
                destination: family.flatMap { address(acquire.id.daddr, $0) },
                selector: selectorValue(acquire.sel), policyIndex: acquire.policy.index)
        default:
            return .other(type: type)
        }
    }

    /// The fixed header of a message and the attributes after it.
    private static func fixed<T>(_ type: T.Type, _ payload: UnsafeRawBufferPointer) -> (T, UnsafeRawBufferPointer)? {
        let size = MemoryLayout<T>.size
        guard payload.count >= size else { return nil }
        let value = payload.loadUnaligned(as: T.self)
        let start = min(align(size), payload.count)
        return (value, UnsafeRawBufferPointer(rebasing: payload[start...]))
    }

    /// The payload of the first attribute of `type` (top level only).
    private static func attribute(_ type: Int, in attributes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var result: UnsafeRawBufferPointer?
        forEachAttribute(attributes) { attributeType, payload in
            if attributeType == type && result == nil { result = payload }
        }
        return result
    }

    private static func forEachAttribute(_ attributes: UnsafeRawBufferPointer, _ body: (Int, UnsafeRawBufferPointer) -> Void) {
        var offset = 0
        while offset + 4 <= attributes.count {
            let length = Int(attributes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            let type = Int(attributes.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self)) & 0x3FFF
            guard length >= 4, offset + length <= attributes.count else { return }
            body(type, UnsafeRawBufferPointer(rebasing: attributes[(offset + 4)..<(offset + length)]))
            offset += align(length)
        }
    }

    // MARK: - Kernel structures to values

    private static func family(_ value: UInt16) -> XFRMAddress.Family? {
        switch Int32(value) {
        case AF_INET: .ipv4
        case AF_INET6: .ipv6
        default: nil
        }
    }

    private static func address(_ raw: xfrm_address_t, _ family: XFRMAddress.Family) -> XFRMAddress? {
        var copy = raw
        let bytes = withUnsafeBytes(of: &copy) { Array($0.prefix(family.length)) }
        return XFRMAddress(family: family, bytes: bytes)
    }

    static func selectorValue(_ sel: xfrm_selector) -> XFRMSelector {
        let family = family(sel.family)
        return XFRMSelector(
            source: family.flatMap { address(sel.saddr, $0) }, sourcePrefixLength: Int(sel.prefixlen_s),
            destination: family.flatMap { address(sel.daddr, $0) }, destinationPrefixLength: Int(sel.prefixlen_d),
            ipProtocol: sel.proto,
            sourcePort: UInt16(bigEndian: sel.sport), destinationPort: UInt16(bigEndian: sel.dport),
            sourcePortMask: UInt16(bigEndian: sel.sport_mask), destinationPortMask: UInt16(bigEndian: sel.dport_mask))
    }

    private static func lifetimeValue(_ lft: xfrm_lifetime_cfg) -> XFRMLifetime {
        XFRMLifetime(
            softByteLimit: lft.soft_byte_limit, hardByteLimit: lft.hard_byte_limit,
            softPacketLimit: lft.soft_packet_limit, hardPacketLimit: lft.hard_packet_limit,
            softAddExpiresSeconds: lft.soft_add_expires_seconds, hardAddExpiresSeconds: lft.hard_add_expires_seconds,
            softUseExpiresSeconds: lft.soft_use_expires_seconds, hardUseExpiresSeconds: lft.hard_use_expires_seconds)
    }

    private static func currentValue(_ cur: xfrm_lifetime_cur) -> XFRMCurrentLifetime {
        XFRMCurrentLifetime(bytes: cur.bytes, packets: cur.packets, addTime: cur.add_time, useTime: cur.use_time)
    }

    private static func markValue(_ attributes: UnsafeRawBufferPointer) -> XFRMMark? {
        guard let raw = attribute(Int(XFRMA_MARK.rawValue), in: attributes), raw.count >= MemoryLayout<xfrm_mark>.size else { return nil }
        let mark = raw.loadUnaligned(as: xfrm_mark.self)
        return XFRMMark(value: mark.v, mask: mark.m)
    }

    /// An algorithm attribute's name (64 bytes) and key length in bits; never the key.
    private static func algorithmHeader(_ raw: UnsafeRawBufferPointer) -> (String, Int)? {
        guard raw.count >= 68 else { return nil }
        let name = String(decoding: raw[0..<64].prefix { $0 != 0 }, as: UTF8.self)
        let bits = Int(raw.loadUnaligned(fromByteOffset: 64, as: UInt32.self))
        return (name, bits)
    }

    private static func algorithms(_ attributes: UnsafeRawBufferPointer) -> XFRMAlgorithmInfo {
        if let raw = attribute(Int(XFRMA_ALG_AEAD.rawValue), in: attributes), let (name, bits) = algorithmHeader(raw), raw.count >= 72 {
            return .aead(name: name, keyBits: bits, icvBits: Int(raw.loadUnaligned(fromByteOffset: 68, as: UInt32.self)))
        }
        let cipher = attribute(Int(XFRMA_ALG_CRYPT.rawValue), in: attributes).flatMap(algorithmHeader)
        var authentication: (String, Int, Int)?
        if let raw = attribute(Int(XFRMA_ALG_AUTH_TRUNC.rawValue), in: attributes), let (name, bits) = algorithmHeader(raw), raw.count >= 72 {
            authentication = (name, bits, Int(raw.loadUnaligned(fromByteOffset: 68, as: UInt32.self)))
        } else if let raw = attribute(Int(XFRMA_ALG_AUTH.rawValue), in: attributes), let (name, bits) = algorithmHeader(raw) {
            authentication = (name, bits, 0)
        }
        switch (cipher, authentication) {
        case (let cipher?, let authentication?):
            return .cipherAndAuthentication(
                cipher: cipher.0, cipherKeyBits: cipher.1, authentication: authentication.0,
                authenticationKeyBits: authentication.1, truncationBits: authentication.2)
        case (let cipher?, nil): return .other("enc \(cipher.0) \(cipher.1)-bit key, no authentication")
        case (nil, let authentication?): return .other("auth \(authentication.0) \(authentication.1)-bit key, no encryption")
        case (nil, nil): return .none
        }
    }

    static func stateValue(_ info: xfrm_usersa_info, attributes: UnsafeRawBufferPointer) -> XFRMState {
        let family = family(info.family)
        let selector = selectorValue(info.sel)
        return XFRMState(
            source: family.flatMap { address(info.saddr, $0) },
            destination: family.flatMap { address(info.id.daddr, $0) },
            spi: UInt32(bigEndian: info.id.spi),
            proto: XFRMProtocol(number: info.id.proto),
            mode: XFRMMode(number: info.mode),
            reqid: info.reqid,
            replayWindow: Int(info.replay_window),
            algorithms: algorithms(attributes),
            selector: selector.family == nil ? nil : selector,
            lifetime: lifetimeValue(info.lft),
            current: currentValue(info.curlft),
            statistics: XFRMStatistics(replayWindow: info.stats.replay_window, replay: info.stats.replay, integrityFailed: info.stats.integrity_failed),
            mark: markValue(attributes))
    }

    private static func templates(in attributes: UnsafeRawBufferPointer) -> [XFRMTemplate] {
        guard let raw = attribute(Int(XFRMA_TMPL.rawValue), in: attributes) else { return [] }
        let size = MemoryLayout<xfrm_user_tmpl>.size
        var result: [XFRMTemplate] = []
        var offset = 0
        while offset + size <= raw.count {
            let tmpl = raw.loadUnaligned(fromByteOffset: offset, as: xfrm_user_tmpl.self)
            offset += size
            guard let family = family(tmpl.family) else { continue }
            let source = address(tmpl.saddr, family)
            let destination = address(tmpl.id.daddr, family)
            result.append(XFRMTemplate(
                family: family,
                source: source == .any(family) ? nil : source,
                destination: destination == .any(family) ? nil : destination,
                proto: XFRMProtocol(number: tmpl.id.proto), spi: UInt32(bigEndian: tmpl.id.spi),
                mode: XFRMMode(number: tmpl.mode), reqid: tmpl.reqid, optional: tmpl.optional != 0))
        }
        return result
    }

    static func policyValue(_ info: xfrm_userpolicy_info, attributes: UnsafeRawBufferPointer) -> XFRMPolicy {
        XFRMPolicy(
            index: info.index, direction: XFRMPolicyDirection(number: Int(info.dir)), priority: info.priority,
            action: Int32(info.action) == XFRM_POLICY_BLOCK ? .block : .allow,
            selector: selectorValue(info.sel), templates: templates(in: attributes), mark: markValue(attributes),
            lifetime: lifetimeValue(info.lft), current: currentValue(info.curlft))
    }
}
