import Logging
import NIOCore
import TFTPProtocol

/// One read transfer on its own channel: feeds the client's packets and the retransmission timer
/// to a `TFTPReadTransfer` and carries out its actions. Packets from any other address get
/// ERROR 5 and leave the transfer alone. The channel closes when the transfer ends, which gives
/// the slot back.
final class TFTPTransferHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    struct Setup: Sendable {
        var client: SocketAddress
        var path: String
        var content: any TFTPFileContent
        var negotiated: TFTPNegotiatedOptions
        var settings: TFTPServerSettings
        var statistics: TFTPStatistics
        var logger: Logger
        var onEnd: @Sendable () -> Void
    }

    private let setup: Setup
    private var transfer: TFTPReadTransfer?
    private var timer: TFTPRetransmissionTimer?
    /// The block the next ACK will ask for, read while waiting for it (as tftpd-hpa does), so the
    /// answer to an ACK is not delayed by the file read.
    private var readAhead: ReadAhead?

    private struct ReadAhead {
        var offset: UInt64
        var bytes: [UInt8]
    }
    private var started: ContinuousClock.Instant?
    private var ended = false
    private var timedOut = false
    private var deadline: Scheduled<Void>?
    private var pastDeadline = false

    init(_ setup: Setup) {
        self.setup = setup
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(outcome: "closed", context: nil)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end(outcome: "closed", context: nil)
    }

    private func start(context: ChannelHandlerContext) {
        guard started == nil else { return }
        started = .now
        timer = TFTPRetransmissionTimer(eventLoop: context.eventLoop) { [self] in
            timedOut = true
            handle(.timerFired, context: context)
            timedOut = false
        }
        let content = setup.content
        let (transfer, actions) = TFTPReadTransfer.start(
            fileSize: content.size, negotiated: setup.negotiated, defaultTimeout: setup.settings.timeout,
            maximumRetries: setup.settings.retries, deadline: setup.settings.transferDeadline, read: read)
        self.transfer = transfer
        perform(actions, context: context)
        readNextBlock()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress == setup.client else {
            setup.statistics.increment(.unknownTransferID)
            var buffer = context.channel.allocator.buffer(capacity: 48)
            buffer.writeTFTPPacket(.error(code: .unknownTransferID, message: "unknown transfer ID"))
            context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: buffer)), promise: nil)
            return
        }
        let packet: TFTPPacket
        do {
            packet = try Self.parse(envelope.data)
        } catch {
            // A mangled datagram from the client's address (or spoofed as it) does not end the transfer.
            setup.statistics.increment(.malformedPackets)
            return
        }
        handle(.received(packet), context: context)
        readNextBlock()
    }

    /// An ACK, nearly every packet a transfer receives, is read in place; anything else is parsed in full.
    private static func parse(_ datagram: ByteBuffer) throws(TFTPParseError) -> TFTPPacket {
        if datagram.readableBytes == 4, let opcode = datagram.getInteger(at: datagram.readerIndex, as: UInt16.self),
            opcode == TFTPOpcode.acknowledgement.rawValue, let block = datagram.getInteger(at: datagram.readerIndex + 2, as: UInt16.self)
        {
            return .acknowledgement(block: block)
        }
        return try TFTPPacket.parse(Array(datagram.readableBytesView))
    }

    private func read(offset: UInt64, count: Int) throws -> [UInt8] {
        if let readAhead, readAhead.offset == offset, readAhead.bytes.count == count {
            self.readAhead = nil
            return readAhead.bytes
        }
        return try setup.content.read(offset: offset, count: count)
    }

    private func readNextBlock() {
        guard let transfer, transfer.state == .sending, transfer.lastSent < transfer.lastBlock else { return }
        let blockSize = UInt64(transfer.parameters.blockSize)
        let offset = transfer.lastSent * blockSize
        guard readAhead?.offset != offset else { return }
        let count = Int(min(blockSize, transfer.fileSize - offset))
        readAhead = (try? setup.content.read(offset: offset, count: count)).map { ReadAhead(offset: offset, bytes: $0) }
    }

    private func handle(_ event: TFTPReadTransfer.Event, context: ChannelHandlerContext) {
        guard var transfer else { return }
        let actions = transfer.handle(event, read: read)
        self.transfer = transfer
        perform(actions, context: context)
    }

    private func perform(_ actions: [TFTPReadTransfer.Action], context: ChannelHandlerContext) {
        var wrote = false
        for action in actions {
            switch action {
            case .send(let packet):
                var buffer = context.channel.allocator.buffer(capacity: setup.negotiated.effectiveBlockSize + 4)
                buffer.writeTFTPPacket(packet)
                context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: setup.client, data: buffer)), promise: nil)
                wrote = true
            case .startTimer(let after):
                timer?.start(after: after.timeAmount)
            case .cancelTimer:
                timer?.stop()
            case .startDeadline(let after):
                deadline = context.eventLoop.assumeIsolated().scheduleTask(in: after.timeAmount) { [self] in
                    deadline = nil
                    pastDeadline = true
                    handle(.deadlinePassed, context: context)
                }
            case .finished:
                end(outcome: "ok", context: context)
            case .failed(let code, let message):
                end(outcome: pastDeadline ? "deadline" : timedOut ? "timeout" : "error \(code.rawValue): \(message)", context: context)
            }
        }
        if wrote { context.flush() }
    }

    /// Records the transfer, frees its slot and closes the channel, once.
    private func end(outcome: String, context: ChannelHandlerContext?) {
        guard !ended else { return }
        ended = true
        timer?.invalidate()
        timer = nil
        deadline?.cancel()
        deadline = nil
        let statistics = setup.statistics
        let blockSize = setup.negotiated.effectiveBlockSize
        let delivered = transfer.map { min(($0.firstUnacknowledged - 1) * UInt64(blockSize), $0.fileSize) } ?? 0
        switch outcome {
        case "ok": statistics.increment(.transfersCompleted)
        case "timeout": statistics.increment(.transfersTimedOut)
        case "deadline": statistics.increment(.transfersPastDeadline)
        default: statistics.increment(.transfersFailed)
        }
        statistics.increment(.bytesSent, by: delivered)
        statistics.record(
            .init(client: setup.client.endpoint, file: setup.path, bytes: delivered, blockSize: blockSize,
                  windowSize: setup.negotiated.effectiveWindowSize, duration: started.map { .now - $0 } ?? .zero,
                  outcome: outcome))
        if outcome != "ok" {
            setup.logger.info("TFTP transfer ended", metadata: ["client": "\(setup.client.endpoint)", "file": "\(setup.path)", "outcome": "\(outcome)"])
        }
        setup.onEnd()
        if let context {
            // The ERROR that ended it is still only written; it must leave before the port goes away.
            context.flush()
            context.close(promise: nil)
        }
    }
}
