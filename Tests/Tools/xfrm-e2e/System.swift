import Glibc
import XFRM

/// Small process, namespace, file and UDP helpers without Foundation (the binary runs in a
/// minimal initramfs with only its own shared libraries).
enum System {
    /// Paths tried for iproute2's `ip` (busybox's has no `xfrm`).
    static let ipPath: String = {
        for path in ["/sbin/ip", "/usr/sbin/ip", "/bin/ip", "/usr/bin/ip"] where access(path, X_OK) == 0 { return path }
        return "ip"
    }()

    struct CommandResult {
        var status: Int32
        var output: String
    }

    /// Runs a program and collects stdout and stderr together.
    static func run(_ arguments: [String]) -> CommandResult {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return CommandResult(status: -1, output: "pipe: \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        close(fds[1])
        guard spawned == 0 else {
            close(fds[0])
            return CommandResult(status: -1, output: "posix_spawn \(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        close(fds[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return CommandResult(status: exit, output: String(decoding: bytes, as: UTF8.self))
    }

    /// Runs `ip` (optionally `-n namespace`) and throws with its output when it fails.
    @discardableResult
    static func ip(_ namespace: String?, _ arguments: [String]) throws(E2EError) -> String {
        let full = [ipPath] + (namespace.map { ["-n", $0] } ?? []) + arguments
        let result = run(full)
        guard result.status == 0 else {
            throw E2EError("\(full.dropFirst().joined(separator: " ")) exited \(result.status): \(result.output)")
        }
        return result.output
    }

    /// `ip` split on spaces, for readable call sites.
    @discardableResult
    static func ip(_ namespace: String?, _ line: String) throws(E2EError) -> String {
        try ip(namespace, line.split(separator: " ").map(String.init))
    }

    static let setns: @convention(c) (Int32, Int32) -> Int32 = {
        guard let symbol = dlsym(nil, "setns") else { fatalError("glibc has no setns") }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
    }()

    /// Runs `body` with this thread in the named network namespace (`ip netns add`), then
    /// returns; sockets created inside stay in the namespace.
    static func inNamespace<T>(_ name: String, _ body: () throws -> T) throws -> T {
        let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard original >= 0 else { throw E2EError("open /proc/thread-self/ns/net: \(errno)") }
        defer { close(original) }
        let target = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { throw E2EError("open /run/netns/\(name): \(errno)") }
        defer { close(target) }
        guard setns(target, 0x4000_0000) == 0 else { throw E2EError("setns \(name): \(errno)") }
        defer { precondition(setns(original, 0x4000_0000) == 0, "cannot return to the original network namespace") }
        return try body()
    }

    /// Writes a sysctl of a network namespace (`/proc/sys/net/...` shows the opener's namespace).
    static func sysctl(_ namespace: String, _ name: String, _ value: String) throws {
        try inNamespace(namespace) {
            let path = "/proc/sys/" + name.split(separator: ".").joined(separator: "/")
            let descriptor = open(path, O_WRONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw E2EError("open \(path): \(errno)") }
            defer { close(descriptor) }
            let bytes = Array(value.utf8)
            guard bytes.withUnsafeBytes({ Glibc.write(descriptor, $0.baseAddress, $0.count) }) == bytes.count else {
                throw E2EError("write \(path): \(errno)")
            }
        }
    }

    static func sleep(milliseconds: Int) {
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// Writes a file with the given mode (created or truncated).
    static func write(_ text: String, to path: String, mode: mode_t) throws(E2EError) {
        unlink(path)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw E2EError("open \(path): \(errno)") }
        defer { close(descriptor) }
        fchmod(descriptor, mode)
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw E2EError("write \(path): \(errno)") }
    }
}

struct E2EError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A UDP socket (created in whatever namespace the calling thread is in).
final class UDPSocket {
    let descriptor: Int32
    let family: XFRMAddress.Family

    init(family: XFRMAddress.Family, port: UInt16) throws(E2EError) {
        self.family = family
        descriptor = socket(family == .ipv4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw E2EError("socket: \(errno)") }
        var on: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        if family == .ipv6 {
            setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound = Self.withAddress(.any(family), port: port) { bind(descriptor, $0, $1) }
        guard bound == 0 else { throw E2EError("bind port \(port): \(String(cString: strerror(errno)))") }
    }

    deinit { close(descriptor) }

    static func withAddress<T>(_ address: XFRMAddress, port: UInt16, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        if address.family == .ipv4 {
            var storage = sockaddr_in()
            storage.sin_family = sa_family_t(AF_INET)
            storage.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &storage.sin_addr) { $0.copyBytes(from: address.bytes) }
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        var storage = sockaddr_in6()
        storage.sin6_family = sa_family_t(AF_INET6)
        storage.sin6_port = port.bigEndian
        withUnsafeMutableBytes(of: &storage.sin6_addr) { $0.copyBytes(from: address.bytes) }
        return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
    }

    func send(_ payload: [UInt8], to address: XFRMAddress, port: UInt16) -> Bool {
        let sent = Self.withAddress(address, port: port) { pointer, length in
            payload.withUnsafeBytes { sendto(descriptor, $0.baseAddress, $0.count, 0, pointer, length) }
        }
        return sent == payload.count
    }

    /// Receives one datagram if one is queued (no waiting), with the sender's raw sockaddr.
    func receiveNow() -> (payload: [UInt8], from: sockaddr_storage, length: socklen_t)? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        var from = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let count = buffer.withUnsafeMutableBytes { raw in
            withUnsafeMutablePointer(to: &from) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(descriptor, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), $0, &length)
                }
            }
        }
        guard count >= 0 else { return nil }
        return (Array(buffer[0..<count]), from, length)
    }

    /// Echoes every queued datagram back to its sender; returns how many.
    @discardableResult
    func echoPending() -> Int {
        var echoed = 0
        while var datagram = receiveNow() {
            _ = datagram.payload.withUnsafeBytes { raw in
                withUnsafePointer(to: &datagram.from) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(descriptor, raw.baseAddress, raw.count, 0, $0, datagram.length)
                    }
                }
            }
            echoed += 1
        }
        return echoed
    }
}

/// Echo servers in the peer namespace and a client in the edge namespace: one thread polls them
/// all, so no second thread ever needs a namespace.
struct EchoRig {
    let servers: [UDPSocket]
    let client4: UDPSocket
    let client6: UDPSocket
    private var sequence: UInt32 = 0

    init(peerNamespace: String, edgeNamespace: String, ports: [UInt16]) throws {
        servers = try System.inNamespace(peerNamespace) {
            var sockets: [UDPSocket] = []
            for port in ports {
                sockets.append(try UDPSocket(family: .ipv4, port: port))
                sockets.append(try UDPSocket(family: .ipv6, port: port))
            }
            return sockets
        }
        (client4, client6) = try System.inNamespace(edgeNamespace) { (try UDPSocket(family: .ipv4, port: 0), try UDPSocket(family: .ipv6, port: 0)) }
    }

    /// Sends one numbered datagram and waits up to `timeoutMilliseconds` for its echo.
    mutating func exchange(to address: XFRMAddress, port: UInt16, timeoutMilliseconds: Int = 3000) -> Bool {
        sequence &+= 1
        let client = address.family == .ipv4 ? client4 : client6
        var payload = Array("outpost-e2e-".utf8)
        withUnsafeBytes(of: sequence.bigEndian) { payload.append(contentsOf: $0) }
        payload.append(contentsOf: [UInt8](repeating: 0x5A, count: 64))
        guard client.send(payload, to: address, port: port) else { return false }
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        while ContinuousClock.now < deadline {
            var fds = (servers + [client]).map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), 20)
            for server in servers { server.echoPending() }
            while let reply = client.receiveNow() {
                if reply.payload == payload { return true }
            }
        }
        return false
    }

    /// Keeps exchanging for `milliseconds`, one datagram every `interval`; returns (sent, lost).
    mutating func stream(to address: XFRMAddress, port: UInt16, milliseconds: Int, intervalMilliseconds: Int = 20) -> (sent: Int, lost: Int) {
        var sent = 0
        var lost = 0
        let end = ContinuousClock.now + .milliseconds(milliseconds)
        repeat {
            sent += 1
            // A datagram lost to a missing SA never comes back; a slow echo on a loaded host is not a loss.
            if !exchange(to: address, port: port, timeoutMilliseconds: 2000) { lost += 1 }
            System.sleep(milliseconds: intervalMilliseconds)
        } while ContinuousClock.now < end
        return (sent, lost)
    }
}
