import NIOCore
import SIPTransport
import Testing

@Suite struct SocketAddressTextTests {
    /// What operators read in the logs, instead of NIO's `[IPv4]192.0.2.1/192.0.2.1:5060`.
    @Test func addressesReadAsTransportAddressAndPort() throws {
        #expect(try SocketAddress(ipAddress: "192.0.2.1", port: 5060).logText(.udp) == "udp:192.0.2.1:5060")
        #expect(try SocketAddress(ipAddress: "2001:db8::1", port: 5061).logText(.tls) == "tls:[2001:db8::1]:5061")
        #expect(try SocketAddress(unixDomainSocketPath: "/tmp/x.sock").logText(.tcp).hasPrefix("tcp:"))
    }
}
