internal import CNetlink
internal import COutpostShims.Netlink
internal import Glibc

/// A netlink socket connected to the kernel's XFRM subsystem (libnl `struct nl_sock`), with
/// extended acknowledgements enabled and the shim's error capture installed, so a failure carries
/// the kernel's errno and message rather than only libnl's generic code.
///
/// Every call goes through libnl-xfrm (`xfrmnl_sa_*`, `xfrmnl_sp_*`), never through `ip`.
///
/// The socket belongs to the network namespace of the thread that created it.
///
/// Not `Sendable`: libnl sockets keep sequence numbers and a receive state, and the error record
/// is rewritten on every call. Use one socket from one task (an actor or service) at a time.
public final class NetlinkXFRMSocket {
    /// `struct nl_sock *`, owned: released (and closed) with `nl_socket_free` in `deinit`.
    private let socket: OpaquePointer
    /// Where the shim's error callback writes the kernel's errno and extended-ack message.
    /// Allocated here because libnl keeps the pointer for the socket's lifetime.
    private let errorRecord: UnsafeMutablePointer<outpost_nl_error>
    /// Whether the kernel accepted `NETLINK_EXT_ACK` (it has since Linux 4.12).
    public let extendedAckEnabled: Bool

    public init() throws(XFRMError) {
        guard let socket = nl_socket_alloc() else { throw allocationFailure("nl_socket_alloc") }
        let record = UnsafeMutablePointer<outpost_nl_error>.allocate(capacity: 1)
        record.initialize(to: outpost_nl_error())

        Glibc.errno = 0
        let connected = nl_connect(socket, NETLINK_XFRM)
        if connected < 0 {
            let failure = XFRMError.libnl("nl_connect(NETLINK_XFRM)", result: connected, kernelError: 0, kernelMessage: "", systemErrno: Glibc.errno)
            nl_socket_free(socket)
            record.deallocate()
            throw failure
        }
        let installed = outpost_nl_install_error_capture(socket, record)
        if installed < 0 {
            let failure = XFRMError.libnl("nl_socket_modify_err_cb", result: installed, kernelError: 0, kernelMessage: "", systemErrno: 0)
            nl_socket_free(socket)
            record.deallocate()
            throw failure
        }
        self.extendedAckEnabled = outpost_nl_enable_ext_ack(socket) == 0
        self.socket = socket
        self.errorRecord = record
    }

    deinit {
        nl_socket_free(socket)
        errorRecord.deinitialize(count: 1)
        errorRecord.deallocate()
    }

    // MARK: - Reading back

    /// Every SA in the kernel's SAD (read through libnl-xfrm's SA cache), with its lifetimes,
    /// counters and algorithm names; key material is never read.
    public func states() throws(XFRMError) -> [XFRMState] {
        let cache = try fillCache("xfrmnl_sa_alloc_cache") { socket, result in xfrmnl_sa_alloc_cache(socket, result) }
        var states: [XFRMState] = []
        states.reserveCapacity(cache.count)
        cache.forEach { sa in states.append(Self.stateValue(sa)) }
        return states
    }

    /// Every policy in the kernel's SPD (read through libnl-xfrm's SP cache), with templates.
    public func policies() throws(XFRMError) -> [XFRMPolicy] {
        let cache = try fillCache("xfrmnl_sp_alloc_cache") { socket, result in xfrmnl_sp_alloc_cache(socket, result) }
        var policies: [XFRMPolicy] = []
        policies.reserveCapacity(cache.count)
        cache.forEach { sp in policies.append(Self.policyValue(sp)) }
        return policies
    }

    /// The SAD and SPD together.
    public func snapshot() throws(XFRMError) -> XFRMSnapshot {
        XFRMSnapshot(states: try states(), policies: try policies())
    }

    // MARK: - SAs

    /// Installs an SA (`XFRM_MSG_NEWSA` with `NLM_F_CREATE | NLM_F_EXCL`); fails with `EEXIST`
    /// if one with the same destination, SPI and protocol exists.
    public func addState(_ request: XFRMStateRequest) throws(XFRMError) {
        let sa = try buildState(request, operation: "xfrmnl_sa_add")
        try perform("xfrmnl_sa_add") { socket in xfrmnl_sa_add(socket, sa.pointer, NLM_F_CREATE | NLM_F_EXCL) }
    }

    /// Replaces an installed SA's lifetimes and other mutable attributes (`XFRM_MSG_UPDSA`);
    /// fails with `ESRCH` if it is not installed. The kernel keeps the SA's keys and counters.
    public func updateState(_ request: XFRMStateRequest) throws(XFRMError) {
        let sa = try buildState(request, operation: "xfrmnl_sa_update")
        try perform("xfrmnl_sa_update") { socket in xfrmnl_sa_update(socket, sa.pointer, 0) }
    }

    /// Removes the SA identified by destination, SPI and protocol (`XFRM_MSG_DELSA`).
    public func deleteState(_ id: XFRMStateID, mark: XFRMMark? = nil) throws(XFRMError) {
        let operation = "xfrmnl_sa_delete"
        let sa = try XFRMStateObject(operation: operation)
        let address = try NetlinkAddress(id.destination, operation: operation)
        try checkSetter("xfrmnl_sa_set_daddr", xfrmnl_sa_set_daddr(sa.pointer, address.pointer))
        try checkSetter("xfrmnl_sa_set_spi", xfrmnl_sa_set_spi(sa.pointer, id.spi))
        try checkSetter("xfrmnl_sa_set_proto", xfrmnl_sa_set_proto(sa.pointer, UInt32(id.proto.number)))
        if let mark {
            try checkSetter("xfrmnl_sa_set_mark", xfrmnl_sa_set_mark(sa.pointer, mark.value, mark.mask))
        }
        try perform(operation) { socket in xfrmnl_sa_delete(socket, sa.pointer, 0) }
    }

    /// Removes the SA identified by destination, SPI and protocol (`XFRM_MSG_DELSA`).
    public func deleteState(destination: XFRMAddress, spi: UInt32, proto: XFRMProtocol = .esp) throws(XFRMError) {
        try deleteState(XFRMStateID(destination: destination, spi: spi, proto: proto))
    }

    private func buildState(_ request: XFRMStateRequest, operation: String) throws(XFRMError) -> XFRMStateObject {
        guard request.source.family == request.destination.family else {
            throw .invalidArgument(operation, "source \(request.source) and destination \(request.destination) differ in family")
        }
        guard request.spi != 0 else {
            throw .invalidArgument(operation, "SPI 0 is reserved")
        }
        if let selector = request.selector, selector.family != request.source.family {
            throw .invalidArgument(operation, "selector \(selector) is not of the SA's address family")
        }
        let sa = try XFRMStateObject(operation: operation)
        let source = try NetlinkAddress(request.source, operation: operation)
        let destination = try NetlinkAddress(request.destination, operation: operation)
        let lifetime = try XFRMLifetimeObject(request.lifetime, operation: operation)

        try checkSetter("xfrmnl_sa_set_family", xfrmnl_sa_set_family(sa.pointer, UInt32(request.source.family.addressFamily)))
        try checkSetter("xfrmnl_sa_set_saddr", xfrmnl_sa_set_saddr(sa.pointer, source.pointer))
        try checkSetter("xfrmnl_sa_set_daddr", xfrmnl_sa_set_daddr(sa.pointer, destination.pointer))
        try checkSetter("xfrmnl_sa_set_spi", xfrmnl_sa_set_spi(sa.pointer, request.spi))
        try checkSetter("xfrmnl_sa_set_proto", xfrmnl_sa_set_proto(sa.pointer, UInt32(request.proto.number)))
        try checkSetter("xfrmnl_sa_set_mode", xfrmnl_sa_set_mode(sa.pointer, UInt32(request.mode.number)))
        try checkSetter("xfrmnl_sa_set_reqid", xfrmnl_sa_set_reqid(sa.pointer, request.reqid))
        try checkSetter("xfrmnl_sa_set_replay_window", xfrmnl_sa_set_replay_window(sa.pointer, UInt32(request.replayWindow)))
        try checkSetter("xfrmnl_sa_set_lifetime_cfg", xfrmnl_sa_set_lifetime_cfg(sa.pointer, lifetime.pointer))
        if let selector = request.selector {
            let sel = try XFRMSelectorObject(selector, operation: operation)
            try checkSetter("xfrmnl_sa_set_sel", xfrmnl_sa_set_sel(sa.pointer, sel.pointer))
        }
        if let mark = request.mark {
            try checkSetter("xfrmnl_sa_set_mark", xfrmnl_sa_set_mark(sa.pointer, mark.value, mark.mask))
        }

        switch request.algorithms {
        case .aead(let name, let key, let icvBits):
            let result = key.withUnsafeBytes { raw in
                xfrmnl_sa_set_aead_params(sa.pointer, name, UInt32(key.count * 8), UInt32(clamping: icvBits), raw.bindMemory(to: CChar.self).baseAddress)
            }
            try checkSetter("xfrmnl_sa_set_aead_params(\(name))", result)
        case .cipherAndAuthentication(let cipher, let cipherKey, let authentication, let authenticationKey, let truncationBits):
            let cipherResult = cipherKey.withUnsafeBytes { raw in
                xfrmnl_sa_set_crypto_params(sa.pointer, cipher, UInt32(cipherKey.count * 8), raw.bindMemory(to: CChar.self).baseAddress)
            }
            try checkSetter("xfrmnl_sa_set_crypto_params(\(cipher))", cipherResult)
            let authResult = authenticationKey.withUnsafeBytes { raw in
                xfrmnl_sa_set_auth_params(sa.pointer, authentication, UInt32(authenticationKey.count * 8), UInt32(clamping: truncationBits), raw.bindMemory(to: CChar.self).baseAddress)
            }
            try checkSetter("xfrmnl_sa_set_auth_params(\(authentication))", authResult)
        }
        return sa
    }

    // MARK: - Policies

    /// Installs a policy (`XFRM_MSG_NEWPOLICY` with `NLM_F_CREATE | NLM_F_EXCL`); fails with
    /// `EEXIST` if one with the same direction, selector and mark exists.
    public func addPolicy(_ request: XFRMPolicyRequest) throws(XFRMError) {
        let sp = try buildPolicy(request, operation: "xfrmnl_sp_add")
        try perform("xfrmnl_sp_add") { socket in xfrmnl_sp_add(socket, sp.pointer, NLM_F_CREATE | NLM_F_EXCL) }
    }

    /// Installs or replaces the policy with the same direction, selector and mark
    /// (`XFRM_MSG_UPDPOLICY`).
    public func updatePolicy(_ request: XFRMPolicyRequest) throws(XFRMError) {
        let sp = try buildPolicy(request, operation: "xfrmnl_sp_update")
        try perform("xfrmnl_sp_update") { socket in xfrmnl_sp_update(socket, sp.pointer, NLM_F_CREATE | NLM_F_REPLACE) }
    }

    /// Removes a policy by its kernel index and direction (`XFRM_MSG_DELPOLICY`).
    public func deletePolicy(index: UInt32, direction: XFRMPolicyDirection, mark: XFRMMark? = nil) throws(XFRMError) {
        let operation = "xfrmnl_sp_delete"
        let sp = try XFRMPolicyObject(operation: operation)
        try checkSetter("xfrmnl_sp_set_index", xfrmnl_sp_set_index(sp.pointer, index))
        try checkSetter("xfrmnl_sp_set_dir", xfrmnl_sp_set_dir(sp.pointer, UInt32(direction.number)))
        if let mark {
            try checkSetter("xfrmnl_sp_set_mark", xfrmnl_sp_set_mark(sp.pointer, mark.value, mark.mask))
        }
        try perform(operation) { socket in xfrmnl_sp_delete(socket, sp.pointer, 0) }
    }

    /// Removes a policy read back earlier.
    public func deletePolicy(_ policy: XFRMPolicy) throws(XFRMError) {
        try deletePolicy(index: policy.index, direction: policy.direction, mark: policy.mark)
    }

    private func buildPolicy(_ request: XFRMPolicyRequest, operation: String) throws(XFRMError) -> XFRMPolicyObject {
        guard let family = request.selector.family else {
            throw .invalidArgument(operation, "policy selector \(request.selector) names no address")
        }
        for template in request.templates where template.family != family && template.mode == .transport {
            throw .invalidArgument(operation, "transport-mode \(template) is not of the selector's address family")
        }
        let sp = try XFRMPolicyObject(operation: operation)
        let sel = try XFRMSelectorObject(request.selector, operation: operation)
        let lifetime = try XFRMLifetimeObject(request.lifetime, operation: operation)
        try checkSetter("xfrmnl_sp_set_sel", xfrmnl_sp_set_sel(sp.pointer, sel.pointer))
        try checkSetter("xfrmnl_sp_set_lifetime_cfg", xfrmnl_sp_set_lifetime_cfg(sp.pointer, lifetime.pointer))
        try checkSetter("xfrmnl_sp_set_dir", xfrmnl_sp_set_dir(sp.pointer, UInt32(request.direction.number)))
        try checkSetter("xfrmnl_sp_set_priority", xfrmnl_sp_set_priority(sp.pointer, request.priority))
        try checkSetter("xfrmnl_sp_set_action", xfrmnl_sp_set_action(sp.pointer, UInt32(request.action == .allow ? XFRM_POLICY_ALLOW : XFRM_POLICY_BLOCK)))
        try checkSetter("xfrmnl_sp_set_share", xfrmnl_sp_set_share(sp.pointer, UInt32(XFRM_SHARE_ANY)))
        if request.index != 0 {
            try checkSetter("xfrmnl_sp_set_index", xfrmnl_sp_set_index(sp.pointer, request.index))
        }
        if let mark = request.mark {
            try checkSetter("xfrmnl_sp_set_mark", xfrmnl_sp_set_mark(sp.pointer, mark.value, mark.mask))
        }
        for template in request.templates {
            // Every address is built before the template exists, so nothing below can fail
            // while the template is still unowned; once added, the policy frees it.
            let source = try NetlinkAddress(template.source ?? .any(template.family), operation: operation)
            let destination = try NetlinkAddress(template.destination ?? .any(template.family), operation: operation)
            guard let tmpl = xfrmnl_user_tmpl_alloc() else { throw allocationFailure(operation) }
            _ = xfrmnl_user_tmpl_set_family(tmpl, UInt32(template.family.addressFamily))
            _ = xfrmnl_user_tmpl_set_saddr(tmpl, source.pointer)
            _ = xfrmnl_user_tmpl_set_daddr(tmpl, destination.pointer)
            _ = xfrmnl_user_tmpl_set_proto(tmpl, UInt32(template.proto.number))
            _ = xfrmnl_user_tmpl_set_spi(tmpl, template.spi)
            _ = xfrmnl_user_tmpl_set_mode(tmpl, UInt32(template.mode.number))
            _ = xfrmnl_user_tmpl_set_reqid(tmpl, template.reqid)
            _ = xfrmnl_user_tmpl_set_optional(tmpl, template.optional ? 1 : 0)
            _ = xfrmnl_user_tmpl_set_share(tmpl, UInt32(XFRM_SHARE_ANY))
            // Any algorithm, as `ip xfrm policy ... tmpl` sends: with 0 the kernel's inbound
            // check (`xfrm_state_ok`) would refuse every SA.
            _ = xfrmnl_user_tmpl_set_aalgos(tmpl, UInt32.max)
            _ = xfrmnl_user_tmpl_set_ealgos(tmpl, UInt32.max)
            _ = xfrmnl_user_tmpl_set_calgos(tmpl, UInt32.max)
            xfrmnl_sp_add_usertemplate(sp.pointer, tmpl)
        }
        return sp
    }

    // MARK: - Conversions from libnl objects

    static func stateValue(_ sa: OpaquePointer) -> XFRMState {
        var bytes: UInt64 = 0, packets: UInt64 = 0, addTime: UInt64 = 0, useTime: UInt64 = 0
        var current = XFRMCurrentLifetime()
        if xfrmnl_sa_get_curlifetime(sa, &bytes, &packets, &addTime, &useTime) == 0 {
            current = XFRMCurrentLifetime(bytes: bytes, packets: packets, addTime: addTime, useTime: useTime)
        }
        var replayWindowDrops: UInt64 = 0, replay: UInt64 = 0, integrity: UInt64 = 0
        var statistics = XFRMStatistics()
        if xfrmnl_sa_get_stats(sa, &replayWindowDrops, &replay, &integrity) == 0 {
            statistics = XFRMStatistics(
                replayWindow: UInt32(truncatingIfNeeded: replayWindowDrops), replay: UInt32(truncatingIfNeeded: replay),
                integrityFailed: UInt32(truncatingIfNeeded: integrity))
        }
        var markMask: UInt32 = 0, markValue: UInt32 = 0
        let mark: XFRMMark? = xfrmnl_sa_get_mark(sa, &markMask, &markValue) == 0 ? XFRMMark(value: markValue, mask: markMask) : nil
        let selector = xfrmnl_sa_get_sel(sa).map(XFRMSelectorObject.value(of:))
        return XFRMState(
            source: NetlinkAddress.value(of: xfrmnl_sa_get_saddr(sa)),
            destination: NetlinkAddress.value(of: xfrmnl_sa_get_daddr(sa)),
            spi: UInt32(bitPattern: xfrmnl_sa_get_spi(sa)),
            proto: XFRMProtocol(number: UInt8(truncatingIfNeeded: xfrmnl_sa_get_proto(sa))),
            mode: XFRMMode(number: UInt8(truncatingIfNeeded: xfrmnl_sa_get_mode(sa))),
            reqid: UInt32(bitPattern: max(0, xfrmnl_sa_get_reqid(sa))),
            replayWindow: Int(max(0, xfrmnl_sa_get_replay_window(sa))),
            algorithms: algorithmInfo(sa),
            selector: selector?.family == nil ? nil : selector,
            lifetime: XFRMLifetimeObject.value(of: xfrmnl_sa_get_lifetime_cfg(sa)),
            current: current,
            statistics: statistics,
            mark: mark)
    }

    /// Algorithm names and key sizes; the key buffers are never passed, so no key is copied.
    private static func algorithmInfo(_ sa: OpaquePointer) -> XFRMAlgorithmInfo {
        var name = [CChar](repeating: 0, count: 128)
        var keyBits: UInt32 = 0
        var icvBits: UInt32 = 0
        if xfrmnl_sa_get_aead_params(sa, &name, &keyBits, &icvBits, nil) == 0 {
            return .aead(name: Self.text(name), keyBits: Int(keyBits), icvBits: Int(icvBits))
        }
        var cipherName = [CChar](repeating: 0, count: 128)
        var cipherBits: UInt32 = 0
        let hasCipher = xfrmnl_sa_get_crypto_params(sa, &cipherName, &cipherBits, nil) == 0
        var authName = [CChar](repeating: 0, count: 128)
        var authBits: UInt32 = 0
        var truncation: UInt32 = 0
        let hasAuth = xfrmnl_sa_get_auth_params(sa, &authName, &authBits, &truncation, nil) == 0
        switch (hasCipher, hasAuth) {
        case (true, true):
            return .cipherAndAuthentication(
                cipher: Self.text(cipherName), cipherKeyBits: Int(cipherBits), authentication: Self.text(authName),
                authenticationKeyBits: Int(authBits), truncationBits: Int(truncation))
        case (true, false):
            return .other("enc \(Self.text(cipherName)) \(cipherBits)-bit key, no authentication")
        case (false, true):
            return .other("auth \(Self.text(authName)) \(authBits)-bit key, no encryption")
        case (false, false):
            return .none
        }
    }

    /// A NUL-terminated C buffer as text.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func policyValue(_ sp: OpaquePointer) -> XFRMPolicy {
        let selector = xfrmnl_sp_get_sel(sp).map(XFRMSelectorObject.value(of:))
            ?? XFRMSelector(source: nil, sourcePrefixLength: 0, destination: nil, destinationPrefixLength: 0)
        var templates: [XFRMTemplate] = []
        let count = Int(max(0, xfrmnl_sp_get_nusertemplates(sp)))
        for position in 0..<count {
            guard let tmpl = xfrmnl_sp_usertemplate_n(sp, Int32(position)) else { continue }
            let family: XFRMAddress.Family = xfrmnl_user_tmpl_get_family(tmpl) == AF_INET6 ? .ipv6 : .ipv4
            let source = NetlinkAddress.value(of: xfrmnl_user_tmpl_get_saddr(tmpl))
            let destination = NetlinkAddress.value(of: xfrmnl_user_tmpl_get_daddr(tmpl))
            templates.append(XFRMTemplate(
                family: family,
                source: source == .any(family) ? nil : source,
                destination: destination == .any(family) ? nil : destination,
                proto: XFRMProtocol(number: UInt8(truncatingIfNeeded: xfrmnl_user_tmpl_get_proto(tmpl))),
                spi: UInt32(bitPattern: xfrmnl_user_tmpl_get_spi(tmpl)),
                mode: XFRMMode(number: UInt8(truncatingIfNeeded: xfrmnl_user_tmpl_get_mode(tmpl))),
                reqid: UInt32(bitPattern: xfrmnl_user_tmpl_get_reqid(tmpl)),
                optional: xfrmnl_user_tmpl_get_optional(tmpl) != 0))
        }
        var markMask: UInt32 = 0, markValue: UInt32 = 0
        let mark: XFRMMark? = xfrmnl_sp_get_mark(sp, &markMask, &markValue) == 0 ? XFRMMark(value: markValue, mask: markMask) : nil
        var bytes: UInt64 = 0, packets: UInt64 = 0, addTime: UInt64 = 0, useTime: UInt64 = 0
        var current = XFRMCurrentLifetime()
        if xfrmnl_sp_get_curlifetime(sp, &bytes, &packets, &addTime, &useTime) == 0 {
            current = XFRMCurrentLifetime(bytes: bytes, packets: packets, addTime: addTime, useTime: useTime)
        }
        return XFRMPolicy(
            index: UInt32(bitPattern: xfrmnl_sp_get_index(sp)),
            direction: XFRMPolicyDirection(number: Int(xfrmnl_sp_get_dir(sp))),
            priority: UInt32(bitPattern: xfrmnl_sp_get_priority(sp)),
            action: Int(xfrmnl_sp_get_action(sp)) == Int(XFRM_POLICY_BLOCK) ? .block : .allow,
            selector: selector,
            templates: templates,
            mark: mark,
            lifetime: XFRMLifetimeObject.value(of: xfrmnl_sp_get_lifetime_cfg(sp)),
            current: current)
    }

    // MARK: - The error boundary

    /// Runs one libnl call that talks to the kernel, turning a negative result into an
    /// `XFRMError` with the kernel's errno and extended-ack message captured by the shim.
    private func perform(_ operation: String, _ call: (OpaquePointer) -> Int32) throws(XFRMError) {
        errorRecord.pointee = outpost_nl_error()
        Glibc.errno = 0
        let result = call(socket)
        let systemErrno = Glibc.errno
        guard result < 0 else { return }
        throw XFRMError.libnl(
            operation, result: result, kernelError: errorRecord.pointee.error,
            kernelMessage: capturedMessage(), systemErrno: systemErrno)
    }

    /// Fills a libnl cache through `perform`, handing back its owner.
    private func fillCache(
        _ operation: String, _ allocate: (OpaquePointer, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    ) throws(XFRMError) -> NetlinkCache {
        var cache: OpaquePointer?
        try perform(operation) { socket in allocate(socket, &cache) }
        guard let cache else { throw allocationFailure(operation) }
        return NetlinkCache(taking: cache)
    }

    /// The extended-ack text the shim copied, as a Swift string.
    private func capturedMessage() -> String {
        withUnsafeBytes(of: &errorRecord.pointee.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
