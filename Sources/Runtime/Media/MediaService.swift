import Logging
import Media
import NIOCore
import NIOPosix
import PKI
import ServiceLifecycle

/// The media relay as a service: its own event loop threads, apart from SIP's, so a burst of
/// signalling never delays a packet; they stop when the edge does.
public final class MediaService: Service, Sendable {
    public let relay: RTPRelay
    public let observers = MediaObservers()
    let recent: MediaEventLog
    private let group: MultiThreadedEventLoopGroup

    public init(configuration: OutpostConfiguration.Media, logger: Logger) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        let recent = MediaEventLog()
        let observers = self.observers
        self.group = group
        self.recent = recent
        relay = RTPRelay(
            settings: configuration.relaySettings, loops: group.makeIterator().map { $0 }, sockets: DatagramMediaSockets(),
            keySource: { try SecureRandom.bytes($0) }, logger: logger,
            events: { event in
                recent.append(event)
                switch event {
                case .timeout(let callID, let leg, let reason):
                    logger.notice("media timeout", metadata: ["call": "\(callID)", "leg": "\(leg)", "reason": "\(reason)"])
                case .latched(let callID, let leg, let source):
                    logger.info("media source learned", metadata: ["call": "\(callID)", "leg": "\(leg)", "source": "udp:\(source.ipAddress ?? "?"):\(source.port ?? 0)"])
                case .telephoneEvent(let callID, let leg, let notice):
                    logger.debug(
                        "telephone event", metadata: ["call": "\(callID)", "leg": "\(leg)", "event": "\(notice.event)", "ended": "\(notice.ended)"])
                }
                observers.deliver(event)
            })
    }

    /// The relay as the call layer sees it.
    public var callMedia: RelayMediaAdapter { RelayMediaAdapter(relay: relay, observers: observers) }

    public func run() async throws {
        try await gracefulShutdown()
        try await shutdown()
    }

    func shutdown() async throws {
        try await group.shutdownGracefully()
    }
}
