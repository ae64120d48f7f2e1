import Foundation
import Glibc

/// A socket call that failed, with errno's text.
public struct SocketError: Error, Sendable, CustomStringConvertible {
    public let call: String
    public let code: Int32

    public init(_ call: String, _ code: Int32 = errno) {
        self.call = call
        self.code = code
    }

    public var description: String { "\(call): \(String(cString: strerror(code)))" }
}

/// A blocking IPv4 UDP socket over BSD calls, bound to a loopback (or given) address. Closed by
/// `close()` or when released.
public final class UDPSocket {
    public let host: String
    public let port: UInt16
    private var descriptor: Int32

    /// Binds `host:port`; port 0 lets the kernel choose.
    public init(host: String = "127.0.0.1", port: UInt16 = 0) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        var address = try Self.address(host, port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let code = errno
            Glibc.close(fd)
            throw SocketError("bind \(host):\(port)", code)
        }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.descriptor = fd
        self.host = host
        self.port = UInt16(bigEndian: local.sin_port)
    }

    deinit { close() }

    public func close() {
        if descriptor >= 0 {
            Glibc.close(descriptor)
            descriptor = -1
        }
    }

    public func send(_ bytes: [UInt8], to host: String = "127.0.0.1", port: UInt16) throws {
        var address = try Self.address(host, port)
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == bytes.count else { throw SocketError("sendto \(host):\(port)") }
    }

    /// One datagram with its source, or `nil` once `deadline` passes. The wait is bounded with
    /// SO_RCVTIMEO, set to the time left before each `recvfrom`.
    public func receive(before deadline: ContinuousClock.Instant) throws -> (bytes: [UInt8], host: String, port: UInt16)? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return nil }
            let micros = max(1000, left.components.seconds * 1_000_000 + left.components.attoseconds / 1_000_000_000_000)
            var timeout = timeval(tv_sec: Int(micros / 1_000_000), tv_usec: Int(micros % 1_000_000))
            guard setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
                throw SocketError("setsockopt SO_RCVTIMEO")
            }
            var source = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let received = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &source) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(descriptor, raw.baseAddress, raw.count, 0, $0, &length) }
                }
            }
            if received >= 0 {
                var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
                inet_ntop(AF_INET, &source.sin_addr, &text, socklen_t(INET_ADDRSTRLEN))
                let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return (Array(buffer[0..<received]), host, UInt16(bigEndian: source.sin_port))
            }
            let code = errno
            if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { continue }
            // A previous send to a closed port comes back as ECONNREFUSED on Linux; it is not ours to fail on.
            if code == ECONNREFUSED { continue }
            throw SocketError("recvfrom", code)
        }
    }

    static func address(_ host: String, _ port: UInt16) throws -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw SocketError("inet_pton \(host)", EINVAL) }
        return address
    }
}

/// Finds loopback UDP ports nobody holds, outside the kernel's ephemeral range (where the sockets
/// of clients such as the ng control socket get their ports), and never hands the same port to
/// two callers of this process.
public enum FreePorts {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var handedOut: Set<UInt16> = []

    /// `count` consecutive free ports starting at an even number (rtpengine pairs RTP with RTP+1).
    public static func range(count: Int, host: String = "127.0.0.1") throws -> ClosedRange<UInt16> {
        precondition(count > 0 && count < 2000)
        let ephemeral = ephemeralRange()
        lock.lock()
        defer { lock.unlock() }
        for _ in 0..<200 {
            var base = UInt16.random(in: 10000...(UInt16(65000 - count)))
            base &= ~1
            let candidate = base...(base + UInt16(count - 1))
            if candidate.overlaps(ephemeral) { continue }
            if candidate.contains(where: handedOut.contains) { continue }
            // Bind-probe every port: holding them all at once proves the whole range was free.
            var probes: [UDPSocket] = []
            var free = true
            for port in candidate {
                guard let probe = try? UDPSocket(host: host, port: port) else {
                    free = false
                    break
                }
                probes.append(probe)
            }
            probes.forEach { $0.close() }
            if free {
                handedOut.formUnion(candidate)
                return candidate
            }
        }
        throw SocketError("no free range of \(count) UDP ports", EADDRINUSE)
    }

    public static func port(host: String = "127.0.0.1") throws -> UInt16 {
        try range(count: 1, host: host).lowerBound
    }

    /// `/proc/sys/net/ipv4/ip_local_port_range`, or Linux's default.
    static func ephemeralRange() -> ClosedRange<UInt16> {
        if let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8) {
            let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { UInt16($0) }
            if parts.count == 2, parts[0] <= parts[1] { return parts[0]...parts[1] }
        }
        return 32768...60999
    }
}
