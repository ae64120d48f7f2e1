import Logging
import NIOCore

/// Settings shared by every SIP listener.
public struct SIPTransportSettings: Sendable {
    public var maximumMessageSize: Int
    public var idleTimeout: TimeAmount
    /// Once a message's first byte has arrived on a stream, the whole message (headers and body)
    /// must be there within this, or the connection is closed; nil for no limit. Against clients
    /// that trickle a byte now and then, which the idle timeout never catches.
    public var messageDeadline: TimeAmount?
    /// Accepted TCP/TLS connections one source address may hold at once, over all listeners; nil
    /// for no limit. Listeners share one `SIPConnectionLimiter` built from it.
    public var maximumConnectionsPerAddress: Int?

    public init(
        maximumMessageSize: Int = 65_535, idleTimeout: TimeAmount = .seconds(300), messageDeadline: TimeAmount? = nil,
        maximumConnectionsPerAddress: Int? = nil
    ) {
        self.maximumMessageSize = maximumMessageSize
        self.idleTimeout = idleTimeout
        self.messageDeadline = messageDeadline
        self.maximumConnectionsPerAddress = maximumConnectionsPerAddress
    }
}

/// Assembles channel pipelines, so the runtime's bootstraps need not know the handlers. A
/// security layer (TLS) goes in front through `securityHandlers` and nothing else changes.
public enum SIPPipeline {
    public static func configureStream(
        _ channel: any Channel, transport: SIPTransportKind, securityHandlers: [any ChannelHandler] = [],
        receiver: any SIPMessageReceiver, connections: SIPConnectionTable, statistics: SIPTransportStatistics,
        settings: SIPTransportSettings, limiter: SIPConnectionLimiter? = nil,
        logLimiter: SharedLogRateLimiter = SharedLogRateLimiter(), logger: Logger
    ) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            // First, so a refused connection costs no TLS handshake.
            if let limiter { try sync.addHandler(SIPConnectionLimitHandler(limiter: limiter, statistics: statistics, logger: logger)) }
            try sync.addHandler(IdleStateHandler(allTimeout: settings.idleTimeout))
            for handler in securityHandlers { try sync.addHandler(handler) }
            try sync.addHandler(ByteToMessageHandler(SIPStreamFramer(maximumMessageSize: settings.maximumMessageSize)))
            try sync.addHandler(
                SIPStreamHandler(
                    transport: transport, receiver: receiver, connections: connections, statistics: statistics,
                    messageDeadline: settings.messageDeadline, logLimiter: logLimiter, logger: logger))
            try sync.addHandler(FlushCoalescingHandler())
        }
    }

    public static func configureDatagram(
        _ channel: any Channel, receiver: any SIPMessageReceiver, connections: SIPConnectionTable,
        statistics: SIPTransportStatistics, settings: SIPTransportSettings, logger: Logger
    ) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(
                SIPDatagramHandler(
                    receiver: receiver, connections: connections, statistics: statistics,
                    maximumMessageSize: settings.maximumMessageSize, logger: logger))
        }
    }
}
