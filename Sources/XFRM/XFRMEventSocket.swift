internal import CNetlink
internal import Glibc

/// A second netlink socket, joined to the kernel's XFRM multicast groups, that hears every SA and
/// policy change, lifetime expiry and acquire in its network namespace (the namespace of the
/// thread that created it).
///
/// Not `Sendable`: use it from one thread or task. `receive(timeoutMilliseconds:)` blocks at most
/// that long; `fileDescriptor` can be polled instead.
public final class XFRMEventSocket {
    /// The XFRM multicast groups (`XFRMNLGRP_*`).
    public enum Group: Sendable, Hashable, CaseIterable {
        case acquire
        case expire
        case states
        case policies

        var number: Int32 {
            switch self {
            case .acquire: Int32(XFRMNLGRP_ACQUIRE.rawValue)
            case .expire: Int32(XFRMNLGRP_EXPIRE.rawValue)
            case .states: Int32(XFRMNLGRP_SA.rawValue)
            case .policies: Int32(XFRMNLGRP_POLICY.rawValue)
            }
        }
    }

    /// `struct nl_sock *`, owned: released (and closed) with `nl_socket_free` in `deinit`.
    private let socket: OpaquePointer
    private var buffer: [UInt8]

    public init(groups: Set<Group> = Set(Group.allCases), receiveBufferBytes: Int32 = 1 << 20) throws(XFRMError) {
        guard let socket = nl_socket_alloc() else { throw allocationFailure("nl_socket_alloc") }
        // Multicast messages carry no sequence numbers of ours.
        nl_socket_disable_seq_check(socket)
        Glibc.errno = 0
        let connected = nl_connect(socket, NETLINK_XFRM)
        if connected < 0 {
            let failure = XFRMError.libnl("nl_connect(NETLINK_XFRM)", result: connected, kernelError: 0, kernelMessage: "", systemErrno: Glibc.errno)
            nl_socket_free(socket)
            throw failure
        }
        for group in groups.sorted(by: { $0.number < $1.number }) {
            Glibc.errno = 0
            let joined = nl_socket_add_membership(socket, group.number)
            if joined < 0 {
                let failure = XFRMError.libnl("nl_socket_add_membership(\(group))", result: joined, kernelError: 0, kernelMessage: "", systemErrno: Glibc.errno)
                nl_socket_free(socket)
                throw failure
            }
        }
        // A burst (a flush of many SAs) must not overflow the queue; if it does, `eventsLost`.
        _ = nl_socket_set_buffer_size(socket, receiveBufferBytes, 0)
        let nonblocking = nl_socket_set_nonblocking(socket)
        if nonblocking < 0 {
            let failure = XFRMError.libnl("nl_socket_set_nonblocking", result: nonblocking, kernelError: 0, kernelMessage: "", systemErrno: Glibc.errno)
            nl_socket_free(socket)
            throw failure
        }
        self.socket = socket
        self.buffer = [UInt8](repeating: 0, count: 1 << 16)
    }

    deinit {
        nl_socket_free(socket)
    }

    /// The socket's descriptor, for `poll`/`epoll` (readable when events are queued).
    public var fileDescriptor: Int32 { nl_socket_get_fd(socket) }

    /// Waits up to `timeoutMilliseconds` (0: do not wait, negative: forever) for events and
    /// returns every one queued; an empty array on timeout.
    public func receive(timeoutMilliseconds: Int32) throws(XFRMError) -> [XFRMEvent] {
        var descriptor = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&descriptor, 1, timeoutMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw XFRMError(operation: "poll(netlink XFRM)", errno: errno)
            }
            if ready == 0 { return [] }
            break
        }
        var events: [XFRMEvent] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { raw in
                recv(fileDescriptor, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT))
            }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { break }
                if code == ENOBUFS {
                    events.append(.eventsLost)
                    continue
                }
                throw XFRMError(operation: "recv(netlink XFRM)", errno: code)
            }
            if count == 0 { break }
            events.append(contentsOf: buffer.withUnsafeBytes { raw in
                XFRMEvent.parse(messages: UnsafeRawBufferPointer(rebasing: raw[0..<count]))
            })
            // SA notifications carry the SAs' keys: do not leave them in the buffer.
            buffer.withUnsafeMutableBytes { raw in
                raw.baseAddress.map { _ = memset($0, 0, count) }
            }
        }
        return events
    }
}
