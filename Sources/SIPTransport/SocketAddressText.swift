import NIOCore

extension SocketAddress {
    /// `192.0.2.1:5060` or `[2001:db8::1]:5061` (NIO's own description is a type dump:
    /// `[IPv4]192.0.2.1/192.0.2.1:5060`).
    public var hostPort: String {
        guard let ip = ipAddress, let port else { return description }
        return self.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    /// `udp:192.0.2.1:5060`, as every address in the logs reads.
    public func logText(_ transport: SIPTransportKind) -> String { "\(transport.rawValue.lowercased()):\(hostPort)" }
}
