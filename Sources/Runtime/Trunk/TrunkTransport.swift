import Edge
import Logging
import NIOCore
import NIOPosix
import SIP
import SIPTransport
import Synchronization
import TLS

/// Why a request to the call manager got no final response.
public enum TrunkFailure: Error, CustomStringConvertible, Sendable {
    case timeout(String)
    case transport(String)
    case unprotected(String)

    public var description: String {
        switch self {
        case .timeout(let what): "no answer within \(what)"
        case .transport(let reason): reason
        case .unprotected(let reason): "trunk may not carry signalling: \(reason)"
        }
    }
}

/// Client transactions to one call manager over UDP, TCP or TLS: adds the edge's Via, sends,
/// retransmits over UDP (T1 doubling up to T2, RFC 3261 §17.1.2.2), and returns the final
/// response. Responses are matched by the Via branch. A stream connection is opened on first
/// use and again after it closes.
final class TrunkTransport: SIPMessageReceiver, Sendable {
    let callManager: OutpostConfiguration.Trunk.CallManager
    private let group: any EventLoopGroup
    private let tlsContext: TLSContext?
    private let protection: (any TrunkProtection)?
    private let logger: Logger
    private let connections = SIPConnectionTable()
    private let statistics = SIPTransportStatistics()
    private let state = Mutex<State>(State())

    private struct State {
        var channel: (any Channel)?
        var connecting: EventLoopFuture<any Channel>?
        var pending: [String: CheckedContinuation<SIPResponse, any Error>] = [:]
    }

    init(
        callManager: OutpostConfiguration.Trunk.CallManager, group: any EventLoopGroup, tlsContext: TLSContext?,
        protection: (any TrunkProtection)?, logger: Logger
    ) {
        self.callManager = callManager
        self.group = group
        self.tlsContext = tlsContext
        self.protection = protection
        self.logger = logger
    }

    var remote: String { "\(callManager.transport.rawValue.lowercased()):\(callManager.address):\(callManager.port)" }

    /// Sends `request` and waits up to `timeout` for its final response. `addPath` adds a Path
    /// naming this trunk's local address (for REGISTERs).
    func send(_ request: SIPRequest, timeout: Duration, addPath: Bool = false) async throws -> SIPResponse {
        if let protection, await !protection.currentStatus().mayCarrySignalling(to: callManager.address) {
            throw TrunkFailure.unprotected("IPsec to \(callManager.address) is not in place")
        }
        let channel = try await connectedChannel()
        guard let local = channel.localAddress, let localHost = local.ipAddress, let localPort = local.port else {
            throw TrunkFailure.transport("the trunk socket has no local address")
        }
        let branch = SIPIdentifiers.branch()
        var outgoing = request
        let transportName = callManager.transport.rawValue
        let host = localHost.contains(":") ? "[\(localHost)]" : localHost
        outgoing.headers.insert(.via, "SIP/2.0/\(transportName) \(host):\(localPort);branch=\(branch);rport", at: 0)
        if addPath {
            outgoing.headers.insert(.path, "<sip:\(host):\(localPort);transport=\(transportName.lowercased());lr>", at: 0)
        }
        let bytes = outgoing.serialized
        let remoteAddress = try SocketAddress(ipAddress: callManager.address, port: callManager.port)
        return try await withThrowingTaskGroup(of: SIPResponse?.self) { group in
            group.addTask {
                // A cancelled send (shutdown) must not leave the continuation waiting forever.
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { continuation in
                        self.state.withLock { $0.pending[branch] = continuation }
                        self.write(bytes, on: channel, to: remoteAddress, branch: branch)
                    }
                } onCancel: {
                    self.fail(branch, TrunkFailure.transport("cancelled"))
                }
            }
            group.addTask {
                var interval = Duration.milliseconds(500)
                var elapsed = Duration.zero
                while elapsed < timeout {
                    let step = self.callManager.transport == .udp ? min(interval, timeout - elapsed) : timeout - elapsed
                    try await Task.sleep(for: step)
                    elapsed += step
                    if self.callManager.transport == .udp, elapsed < timeout {
                        self.write(bytes, on: channel, to: remoteAddress, branch: branch)
                        interval = min(interval * 2, .seconds(4))
                    }
                }
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let response = result { return response }
                self.fail(branch, TrunkFailure.timeout("\(timeout) from \(self.remote)"))
            }
            throw TrunkFailure.timeout("\(timeout) from \(self.remote)")
        }
    }

    private func write(_ bytes: [UInt8], on channel: any Channel, to remote: SocketAddress, branch: String) {
        let buffer = channel.allocator.buffer(bytes: bytes)
        let written: EventLoopFuture<Void> =
            callManager.transport == .udp
            ? channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: buffer))
            : channel.writeAndFlush(buffer)
        written.whenFailure { error in self.fail(branch, TrunkFailure.transport("\(error)")) }
    }

    private func fail(_ branch: String, _ error: TrunkFailure) {
        state.withLock { $0.pending.removeValue(forKey: branch) }?.resume(throwing: error)
    }

    func receive(_ message: SIPMessage, from source: SIPSource) {
        guard case .response(let response) = message, response.statusCode >= 200,
            let branch = try? response.headers.topVia().branch
        else { return }
        state.withLock { $0.pending.removeValue(forKey: branch) }?.resume(returning: response)
    }

    private func connectedChannel() async throws -> any Channel {
        let future = state.withLock { state -> EventLoopFuture<any Channel>? in
            if let channel = state.channel, channel.isActive { return channel.eventLoop.makeSucceededFuture(channel) }
            if let connecting = state.connecting { return connecting }
            return nil
        }
        if let future { return try await future.get() }
        let connecting = openChannel()
        state.withLock { $0.connecting = connecting }
        do {
            let channel = try await connecting.get()
            state.withLock {
                $0.channel = channel
                $0.connecting = nil
            }
            channel.closeFuture.whenComplete { _ in self.connectionClosed(channel) }
            return channel
        } catch {
            state.withLock { $0.connecting = nil }
            throw TrunkFailure.transport("cannot reach \(remote): \(error)")
        }
    }

    private func connectionClosed(_ channel: any Channel) {
        let orphans = state.withLock { state -> [CheckedContinuation<SIPResponse, any Error>] in
            guard state.channel === channel else { return [] }
            state.channel = nil
            guard callManager.transport.isReliable else { return [] }
            defer { state.pending.removeAll() }
            return Array(state.pending.values)
        }
        for orphan in orphans { orphan.resume(throwing: TrunkFailure.transport("connection to \(remote) closed")) }
    }

    private func openChannel() -> EventLoopFuture<any Channel> {
        let settings = SIPTransportSettings(idleTimeout: .hours(24))
        let receiver = self, connections = self.connections, statistics = self.statistics, logger = self.logger
        switch callManager.transport {
        case .udp:
            return DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    SIPPipeline.configureDatagram(
                        channel, receiver: receiver, connections: connections, statistics: statistics, settings: settings, logger: logger)
                }
                .connect(host: callManager.address, port: callManager.port)
        case .tcp, .tls:
            let transport = callManager.transport
            let tlsContext = self.tlsContext
            return ClientBootstrap(group: group)
                .connectTimeout(.seconds(3))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    var security: [any ChannelHandler] = []
                    if transport == .tls {
                        guard let tlsContext else {
                            return channel.eventLoop.makeFailedFuture(TrunkFailure.transport("no TLS client context for the trunk"))
                        }
                        security = [TLSHandler(context: tlsContext)]
                    }
                    return SIPPipeline.configureStream(
                        channel, transport: transport, securityHandlers: security, receiver: receiver, connections: connections,
                        statistics: statistics, settings: settings, logger: logger)
                }
                .connect(host: callManager.address, port: callManager.port)
        }
    }

    func close() async {
        let channel = state.withLock { $0.channel }
        try? await channel?.close()
    }
}
