import NIOCore

/// The only handler on a relay socket: hands each datagram to its call, and flushes what the
/// call queued once the socket has been drained (so writes leave as one sendmmsg batch).
final class MediaSocketHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let call: RelayedCallState
    private let leg: Int
    private let isRTCPSocket: Bool

    init(call: RelayedCallState, leg: Int, isRTCPSocket: Bool) {
        self.call = call
        self.leg = leg
        self.isRTCPSocket = isRTCPSocket
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        call.receive(unwrapInboundIn(data), leg: leg, onRTCPSocket: isRTCPSocket)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        call.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A datagram socket reports per-packet errors (an ICMP unreachable turned into ECONNREFUSED,
        // a full buffer); none of them ends the call.
        call.socketError(leg: leg)
    }
}
