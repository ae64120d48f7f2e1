import NIOCore
import SIP

/// Sends SIP messages over the open sockets, following RFC 3261 §18.2.2 and RFC 3581 for responses.
public final class SIPSender: Sendable {
    public let connections: SIPConnectionTable
    public let statistics: SIPTransportStatistics

    public init(connections: SIPConnectionTable, statistics: SIPTransportStatistics) {
        self.connections = connections
        self.statistics = statistics
    }

    /// A response goes back over the connection the request came on; over UDP to the source
    /// address, at the `rport` the request asked for or else the port in its Via.
    @discardableResult
    public func sendResponse(_ response: SIPResponse, to source: SIPSource) -> EventLoopFuture<Void>? {
        var destination = source.remote
        if source.transport == .udp, let via = try? response.headers.topVia(), !via.requestsRport {
            destination = (try? SocketAddress.withPort(destination, via.port ?? 5060)) ?? destination
        }
        guard connections.entry(source.connection) != nil else {
            statistics.increment(.responsesWithoutConnection)
            return nil
        }
        return send(response.serialized, over: source.connection, to: destination)
    }

    /// Sends bytes over a known connection; for a datagram listener, to `remote`.
    @discardableResult
    public func send(_ bytes: [UInt8], over connection: SIPConnectionID, to remote: SocketAddress) -> EventLoopFuture<Void>? {
        guard let entry = connections.entry(connection) else {
            statistics.increment(.sendFailures)
            return nil
        }
        let buffer = entry.channel.allocator.buffer(bytes: bytes)
        let future: EventLoopFuture<Void>
        if entry.transport == .udp {
            future = entry.channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: buffer))
        } else {
            future = entry.channel.writeAndFlush(buffer)
        }
        let statistics = self.statistics
        future.whenComplete { result in
            switch result {
            case .success: statistics.increment(.messagesSent)
            case .failure: statistics.increment(.sendFailures)
            }
        }
        return future
    }
}

extension SocketAddress {
    static func withPort(_ address: SocketAddress, _ port: Int) throws -> SocketAddress {
        var copy = address
        copy.port = port
        return copy
    }
}
