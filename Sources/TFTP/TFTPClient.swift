import NIOCore
import TFTPProtocol

/// A TFTP read client: fetches files from the call manager's TFTP server for the proxy, and is the
/// one client `outpost bench tftp` measures every server with. It asks for `blksize`,
/// `windowsize` and `tsize`, and falls back to RFC 1350 when the server ignores them.
public struct TFTPClient: Sendable {
    public struct Options: Sendable, Hashable {
        public var blockSize: Int
        public var windowSize: Int
        /// How long to wait for the server before sending the last packet again.
        public var timeout: Duration
        /// Retransmissions in a row without an answer before giving up.
        public var retries: Int
        /// The largest file accepted; a larger transfer is abandoned.
        public var maximumSize: Int

        public init(blockSize: Int = 1428, windowSize: Int = 1, timeout: Duration = .seconds(1), retries: Int = 3, maximumSize: Int = 256 << 20) {
            self.blockSize = blockSize
            self.windowSize = windowSize
            self.timeout = timeout
            self.retries = retries
            self.maximumSize = maximumSize
        }
    }

    private let makeChannel: TFTPChannelFactory

    /// `makeChannel` binds a UDP channel of the server's address family on an ephemeral port.
    public init(makeChannel: @escaping TFTPChannelFactory) {
        self.makeChannel = makeChannel
    }

    public func download(_ filename: String, from server: SocketAddress, options: Options = Options()) async throws -> [UInt8] {
        let result = Promise()
        let channel = try await makeChannel { channel in
            let promise = channel.eventLoop.makePromise(of: [UInt8].self)
            result.set(promise.futureResult)
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    TFTPDownloadHandler(filename: filename, server: server, options: options, promise: promise))
            }
        }.get()
        defer { channel.close(promise: nil) }
        guard let future = result.future else { throw TFTPClientError.protocolViolation("channel initializer did not run") }
        return try await future.get()
    }

    /// Carries the download's future out of the channel initializer.
    private final class Promise: @unchecked Sendable {
        // Written once on the channel's loop before the bind completes; read after it.
        var future: EventLoopFuture<[UInt8]>?
        func set(_ future: EventLoopFuture<[UInt8]>) { self.future = future }
    }
}

public enum TFTPClientError: Error, Hashable, CustomStringConvertible {
    /// The server answered with an ERROR packet.
    case refused(code: TFTPErrorCode, message: String)
    /// No answer after the retries.
    case timeout
    case protocolViolation(String)
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .refused(let code, let message): "server refused: error \(code.rawValue): \(message)"
        case .timeout: "server did not answer"
        case .protocolViolation(let reason): "protocol violation: \(reason)"
        case .tooLarge(let limit): "file exceeds \(limit) bytes"
        }
    }
}

final class TFTPDownloadHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let filename: String
    private let server: SocketAddress
    private let options: TFTPClient.Options
    private let promise: EventLoopPromise<[UInt8]>
    /// The server's transfer port, learnt from its first answer.
    private var peer: SocketAddress?
    private var blockSize = 512
    private var windowSize = 1
    private var received: UInt64 = 0
    private var sinceAcknowledgement = 0
    private var file: [UInt8] = []
    private var lastSent: TFTPPacket
    private var retries = 0
    private var timer: TFTPRetransmissionTimer?
    private var done = false

    init(filename: String, server: SocketAddress, options: TFTPClient.Options, promise: EventLoopPromise<[UInt8]>) {
        self.filename = filename
        self.server = server
        self.options = options
        self.promise = promise
        var requested = [TFTPOption(name: TFTPOptionName.transferSize, value: "0")]
        if options.blockSize != 512 { requested.append(TFTPOption(name: TFTPOptionName.blockSize, value: String(options.blockSize))) }
        if options.windowSize != 1 { requested.append(TFTPOption(name: TFTPOptionName.windowSize, value: String(options.windowSize))) }
        lastSent = .readRequest(TFTPRequest(filename: filename, mode: .octet, options: requested))
    }

    func channelActive(context: ChannelHandlerContext) {
        timer = TFTPRetransmissionTimer(eventLoop: context.eventLoop) { [self] in
            retries += 1
            guard retries <= options.retries else { return fail(.timeout, context: context) }
            send(lastSent, to: peer ?? server, context: context)
        }
        send(lastSent, to: server, context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(TFTPClientError.protocolViolation("channel closed")))
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        let envelope = unwrapInboundIn(data)
        if let peer {
            guard envelope.remoteAddress == peer else {
                write(.error(code: .unknownTransferID, message: "unknown transfer ID"), to: envelope.remoteAddress, context: context)
                return
            }
        } else {
            guard envelope.remoteAddress.ipAddress == server.ipAddress else { return }
            peer = envelope.remoteAddress
        }
        guard let packet = try? TFTPPacket.parse(Array(envelope.data.readableBytesView)) else { return }
        switch packet {
        case .optionAcknowledgement(let acknowledged) where received == 0:
            for option in acknowledged {
                let value = Int(option.value) ?? 0
                switch option.canonicalName {
                case TFTPOptionName.blockSize: blockSize = value
                case TFTPOptionName.windowSize: windowSize = max(value, 1)
                case TFTPOptionName.transferSize where value <= options.maximumSize: file.reserveCapacity(value)
                case TFTPOptionName.transferSize: return fail(.tooLarge(limit: options.maximumSize), context: context)
                default: break
                }
            }
            guard TFTPOptionName.blockSizeRange.contains(blockSize) else {
                return fail(.protocolViolation("OACK with blksize \(blockSize)"), context: context)
            }
            acknowledge(0, context: context)
        case .data(let block, let payload):
            let expected = UInt16(truncatingIfNeeded: received + 1)
            guard block == expected else {
                // Out of order or a repeat: say where we are so the server resends from there (RFC 7440).
                acknowledge(UInt16(truncatingIfNeeded: received), context: context)
                return
            }
            guard payload.count <= blockSize else { return fail(.protocolViolation("DATA longer than blksize"), context: context) }
            guard file.count + payload.count <= options.maximumSize else { return fail(.tooLarge(limit: options.maximumSize), context: context) }
            file.append(contentsOf: payload)
            received += 1
            sinceAcknowledgement += 1
            // The server is making progress, even while no ACK is due within its window.
            timer?.start(after: options.timeout.timeAmount)
            if payload.count < blockSize {
                acknowledge(block, context: context)
                finish(.success(file))
            } else if sinceAcknowledgement >= windowSize {
                acknowledge(block, context: context)
            }
        case .error(let code, let message):
            fail(.refused(code: code, message: message), context: context)
        default:
            fail(.protocolViolation("unexpected \(packet.opcode)"), context: context)
        }
    }

    private func acknowledge(_ block: UInt16, context: ChannelHandlerContext) {
        sinceAcknowledgement = 0
        retries = 0
        lastSent = .acknowledgement(block: block)
        send(lastSent, to: peer ?? server, context: context)
    }

    /// Sends a packet of this transfer and waits for the answer.
    private func send(_ packet: TFTPPacket, to address: SocketAddress, context: ChannelHandlerContext) {
        write(packet, to: address, context: context)
        timer?.start(after: options.timeout.timeAmount)
    }

    private func write(_ packet: TFTPPacket, to address: SocketAddress, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 32)
        buffer.writeTFTPPacket(packet)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: address, data: buffer)), promise: nil)
    }

    private func fail(_ error: TFTPClientError, context: ChannelHandlerContext) {
        switch error {
        case .refused, .timeout: break
        case .protocolViolation, .tooLarge:
            // Tell the server to stop rather than let it retransmit into a closed port.
            if let peer { write(.error(code: .notDefined, message: "\(error)"), to: peer, context: context) }
        }
        finish(.failure(error))
    }

    private func finish(_ result: Result<[UInt8], any Error>) {
        guard !done else { return }
        done = true
        timer?.invalidate()
        timer = nil
        promise.completeWith(result)
    }
}
