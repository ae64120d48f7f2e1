import NIOCore

/// Buffers the relay decrypts and re-encrypts packets in, reused round-robin by every call on one
/// event loop. A buffer handed to a socket write is referenced until the write completes; by the
/// time the ring comes back to it, the write has gone and the buffer is reused in place. If it
/// has not (the socket was full), ByteBuffer's copy-on-write keeps the pending packet intact.
final class OutputRing {
    /// Room for an MTU-sized packet plus what SRTP appends.
    static let bufferCapacity = 2_048
    static let size = 64

    var buffers: [ByteBuffer]
    private var next = 0

    init(allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        buffers = (0..<Self.size).map { _ in allocator.buffer(capacity: Self.bufferCapacity) }
    }

    func take() -> Int {
        let slot = next
        next = next + 1 == Self.size ? 0 : next + 1
        return slot
    }
}
