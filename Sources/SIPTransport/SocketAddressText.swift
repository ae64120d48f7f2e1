import NIOCore

extension SocketAddress {
    /// `udp:192.0.2.1:5060` or `tls:[2001:db8::1]:5061`, as every address in the logs reads
    /// (NIO's own description is a type dump: `[IPv4]192.0.2.1/192.0.2.1:5060`).
    public func logText(_ transport: SIPTransportKind) -> String {
        let kind = transport.rawValue.lowercased()
        guard let ip = ipAddress, let port else { return "\(kind):\(description)" }
        return self.protocol == .inet6 ? "\(kind):[\(ip)]:\(port)" : "\(kind):\(ip):\(port)"
    }
}
