import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An ephemeral port the kernel just handed out on 127.0.0.1 for both UDP and TCP, released
/// again for a child process to bind.
public enum FreePort {
    public static func pick() throws -> Int {
        for _ in 0..<20 {
            let port = try bound(SOCK_DGRAM, port: 0)
            if (try? bound(SOCK_STREAM, port: port)) != nil { return port }
        }
        throw BenchmarkError(reason: "no port free for both UDP and TCP on 127.0.0.1")
    }

    private static func bound(_ type: __socket_type, port: Int) throws -> Int {
        let descriptor = socket(AF_INET, Int32(type.rawValue), 0)
        guard descriptor >= 0 else { throw BenchmarkError(reason: "socket: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 ? getsockname(descriptor, pointer, &length) : -1
            }
        }
        guard result == 0 else { throw BenchmarkError(reason: "bind 127.0.0.1:\(port): errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
