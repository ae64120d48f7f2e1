import Logging
import NIOCore

/// Settings shared by every SIP listener.
public struct SIPTransportSettings: Sendable {
    public var maximumMessageSize: Int
    public var idleTimeout: TimeAmount

    public init(maximumMessageSize: Int = 65_535, idleTimeout: TimeAmount = .seconds(300)) {
        self.maximumMessageSize = maximumMessageSize
        self.idleTimeout = idleTimeout
    }
}

/// Assembles channel pipelines, so the runtime's bootstraps need not know the handlers. A
/// security layer (TLS) goes in front through `securityHandlers` and nothing else changes.
public enum SIPPipeline {
    public static func configureStream(
        _ channel: any Channel, transport: SIPTransportKind, securityHandlers: [any ChannelHandler] = [],
        receiver: any SIPMessageReceiver, connections: SIPConnectionTable, statistics: SIPTransportStatistics,
        settings: SIPTransportSettings, logger: Logger
    ) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(IdleStateHandler(allTimeout: settings.idleTimeout))
            for handler in securityHandlers { try sync.addHandler(handler) }
            try sync.addHandler(ByteToMessageHandler(SIPStreamFramer(maximumMessageSize: settings.maximumMessageSize)))
            try sync.addHandler(
                SIPStreamHandler(
                    transport: transport, receiver: receiver, connections: connections, statistics: statistics,
                    logger: logger))
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
