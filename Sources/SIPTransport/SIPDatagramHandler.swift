import Logging
import NIOCore
import SIP

/// The SIP end of a UDP socket: one datagram is one message (RFC 3261 §18.3).
public final class SIPDatagramHandler: ChannelInboundHandler {
    public typealias InboundIn = AddressedEnvelope<ByteBuffer>
    public typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let receiver: any SIPMessageReceiver
    private let connections: SIPConnectionTable
    private let statistics: SIPTransportStatistics
    private let maximumMessageSize: Int
    private let logger: Logger
    private var listener: SIPConnectionID?
    /// One line per datagram would let a flood write the disk full; a few per cause are enough.
    private var logLimiter: LogRateLimiter
    private let clock: () -> ContinuousClock.Instant
    private var nextDrain: ContinuousClock.Instant?

    public init(
        receiver: any SIPMessageReceiver, connections: SIPConnectionTable, statistics: SIPTransportStatistics,
        maximumMessageSize: Int = 65_535, logLimiter: LogRateLimiter = LogRateLimiter(),
        clock: @escaping () -> ContinuousClock.Instant = { .now }, logger: Logger
    ) {
        self.logLimiter = logLimiter
        self.clock = clock
        self.receiver = receiver
        self.connections = connections
        self.statistics = statistics
        self.maximumMessageSize = maximumMessageSize
        self.logger = logger
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        listener = connections.register(context.channel, transport: .udp)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        if let listener { connections.remove(listener) }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let listener else { return }
        let bytes = envelope.data
        if bytes.readableBytesView.allSatisfy({ $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) {
            // RFC 5626 §4.4.1 STUN is not spoken here; a CRLF datagram is a NAT keep-alive.
            statistics.increment(.keepAlivePings)
            return
        }
        statistics.increment(.messagesReceived)
        guard bytes.readableBytes <= maximumMessageSize else {
            statistics.increment(.oversizeMessages)
            answer(bytes.withUnsafeReadableBytes { SIPErrorAnswering.tooLarge(headerSection: $0, limit: maximumMessageSize) }, to: envelope.remoteAddress, context: context)
            return
        }
        let outcome = bytes.withUnsafeReadableBytes { raw in
            Result { () throws(SIPParseError) -> SIPMessage in try SIPMessageParser.parse(raw) }
        }
        switch outcome {
        case .success(var message):
            if case .request(var request) = message {
                ViaAnnotation.annotate(&request, remote: envelope.remoteAddress)
                message = .request(request)
            }
            let source = SIPSource(
                transport: .udp, remote: envelope.remoteAddress, local: context.channel.localAddress, connection: listener)
            receiver.receive(message, from: source)
        case .failure(let error):
            statistics.increment(.parseErrors)
            if error.isMissingMandatoryHeader { statistics.increment(.missingMandatoryHeaders) }
            logMalformed(error, from: envelope.remoteAddress)
            answer(bytes.withUnsafeReadableBytes { SIPErrorAnswering.response(for: error, bytes: $0) }, to: envelope.remoteAddress, context: context)
        }
    }

    private func logMalformed(_ error: SIPParseError, from remote: SocketAddress) {
        let now = clock()
        if let nextDrain, now >= nextDrain {
            for (cause, suppressed) in logLimiter.drainExpired(now: now) {
                logger.notice("malformed SIP datagrams not logged", metadata: ["cause": "\(cause)", "suppressed": "\(suppressed)"])
            }
        }
        if nextDrain.map({ now >= $0 }) ?? true { nextDrain = now + logLimiter.interval }
        switch logLimiter.admit("malformed datagram: \(error.element)", now: now) {
        case .suppress:
            statistics.increment(.logLinesSuppressed)
        case .log(let suppressed):
            var metadata: Logger.Metadata = ["remote": "\(remote.logText(.udp))", "error": "\(error)"]
            if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
            logger.notice("malformed SIP datagram", metadata: metadata)
        }
    }

    /// Errors are answered to the source address: the Via of a malformed request is not trusted.
    private func answer(_ response: SIPResponse?, to remote: SocketAddress, context: ChannelHandlerContext) {
        guard let response else {
            statistics.increment(.malformedDropped)
            return
        }
        statistics.increment(.badRequestsAnswered)
        let buffer = context.channel.allocator.buffer(bytes: response.serialized)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: remote, data: buffer)), promise: nil)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A UDP socket reports ICMP errors of earlier sends here; it stays open.
        statistics.increment(.sendFailures)
        logger.debug("UDP socket error", metadata: ["error": "\(error)"])
    }
}
