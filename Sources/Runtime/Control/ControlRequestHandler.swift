import NIOCore

/// One control connection: reads one request line (bounded), answers it, closes.
final class ControlRequestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let topics: ControlTopicRegistry
    private let statistics: ControlSocketStatistics
    private let maximumRequestLength: Int
    /// How long a client may take to send its request; once it is read, the topic takes as long
    /// as it takes (`show calls` on a loaded edge may need seconds).
    private let requestTimeout: TimeAmount
    private let peerAllowed: Bool
    private var received: [UInt8] = []
    private var done = false
    private var timeout: Scheduled<Void>?

    init(
        topics: ControlTopicRegistry, statistics: ControlSocketStatistics, maximumRequestLength: Int, requestTimeout: TimeAmount, peerAllowed: Bool
    ) {
        self.topics = topics
        self.statistics = statistics
        self.maximumRequestLength = maximumRequestLength
        self.requestTimeout = requestTimeout
        self.peerAllowed = peerAllowed
    }

    func channelActive(context: ChannelHandlerContext) {
        guard peerAllowed else {
            refuse("permission denied: the control socket answers only its owner", context: context)
            return
        }
        let channel = context.channel
        timeout = context.eventLoop.scheduleTask(in: requestTimeout) { channel.close(promise: nil) }
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
        timeout?.cancel()
        statistics.countAnswered()
        let channel = context.channel
        Task {
            let answer = if let argument = request.argument { await topic.render(json: request.json, argument: argument) } else { await topic.render(json: request.json) }
            channel.writeAndFlush(ByteBuffer(string: answer)).whenComplete { _ in channel.close(promise: nil) }
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
