import NIOCore

/// Puts a `TLSConnection` into a channel: ciphertext below, plaintext above. Application writes
/// made before the handshake completes wait for it; a handshake that does not complete within
/// the configured time closes the channel.
public final class TLSHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let context: TLSContext
    private let observer: (any TLSHandshakeObserver)?
    private let peerName: String?
    private var connection: TLSConnection?
    private var pendingWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var handshakeTimer: Scheduled<Void>?
    private var state: State = .handshaking

    private enum State {
        case handshaking, established, closing, failed
    }

    /// `peerName`: for a client, the name or address the server's certificate must carry
    /// (overriding the context's `serverName`).
    public init(context: TLSContext, observer: (any TLSHandshakeObserver)? = nil, peerName: String? = nil) {
        self.context = context
        self.observer = observer
        self.peerName = peerName
    }

    public func handlerAdded(context channelContext: ChannelHandlerContext) {
        do {
            connection = try TLSConnection(context: context, allocator: channelContext.channel.allocator, peerName: peerName)
        } catch {
            fail(error, channelContext)
            return
        }
        if channelContext.channel.isActive { start(channelContext) }
    }

    public func channelActive(context channelContext: ChannelHandlerContext) {
        start(channelContext)
        channelContext.fireChannelActive()
    }

    private func start(_ channelContext: ChannelHandlerContext) {
        guard handshakeTimer == nil, state == .handshaking else { return }
        let limit = context.configuration.handshakeTimeout
        let nanoseconds = limit.components.seconds * 1_000_000_000 + limit.components.attoseconds / 1_000_000_000
        let loopBound = NIOLoopBound((self, channelContext), eventLoop: channelContext.eventLoop)
        handshakeTimer = channelContext.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {
            let (handler, channelContext) = loopBound.value
            guard handler.state == .handshaking else { return }
            handler.fail(TLSError(kind: .handshakeTimeout, reasons: ["handshake not completed within \(limit)"]), channelContext)
        }
        if context.configuration.role == .client { progressHandshake(channelContext) }
    }

    public func channelRead(context channelContext: ChannelHandlerContext, data: NIOAny) {
        guard let connection, state == .handshaking || state == .established else { return }
        connection.receive(unwrapInboundIn(data))
        if state == .handshaking { progressHandshake(channelContext) }
        if state == .established { deliverPlaintext(channelContext) }
        flushCiphertext(channelContext)
    }

    private func progressHandshake(_ channelContext: ChannelHandlerContext) {
        guard let connection else { return }
        switch connection.handshake() {
        case .incomplete:
            flushCiphertext(channelContext)
        case .complete:
            state = .established
            handshakeTimer?.cancel()
            handshakeTimer = nil
            let completed = TLSHandshakeCompleted(
                version: connection.negotiatedVersion, cipher: connection.negotiatedCipher,
                resumed: connection.sessionWasReused, peer: connection.peerCertificate)
            observer?.handshakeSucceeded(completed, remote: remoteDescription(channelContext))
            flushCiphertext(channelContext)
            channelContext.fireUserInboundEventTriggered(completed)
            let writes = pendingWrites
            pendingWrites = []
            for (buffer, promise) in writes { encrypt(buffer, promise: promise, channelContext) }
            flushCiphertext(channelContext)
        case .failed(let error):
            fail(error, channelContext)
        }
    }

    private func deliverPlaintext(_ channelContext: ChannelHandlerContext) {
        guard let connection else { return }
        var delivered = false
        while state == .established {
            switch connection.readPlaintext(allocator: channelContext.channel.allocator) {
            case .data(let buffer):
                delivered = true
                channelContext.fireChannelRead(wrapInboundOut(buffer))
            case .wantMore:
                if delivered { channelContext.fireChannelReadComplete() }
                return
            case .closed:
                state = .closing
                connection.shutdown()
                flushCiphertext(channelContext)
                channelContext.close(promise: nil)
            case .failed(let error):
                fail(error, channelContext)
            }
        }
    }

    public func write(context channelContext: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        switch state {
        case .handshaking: pendingWrites.append((buffer, promise))
        case .established: encrypt(buffer, promise: promise, channelContext)
        case .closing, .failed: promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    public func flush(context channelContext: ChannelHandlerContext) {
        flushCiphertext(channelContext)
    }

    private func encrypt(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?, _ channelContext: ChannelHandlerContext) {
        guard let connection else { return }
        do {
            try connection.writePlaintext(buffer)
            if let ciphertext = connection.takeCiphertext() {
                channelContext.write(wrapOutboundOut(ciphertext), promise: promise)
            } else {
                promise?.succeed()
            }
        } catch {
            promise?.fail(error)
            fail(error, channelContext)
        }
    }

    private func flushCiphertext(_ channelContext: ChannelHandlerContext) {
        if let ciphertext = connection?.takeCiphertext() {
            channelContext.write(wrapOutboundOut(ciphertext), promise: nil)
        }
        channelContext.flush()
    }

    /// Sends close_notify before closing, as a well-behaved TLS peer does.
    public func close(context channelContext: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if state == .established, mode == .all {
            state = .closing
            connection?.shutdown()
            flushCiphertext(channelContext)
        }
        channelContext.close(mode: mode, promise: promise)
    }

    public func channelInactive(context channelContext: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        if state == .handshaking {
            state = .failed
            observer?.handshakeFailed(TLSError(kind: .closedDuringHandshake, reasons: ["peer closed during the handshake"]), remote: remoteDescription(channelContext))
        }
        let writes = pendingWrites
        pendingWrites = []
        for (_, promise) in writes { promise?.fail(ChannelError.ioOnClosedChannel) }
        channelContext.fireChannelInactive()
    }

    private func fail(_ error: any Error, _ channelContext: ChannelHandlerContext) {
        guard state != .failed else { return }
        let wasHandshaking = state == .handshaking
        state = .failed
        handshakeTimer?.cancel()
        let tlsError = error as? TLSError ?? TLSError(kind: .protocolViolation, reasons: ["\(error)"])
        if wasHandshaking { observer?.handshakeFailed(tlsError, remote: remoteDescription(channelContext)) }
        // The alert OpenSSL produced (e.g. "unknown CA") still goes to the peer before closing.
        flushCiphertext(channelContext)
        channelContext.close(promise: nil)
    }

    /// `tls:192.0.2.1:5061` or `tls:[2001:db8::1]:5061`, as every address in the logs reads.
    private func remoteDescription(_ channelContext: ChannelHandlerContext) -> String {
        guard let address = channelContext.channel.remoteAddress, let ip = address.ipAddress, let port = address.port else { return "tls:?" }
        return address.protocol == .inet6 ? "tls:[\(ip)]:\(port)" : "tls:\(ip):\(port)"
    }
}
