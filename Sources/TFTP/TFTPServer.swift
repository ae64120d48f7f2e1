import Logging
import NIOCore
import TFTPProtocol

/// The read-only TFTP server: answers requests arriving on the listening channel and runs each
/// accepted read on a fresh channel (a new transfer ID, RFC 1350 §4) from `makeTransferChannel`.
public final class TFTPServer: Sendable {
    public let settings: TFTPServerSettings
    public let source: any TFTPFileSource
    public let statistics: TFTPStatistics
    private let logger: Logger
    private let makeTransferChannel: TFTPChannelFactory
    private let slots: TFTPTransferSlots

    public init(
        settings: TFTPServerSettings, source: any TFTPFileSource, statistics: TFTPStatistics, logger: Logger,
        makeTransferChannel: @escaping TFTPChannelFactory
    ) {
        self.settings = settings
        self.source = source
        self.statistics = statistics
        self.logger = logger
        self.makeTransferChannel = makeTransferChannel
        self.slots = TFTPTransferSlots(maximum: settings.maximumTransfers, maximumPerClient: settings.maximumTransfersPerClient)
    }

    static let maximumNetasciiSize: UInt64 = 16 << 20

    /// The handler to put on the listening UDP channel.
    public func makeListenerHandler() -> TFTPListenerHandler { TFTPListenerHandler(server: self) }

    /// One datagram to the listening port. `reply` sends a packet back from that port.
    func receive(_ bytes: [UInt8], from client: SocketAddress, reply: @escaping @Sendable (TFTPPacket) -> Void) {
        let packet: TFTPPacket
        do {
            packet = try TFTPPacket.parse(bytes)
        } catch {
            statistics.increment(.malformedPackets)
            logger.debug("TFTP malformed request", metadata: ["client": "\(client.endpoint)", "reason": "\(error)"])
            reply(error.errorPacket)
            return
        }
        switch packet {
        case .readRequest(let request):
            statistics.increment(.readRequests)
            accept(request, from: client, reply: reply)
        case .writeRequest(let request):
            statistics.increment(.writeRequestsRefused)
            refuse(request.filename, from: client, .accessViolation, "the server is read-only", reply: reply)
        case .error:
            // Never answer an ERROR with an ERROR: two confused peers would bounce them forever.
            statistics.increment(.unexpectedPackets)
        case .data, .acknowledgement, .optionAcknowledgement:
            statistics.increment(.unexpectedPackets)
            reply(.error(code: .unknownTransferID, message: "no transfer on this port; send a request"))
        }
    }

    private func accept(_ request: TFTPRequest, from client: SocketAddress, reply: @escaping @Sendable (TFTPPacket) -> Void) {
        let path: String
        do {
            path = try TFTPFilename.normalise(request.filename)
        } catch {
            statistics.increment(.accessViolations)
            refuse(request.filename, from: client, .accessViolation, "\(error)", reply: reply)
            return
        }
        if let refusal = request.mode.refusal, case .error(let code, let message) = refusal {
            statistics.increment(.unsupportedModes)
            refuse(path, from: client, code, message, reply: reply)
            return
        }
        do {
            try slots.reserve(for: client)
        } catch {
            switch error {
            case .duplicate:
                // The client repeated its request while the file is being looked up; the first one answers.
                statistics.increment(.duplicateRequests)
            case .overall(let limit):
                statistics.increment(.tooManyTransfers)
                refuse(path, from: client, .notDefined, "too many transfers (\(limit) at once)", reply: reply)
            case .perClient(let limit):
                statistics.increment(.tooManyTransfersFromClient)
                refuse(path, from: client, .notDefined, "too many transfers from \(client.hostKey) (\(limit) at once)", reply: reply)
            }
            return
        }
        statistics.adjustActive(by: 1)
        let release: @Sendable () -> Void = { [slots, statistics] in
            slots.release(for: client)
            statistics.adjustActive(by: -1)
        }
        Task {
            await self.serve(request, path: path, to: client, reply: reply, release: release)
        }
    }

    private func serve(
        _ request: TFTPRequest, path: String, to client: SocketAddress, reply: @escaping @Sendable (TFTPPacket) -> Void,
        release: @escaping @Sendable () -> Void
    ) async {
        var content: any TFTPFileContent
        switch await source.lookup(path, client: client) {
        case .notFound:
            release()
            statistics.increment(.filesNotFound)
            refuse(path, from: client, .fileNotFound, "file not found: \(path)", reply: reply)
            return
        case .denied(let reason):
            release()
            statistics.increment(.accessViolations)
            refuse(path, from: client, .accessViolation, reason, reply: reply)
            return
        case .found(let found):
            content = found
        }
        if request.mode == .netascii {
            // Netascii is converted in memory; it is for small text files, not firmware.
            guard content.size <= Self.maximumNetasciiSize else {
                release()
                statistics.increment(.unsupportedModes)
                refuse(path, from: client, .illegalOperation, "\(path) is too large for netascii; use octet", reply: reply)
                return
            }
            do {
                content = TFTPBytes(Netascii.encode(try content.readAll()))
            } catch {
                release()
                statistics.increment(.transferSetupFailures)
                refuse(path, from: client, .notDefined, "cannot read \(path)", reply: reply)
                return
            }
        }
        let negotiated = TFTPNegotiation.negotiate(request, isRead: true, limits: settings.limits, transferSize: content.size)
        let transfer = TFTPTransferHandler.Setup(
            client: client, path: path, content: content, negotiated: negotiated, settings: settings,
            statistics: statistics, logger: logger, onEnd: release)
        let channel = makeTransferChannel { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(TFTPTransferHandler(transfer))
            }
        }
        do {
            _ = try await channel.get()
            statistics.increment(.transfersStarted)
        } catch {
            release()
            statistics.increment(.transferSetupFailures)
            logger.error("TFTP cannot open a transfer port", metadata: ["client": "\(client.endpoint)", "error": "\(error)"])
            refuse(path, from: client, .notDefined, "cannot open a transfer port", reply: reply)
        }
    }

    private func refuse(
        _ file: String, from client: SocketAddress, _ code: TFTPErrorCode, _ message: String,
        reply: @Sendable (TFTPPacket) -> Void
    ) {
        logger.info("TFTP request refused", metadata: ["client": "\(client.endpoint)", "file": "\(file)", "error": "\(code.rawValue) \(message)"])
        statistics.record(
            .init(client: client.endpoint, file: file, bytes: 0, blockSize: 0, windowSize: 0, duration: .zero,
                  outcome: "error \(code.rawValue): \(message)"))
        reply(.error(code: code, message: message))
    }
}

/// The listening channel's handler: hands each datagram to the server and sends its answers
/// from the listening port.
public final class TFTPListenerHandler: ChannelInboundHandler, Sendable {
    public typealias InboundIn = AddressedEnvelope<ByteBuffer>
    public typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let server: TFTPServer

    init(server: TFTPServer) {
        self.server = server
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let client = envelope.remoteAddress
        let channel = context.channel
        server.receive(Array(envelope.data.readableBytesView), from: client) { packet in
            var buffer = channel.allocator.buffer(capacity: 64)
            buffer.writeTFTPPacket(packet)
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: client, data: buffer), promise: nil)
        }
    }
}
