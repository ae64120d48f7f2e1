internal import CNetlink
internal import COutpostShims.Netlink
internal import Glibc

/// A netlink socket connected to the kernel's XFRM subsystem (libnl `struct nl_sock`), with
/// extended acknowledgements enabled and the shim's error capture installed, so a failure carries
/// the kernel's errno and message rather than only libnl's generic code.
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
        guard let socket = nl_socket_alloc() else {
            throw XFRMError(operation: "nl_socket_alloc", errno: ENOMEM, libnlCode: NLE_NOMEM, libnlMessage: String(cString: nl_geterror(NLE_NOMEM)))
        }
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

    /// Every SA in the kernel's SAD (read through libnl-xfrm's SA cache).
    public func states() throws(XFRMError) -> [XFRMState] {
        let cache = try fillCache("xfrmnl_sa_alloc_cache") { socket, result in xfrmnl_sa_alloc_cache(socket, result) }
        var states: [XFRMState] = []
        states.reserveCapacity(cache.count)
        cache.forEach { sa in
            states.append(XFRMState(
                source: NetlinkAddress.value(of: xfrmnl_sa_get_saddr(sa)),
                destination: NetlinkAddress.value(of: xfrmnl_sa_get_daddr(sa)),
                spi: UInt32(bitPattern: xfrmnl_sa_get_spi(sa)),
                proto: XFRMProtocol(number: UInt8(truncatingIfNeeded: xfrmnl_sa_get_proto(sa))),
                mode: XFRMMode(number: UInt8(truncatingIfNeeded: xfrmnl_sa_get_mode(sa))),
                reqid: UInt32(bitPattern: max(0, xfrmnl_sa_get_reqid(sa)))))
        }
        return states
    }

    /// Every policy in the kernel's SPD (read through libnl-xfrm's SP cache).
    public func policies() throws(XFRMError) -> [XFRMPolicy] {
        let cache = try fillCache("xfrmnl_sp_alloc_cache") { socket, result in xfrmnl_sp_alloc_cache(socket, result) }
        var policies: [XFRMPolicy] = []
        policies.reserveCapacity(cache.count)
        cache.forEach { sp in
            let selector: XFRMSelector
            if let sel = xfrmnl_sp_get_sel(sp) {
                let source = xfrmnl_sel_get_saddr(sel)
                let destination = xfrmnl_sel_get_daddr(sel)
                selector = XFRMSelector(
                    source: NetlinkAddress.value(of: source),
                    sourcePrefixLength: NetlinkAddress.prefixLength(of: source),
                    destination: NetlinkAddress.value(of: destination),
                    destinationPrefixLength: NetlinkAddress.prefixLength(of: destination),
                    ipProtocol: UInt8(truncatingIfNeeded: xfrmnl_sel_get_proto(sel)),
                    sourcePort: UInt16(truncatingIfNeeded: xfrmnl_sel_get_sport(sel)),
                    destinationPort: UInt16(truncatingIfNeeded: xfrmnl_sel_get_dport(sel)))
            } else {
                selector = XFRMSelector(source: nil, sourcePrefixLength: 0, destination: nil, destinationPrefixLength: 0)
            }
            policies.append(XFRMPolicy(
                index: UInt32(bitPattern: xfrmnl_sp_get_index(sp)),
                direction: XFRMPolicyDirection(number: Int(xfrmnl_sp_get_dir(sp))),
                priority: UInt32(bitPattern: xfrmnl_sp_get_priority(sp)),
                allows: Int(xfrmnl_sp_get_action(sp)) == Int(XFRM_POLICY_ALLOW),
                selector: selector,
                templateCount: Int(max(0, xfrmnl_sp_get_nusertemplates(sp)))))
        }
        return policies
    }

    /// The SAD and SPD together.
    public func snapshot() throws(XFRMError) -> XFRMSnapshot {
        XFRMSnapshot(states: try states(), policies: try policies())
    }

    /// Installs an ESP SA (`XFRM_MSG_NEWSA` with `NLM_F_CREATE | NLM_F_EXCL`).
    public func addState(_ request: XFRMStateRequest) throws(XFRMError) {
        let operation = "xfrmnl_sa_add"
        guard request.source.family == request.destination.family else {
            throw .invalidArgument(operation, "source \(request.source) and destination \(request.destination) differ in family")
        }
        let sa = try XFRMStateObject(operation: operation)
        let source = try NetlinkAddress(request.source, operation: operation)
        let destination = try NetlinkAddress(request.destination, operation: operation)

        try check("xfrmnl_sa_set_family", xfrmnl_sa_set_family(sa.pointer, UInt32(request.source.family.addressFamily)))
        try check("xfrmnl_sa_set_saddr", xfrmnl_sa_set_saddr(sa.pointer, source.pointer))
        try check("xfrmnl_sa_set_daddr", xfrmnl_sa_set_daddr(sa.pointer, destination.pointer))
        try check("xfrmnl_sa_set_spi", xfrmnl_sa_set_spi(sa.pointer, request.spi))
        try check("xfrmnl_sa_set_proto", xfrmnl_sa_set_proto(sa.pointer, UInt32(XFRMProtocol.esp.number)))
        try check("xfrmnl_sa_set_mode", xfrmnl_sa_set_mode(sa.pointer, UInt32(request.mode.number)))
        try check("xfrmnl_sa_set_reqid", xfrmnl_sa_set_reqid(sa.pointer, request.reqid))
        try check("xfrmnl_sa_set_replay_window", xfrmnl_sa_set_replay_window(sa.pointer, UInt32(request.replayWindow)))

        switch request.algorithms {
        case .aead(let name, let key, let icvBits):
            let result = key.withUnsafeBytes { raw in
                xfrmnl_sa_set_aead_params(sa.pointer, name, UInt32(key.count * 8), UInt32(clamping: icvBits), raw.bindMemory(to: CChar.self).baseAddress)
            }
            try check("xfrmnl_sa_set_aead_params(\(name))", result)
        case .cipherAndAuthentication(let cipher, let cipherKey, let authentication, let authenticationKey, let truncationBits):
            let cipherResult = cipherKey.withUnsafeBytes { raw in
                xfrmnl_sa_set_crypto_params(sa.pointer, cipher, UInt32(cipherKey.count * 8), raw.bindMemory(to: CChar.self).baseAddress)
            }
            try check("xfrmnl_sa_set_crypto_params(\(cipher))", cipherResult)
            let authResult = authenticationKey.withUnsafeBytes { raw in
                xfrmnl_sa_set_auth_params(sa.pointer, authentication, UInt32(authenticationKey.count * 8), UInt32(clamping: truncationBits), raw.bindMemory(to: CChar.self).baseAddress)
            }
            try check("xfrmnl_sa_set_auth_params(\(authentication))", authResult)
        }

        try perform(operation) { socket in
            xfrmnl_sa_add(socket, sa.pointer, NLM_F_CREATE | NLM_F_EXCL)
        }
    }

    /// Removes the SA identified by destination, SPI and protocol (`XFRM_MSG_DELSA`).
    public func deleteState(destination: XFRMAddress, spi: UInt32, proto: XFRMProtocol = .esp) throws(XFRMError) {
        let operation = "xfrmnl_sa_delete"
        let sa = try XFRMStateObject(operation: operation)
        let address = try NetlinkAddress(destination, operation: operation)
        try check("xfrmnl_sa_set_daddr", xfrmnl_sa_set_daddr(sa.pointer, address.pointer))
        try check("xfrmnl_sa_set_spi", xfrmnl_sa_set_spi(sa.pointer, spi))
        try check("xfrmnl_sa_set_proto", xfrmnl_sa_set_proto(sa.pointer, UInt32(proto.number)))
        try perform(operation) { socket in
            xfrmnl_sa_delete(socket, sa.pointer, 0)
        }
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
        guard let cache else {
            throw XFRMError(operation: operation, errno: ENOMEM, libnlCode: NLE_NOMEM, libnlMessage: String(cString: nl_geterror(NLE_NOMEM)))
        }
        return NetlinkCache(taking: cache)
    }

    /// Checks a local libnl setter (no kernel round trip).
    private func check(_ operation: String, _ result: Int32) throws(XFRMError) {
        if result < 0 {
            throw XFRMError.libnl(operation, result: result, kernelError: 0, kernelMessage: "", systemErrno: 0)
        }
    }

    /// The extended-ack text the shim copied, as a Swift string.
    private func capturedMessage() -> String {
        withUnsafeBytes(of: &errorRecord.pointee.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
