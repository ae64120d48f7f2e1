internal import COpenSSL
internal import COutpostShims.OpenSSL
import NIOCore

/// An OpenSSL BIO that reads the ciphertext the channel received straight out of its ByteBuffer
/// and writes outgoing ciphertext into one, instead of copying through memory BIOs. It holds no
/// buffer of its own, so an idle connection costs no BIO memory.
final class ByteBufferBIO {
    /// Ciphertext received and not yet consumed by OpenSSL.
    var inbound: ByteBuffer?
    /// Ciphertext OpenSSL produced, waiting to be written to the network.
    var outbound: ByteBuffer?
    private(set) var bio: OpaquePointer?
    private let allocator: ByteBufferAllocator

    init(allocator: ByteBufferAllocator) {
        self.allocator = allocator
        guard let bio = BIO_new(ByteBufferBIO.method.pointer) else { return }
        BIO_set_data(bio, Unmanaged.passUnretained(self).toOpaque())
        BIO_set_init(bio, 1)
        self.bio = bio
    }

    /// Outgoing ciphertext, leaving nothing behind.
    func takeOutbound() -> ByteBuffer? {
        defer { outbound = nil }
        guard let outbound, outbound.readableBytes > 0 else { return nil }
        return outbound
    }

    fileprivate func read(into destination: UnsafeMutablePointer<CChar>, count: Int) -> Int32 {
        guard var buffer = inbound, buffer.readableBytes > 0 else { return -1 }
        let copied = min(count, buffer.readableBytes)
        buffer.readWithUnsafeReadableBytes { source in
            UnsafeMutableRawPointer(destination).copyMemory(from: source.baseAddress!, byteCount: copied)
            return copied
        }
        inbound = buffer.readableBytes > 0 ? buffer : nil
        return Int32(copied)
    }

    fileprivate func write(from source: UnsafePointer<CChar>, count: Int) -> Int32 {
        if outbound == nil { outbound = allocator.buffer(capacity: max(count, 1024)) }
        outbound!.writeBytes(UnsafeRawBufferPointer(start: source, count: count))
        return Int32(count)
    }

    /// The BIO method, created once for the process.
    private static let method = BIOMethod()
}

/// `@unchecked Sendable`: the method table is built once and only read afterwards.
private final class BIOMethod: @unchecked Sendable {
    let pointer: OpaquePointer

    init() {
        let type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK
        pointer = BIO_meth_new(type, "outpost ByteBuffer")!
        BIO_meth_set_write(pointer) { bio, data, length in
            guard let bio, let data, length >= 0, let owner = BIO_get_data(bio) else { return -1 }
            outpost_BIO_clear_retry_flags(bio)
            return Unmanaged<ByteBufferBIO>.fromOpaque(owner).takeUnretainedValue().write(from: data, count: Int(length))
        }
        BIO_meth_set_read(pointer) { bio, data, length in
            guard let bio, let data, length >= 0, let owner = BIO_get_data(bio) else { return -1 }
            outpost_BIO_clear_retry_flags(bio)
            let read = Unmanaged<ByteBufferBIO>.fromOpaque(owner).takeUnretainedValue().read(into: data, count: Int(length))
            if read < 0 { outpost_BIO_set_retry_read(bio) }
            return read
        }
        BIO_meth_set_ctrl(pointer) { _, command, _, _ in
            command == outpost_bio_ctrl_flush() ? 1 : 0
        }
        BIO_meth_set_create(pointer) { _ in 1 }
        BIO_meth_set_destroy(pointer) { bio in
            guard let bio else { return 0 }
            BIO_set_data(bio, nil)
            return 1
        }
    }
}
