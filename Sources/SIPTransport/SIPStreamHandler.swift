import Logging
import NIOCore
import SIP

/// The SIP end of a TCP or TLS connection: parses framed messages, notes where requests came from,
/// answers keep-alives, answers or counts what is malformed, and closes idle connections.
public final class SIPStreamHandler: ChannelInboundHandler {
    public typealias InboundIn = SIPStreamFrame
    public typealias OutboundOut = ByteBuffer

    private let transport: SIPTransportKind
    private let receiver: any SIPMessageReceiver
    private let connections: SIPConnectionTable
    private let statistics: SIPTransportStatistics
    private let logger: Logger
    private var connection: SIPConnectionID?
    private var peerIdentity: SIPPeerIdentity?
    private var remote: SocketAddress?
    /// The peer's address as text, made once: Via annotation needs it for every request.
    private var remoteIP: String?
    /// Set once the stream is known to be out of step: nothing more from it is read.
    private var closing = false
    private let messageDeadline: TimeAmount?
    /// Armed while a started message is incomplete.
    private var deadline: Scheduled<Void>?
    /// Malformed-message lines, limited per cause over every connection sharing it.
    private let logLimiter: SharedLogRateLimiter
    private let clock: @Sendable () -> ContinuousClock.Instant

    public init(
        transport: SIPTransportKind, receiver: any SIPMessageReceiver, connections: SIPConnectionTable,
        statistics: SIPTransportStatistics, messageDeadline: TimeAmount? = nil,
        logLimiter: SharedLogRateLimiter = SharedLogRateLimiter(), clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
        logger: Logger
    ) {
        self.messageDeadline = messageDeadline
        self.logLimiter = logLimiter
        self.clock = clock
        self.transport = transport
        self.receiver = receiver
        self.connections = connections
        self.statistics = statistics
        self.logger = logger
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { register(context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        register(context)
        context.fireChannelActive()
    }

    private func register(_ context: ChannelHandlerContext) {
        guard connection == nil else { return }
        connection = connections.register(context.channel, transport: transport)
        remote = context.channel.remoteAddress
        remoteIP = remote?.ipAddress
        statistics.increment(.connectionsAccepted)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if let connection { connections.remove(connection) }
        connection = nil
        statistics.increment(.connectionsClosed)
        context.fireChannelInactive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .keepAlivePing:
            statistics.increment(.keepAlivePings)
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(staticString: "\r\n")), promise: nil)
        case .message(let buffer):
            deadline?.cancel()
            deadline = nil
            handleMessage(buffer, context: context)
        }
    }

    private func handleMessage(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        guard let connection, let remote, !closing else { return }
        statistics.increment(.messagesReceived)
        let outcome = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(SIPParseError) -> SIPMessage in try SIPMessageParser.parse(bytes) }
        }
        switch outcome {
        case .success(var message):
            if case .request(var request) = message {
                if let remoteIP { ViaAnnotation.annotate(&request, remoteIP: remoteIP, remotePort: remote.port) }
                message = .request(request)
            }
            let source = SIPSource(
                transport: transport, remote: remote, local: context.channel.localAddress, connection: connection,
                peerIdentity: peerIdentity)
            receiver.receive(message, from: source)
        case .failure(let error):
            statistics.increment(.parseErrors)
            if error.isMissingMandatoryHeader { statistics.increment(.missingMandatoryHeaders) }
            logMalformed(error, from: remote)
            let answer = buffer.withUnsafeReadableBytes { SIPErrorAnswering.response(for: error, bytes: $0) }
            // A broken header leaves the framing intact; a broken start line, or bytes too broken
            // to answer, mean the stream is out of step (a wrong Content-Length before): nothing
            // after it can be trusted, so it is answered if it can be and closed.
            let desynchronised = answer == nil || error.isStartLineError
            if desynchronised {
                statistics.increment(.framingErrors)
                closing = true
            }
            if let answer {
                statistics.increment(.badRequestsAnswered)
                let written = context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: answer.serialized)))
                if desynchronised {
                    let channel = context.channel
                    statistics.increment(.connectionsClosedOnError)
                    written.whenComplete { _ in channel.close(promise: nil) }
                }
            } else {
                statistics.increment(.malformedDropped)
                statistics.increment(.connectionsClosedOnError)
                context.close(promise: nil)
            }
        }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let identified = event as? SIPPeerIdentifiedEvent {
            peerIdentity = identified.identity
        } else if event is SIPStreamMessageStarted {
            armMessageDeadline(context: context)
            return
        } else if event is IdleStateHandler.IdleStateEvent {
            statistics.increment(.idleConnectionsClosed)
            logger.debug("closing idle SIP connection", metadata: ["remote": "\(remote.map { $0.logText(transport) } ?? "?")"])
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func logMalformed(_ error: SIPParseError, from remote: SocketAddress) {
        let now = clock()
        for (cause, suppressed) in logLimiter.drainExpired(now: now) {
            logger.notice("malformed SIP messages not logged", metadata: ["cause": "\(cause)", "suppressed": "\(suppressed)"])
        }
        switch logLimiter.admit("malformed stream message: \(error.element)", now: now) {
        case .suppress:
            statistics.increment(.logLinesSuppressed)
        case .log(let suppressed):
            var metadata: Logger.Metadata = ["remote": "\(remote.logText(transport))", "error": "\(error)"]
            if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
            logger.notice("malformed SIP message", metadata: metadata)
        }
    }

    private func armMessageDeadline(context: ChannelHandlerContext) {
        guard let messageDeadline, deadline == nil, !closing else { return }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: messageDeadline) { [self] in
            deadline = nil
            guard !closing else { return }
            closing = true
            statistics.increment(.messageDeadlineCloses)
            logger.debug("closing SIP connection: message not complete in time", metadata: [
                "remote": "\(remote.map { $0.logText(transport) } ?? "?")", "deadline": "\(messageDeadline)",
            ])
            context.close(promise: nil)
        }
    }

    /// Framing errors leave the stream unusable: answer if the request can be addressed, then close.
    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        var answer: SIPResponse?
        switch error {
        case SIPStreamFramingError.messageTooLarge(let limit, let headerSection):
            statistics.increment(.oversizeMessages)
            answer = headerSection.withUnsafeReadableBytes { SIPErrorAnswering.tooLarge(headerSection: $0, limit: limit) }
        case SIPStreamFramingError.badContentLength(let headerSection):
            statistics.increment(.parseErrors)
            statistics.increment(.framingErrors)
            let fault = SIPParseError(element: "Content-Length", reason: "missing, repeated or not a number on a stream")
            answer = headerSection.withUnsafeReadableBytes { SIPErrorAnswering.response(for: fault, bytes: $0) }
        default:
            logger.debug("SIP connection error", metadata: ["error": "\(error)"])
        }
        if error is SIPStreamFramingError { statistics.increment(.connectionsClosedOnError) }
        if let answer {
            statistics.increment(.badRequestsAnswered)
            let bytes = context.channel.allocator.buffer(bytes: answer.serialized)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            if error is SIPStreamFramingError { statistics.increment(.malformedDropped) }
            context.close(promise: nil)
        }
    }
}
