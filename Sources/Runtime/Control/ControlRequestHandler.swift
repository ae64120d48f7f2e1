import NIOCore

/// One control connection: reads one request line (bounded), answers it, closes.
final class ControlRequestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A client that connects and says nothing does not keep its connection.
    static let requestTimeout = TimeAmount.seconds(5)
    /// How long a topic may take to answer (a loaded edge asks every call for its figures);
    /// within the client's own 10 s, so it hears why.
    static let answerTimeout = TimeAmount.seconds(8)

    private let topics: ControlTopicRegistry
    private let statistics: ControlSocketStatistics
    private let maximumRequestLength: Int
    private let peerAllowed: Bool
    private var received: [UInt8] = []
    private var done = false
    private var timeout: Scheduled<Void>?

    init(topics: ControlTopicRegistry, statistics: ControlSocketStatistics, maximumRequestLength: Int, peerAllowed: Bool) {
        self.topics = topics
        self.statistics = statistics
        self.maximumRequestLength = maximumRequestLength
        self.peerAllowed = peerAllowed
    }

    func channelActive(context: ChannelHandlerContext) {
        guard peerAllowed else {
            refuse("permission denied: the control socket answers only its owner", context: context)
            return
        }
        let channel = context.channel
        timeout = context.eventLoop.scheduleTask(in: Self.requestTimeout) { channel.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        var buffer = unwrapInboundIn(data)
        received += buffer.readBytes(length: buffer.readableBytes) ?? []
        guard let newline = received.firstIndex(of: UInt8(ascii: "\n")) else {
            if received.count > maximumRequestLength { refuse("request longer than \(maximumRequestLength) bytes", context: context) }
            return
        }
        guard newline <= maximumRequestLength else {
            refuse("request longer than \(maximumRequestLength) bytes", context: context)
            return
        }
        let request: ControlRequest
        switch ControlRequest.parse(Array(received[..<newline])) {
        case .failure(let error):
            refuse(error.reason, context: context)
            return
        case .success(let parsed): request = parsed
        }
        guard let topic = topics.topic(named: request.topic) else {
            refuse("unknown topic '\(request.topic)'; known topics: \(topics.names.joined(separator: ", "))", context: context)
            return
        }
        switch (topic.argumentName, request.argument) {
        case (let wanted?, nil):
            refuse("'\(request.topic)' needs a \(wanted): show \(request.topic) <\(wanted)>", context: context)
            return
        case (nil, _?):
            refuse("'\(request.topic)' takes no argument", context: context)
            return
        default:
            break
        }
        done = true
        statistics.countAnswered()
        let channel = context.channel
        // The request is in: the client is owed an answer, or a line that says why none came.
        timeout?.cancel()
        let reply = OneReply()
        let loop = context.eventLoop
        loop.scheduleTask(in: Self.answerTimeout) {
            guard reply.take() else { return }
            let line = ControlSocketService.errorPrefix + "the edge did not put the answer together within \(Self.answerTimeout.nanoseconds / 1_000_000_000) s\n"
            channel.writeAndFlush(ByteBuffer(string: line)).whenComplete { _ in channel.close(promise: nil) }
        }
        Task {
            let answer = if let argument = request.argument { await topic.render(json: request.json, argument: argument) } else { await topic.render(json: request.json) }
            loop.execute {
                guard reply.take() else { return }
                channel.writeAndFlush(ByteBuffer(string: answer)).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    private func refuse(_ reason: String, context: ChannelHandlerContext) {
        done = true
        statistics.countRefused()
        let channel = context.channel
        let line = ControlSocketService.errorPrefix + reason.replacingNewlines + "\n"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: line))).whenComplete { _ in channel.close(promise: nil) }
    }
}

extension String {
    /// A refusal is one line, whatever a hostile request put in the topic name.
    fileprivate var replacingNewlines: String {
        String(unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : Character($0) })
    }
}

/// Whichever comes first, the answer or its deadline, writes; touched on one event loop only.
private final class OneReply: @unchecked Sendable {
    private var taken = false
    func take() -> Bool {
        defer { taken = true }
        return !taken
    }
}
