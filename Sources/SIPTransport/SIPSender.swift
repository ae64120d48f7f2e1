import NIOCore
import SIP
import Synchronization

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
    ///
    /// From another thread (the registrar's journal answers a whole group commit at once), the
    /// writes for one connection are queued and handed to its event loop in one task with one
    /// flush, instead of one task, wake-up and flush per message.
    @discardableResult
    public func send(_ bytes: [UInt8], over connection: SIPConnectionID, to remote: SocketAddress) -> EventLoopFuture<Void>? {
        guard let entry = connections.entry(connection) else {
            statistics.increment(.sendFailures)
            return nil
        }
        let channel = entry.channel
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let statistics = self.statistics
        promise.futureResult.whenComplete { result in
            switch result {
            case .success: statistics.increment(.messagesSent)
            case .failure: statistics.increment(.sendFailures)
            }
        }
        let write = PendingWrite(bytes: bytes, remote: entry.transport == .udp ? remote : nil, promise: promise)
        if channel.eventLoop.inEventLoop {
            write.perform(on: channel)
            channel.flush()
            return promise.futureResult
        }
        let startsBatch = outbox.withLock { outbox -> Bool in
            outbox[connection, default: []].append(write)
            return outbox[connection]!.count == 1
        }
        if startsBatch {
            channel.eventLoop.execute { [self] in
                let writes = outbox.withLock { $0.removeValue(forKey: connection) } ?? []
                for write in writes { write.perform(on: channel) }
                channel.flush()
            }
        }
        return promise.futureResult
    }

    private let outbox = Mutex<[SIPConnectionID: [PendingWrite]]>([:])
}

private struct PendingWrite: Sendable {
    let bytes: [UInt8]
    /// Set for datagrams.
    let remote: SocketAddress?
    let promise: EventLoopPromise<Void>

    func perform(on channel: any Channel) {
        let buffer = channel.allocator.buffer(bytes: bytes)
        if let remote {
            channel.write(AddressedEnvelope(remoteAddress: remote, data: buffer), promise: promise)
        } else {
            channel.write(buffer, promise: promise)
        }
    }
}

extension SocketAddress {
    static func withPort(_ address: SocketAddress, _ port: Int) throws -> SocketAddress {
        var copy = address
        copy.port = port
        return copy
    }
}
