import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain blocking socket on 127.0.0.1 with a receive timeout, for sending the edge bytes no
/// well-behaved SIP client would send.
final class LoopbackSocket {
    let descriptor: Int32

    init(udp: Bool, port: Int, receiveTimeout: Double = 2) throws {
        descriptor = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError(operation: "socket") }
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - Double(Int(receiveTimeout))) * 1_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(descriptor)
            throw SocketError(operation: "connect")
        }
    }

    deinit { close(descriptor) }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// What arrives until the timeout or the peer closes; nil only when nothing came at all.
    func receive(maximum: Int = 65_536) -> String? {
        var buffer = [UInt8](repeating: 0, count: maximum)
        let count = recv(descriptor, &buffer, maximum, 0)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    /// True when the peer has closed the connection within the timeout: an orderly close, or a
    /// reset because it closed with our unread bytes still queued.
    func peerClosed() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }
}

struct SocketError: Error {
    let operation: String
    let code = errno
}

enum SIPProbe {
    static func options(port: Int, transport: String = "UDP", callID: String = UUID().uuidString, extraHeaders: String = "") -> String {
        "OPTIONS sip:127.0.0.1:\(port) SIP/2.0\r\n"
            + "Via: SIP/2.0/\(transport) 127.0.0.1:9;branch=z9hG4bK\(UUID().uuidString.prefix(8));rport\r\n"
            + "From: <sip:probe@127.0.0.1>;tag=probe\r\nTo: <sip:127.0.0.1:\(port)>\r\nCall-ID: \(callID)\r\n"
            + "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\(extraHeaders)Content-Length: 0\r\n\r\n"
    }
}
