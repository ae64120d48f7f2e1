import Logging
import NIOCore
import Synchronization

/// Admission of stream connections per source address, shared by every TCP and TLS listener of
/// an edge: one address may hold at most `maximumPerAddress` connections at once, so a single host
/// cannot take the file descriptors and memory the phones need.
public final class SIPConnectionLimiter: Sendable {
    public let maximumPerAddress: Int
    private let counts = Mutex<[String: Int]>([:])

    public init(maximumPerAddress: Int) {
        self.maximumPerAddress = max(maximumPerAddress, 1)
    }

    /// Takes a place for `address`; false when it already holds its share.
    public func admit(_ address: String) -> Bool {
        counts.withLock { counts in
            let held = counts[address, default: 0]
            guard held < maximumPerAddress else { return false }
            counts[address] = held + 1
            return true
        }
    }

    /// Gives back a place `admit` granted.
    public func release(_ address: String) {
        counts.withLock { counts in
            let held = counts[address, default: 1] - 1
            counts[address] = held > 0 ? held : nil
        }
    }

    /// Connections `address` holds now.
    public func connections(from address: String) -> Int {
        counts.withLock { $0[address, default: 0] }
    }
}

/// The first handler of an accepted connection: closes it before TLS or SIP sees it when its
/// address already holds its share of connections, counted as `connections_refused_per_address`.
/// A refused connection is invisible to the rest of the pipeline (no active, read or inactive).
final class SIPConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let limiter: SIPConnectionLimiter
    private let statistics: SIPTransportStatistics
    private let logger: Logger
    private enum State { case pending, admitted(String), refused }
    private var state = State.pending

    init(limiter: SIPConnectionLimiter, statistics: SIPTransportStatistics, logger: Logger) {
        self.limiter = limiter
        self.statistics = statistics
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        guard case .pending = state else { return }
        let address = context.channel.remoteAddress?.ipAddress ?? "?"
        guard limiter.admit(address) else {
            state = .refused
            statistics.increment(.connectionsRefusedPerAddress)
            logger.debug("SIP connection refused: its address holds its share", metadata: [
                "remote": "\(address)", "limit": "\(limiter.maximumPerAddress)",
            ])
            context.close(promise: nil)
            return
        }
        state = .admitted(address)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .refused = state { return }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .refused:
            return
        case .admitted(let address):
            limiter.release(address)
            state = .refused  // released once; nothing more passes
            context.fireChannelInactive()
        case .pending:
            context.fireChannelInactive()
        }
    }
}
