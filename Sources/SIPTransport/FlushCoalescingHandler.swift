import NIOCore

/// Turns the flushes of one event-loop turn into one: responses finished on another thread (the
/// registrar's journal completes a whole group commit at once) each arrive as write-and-flush, and
/// flushing each alone costs a TLS record flush and a system call per response.
final class FlushCoalescingHandler: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny

    private var flushScheduled = false

    func flush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        // Runs after the writes already queued on the loop, so they leave together.
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = bound.value
            handler.flushScheduled = false
            context.flush()
        }
    }
}
