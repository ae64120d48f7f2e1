internal import COpenSSL
internal import COutpostShims.OpenSSL
import NIOCore
import Synchronization

/// An OpenSSL BIO that reads the ciphertext the channel received straight out of its ByteBuffer
/// and writes outgoing ciphertext into one, instead of copying through memory BIOs. It holds no
/// buffer of its own, so an idle connection costs no BIO memory.
///
/// Ownership: the `SSL` the BIO is given to owns it (`SSL_set_bio` consumes the one reference
/// `BIO_new` returned) and frees it in `SSL_free`; `bio` is borrowed and valid only that long.
final class ByteBufferBIO {
    /// Counts the BIOs made and destroyed while it is the current task's `census`, so a test can
    /// show that every connection's BIO is freed exactly once, without seeing other tests' BIOs.
    final class Census: Sendable {
        let created = Atomic<Int>(0)
        let destroyed = Atomic<Int>(0)
        var live: Int { created.load(ordering: .relaxed) - destroyed.load(ordering: .relaxed) }
    }

    /// The census a BIO made in this task reports to; nil (nothing counted) outside tests.
    @TaskLocal static var census: Census?

    /// Ciphertext received and not yet consumed by OpenSSL.
    var inbound: ByteBuffer?
    /// Ciphertext OpenSSL produced, waiting to be written to the network.
    var outbound: ByteBuffer?
    private(set) var bio: OpaquePointer?
    private let allocator: ByteBufferAllocator
    private let countedBy: Census?

    init(allocator: ByteBufferAllocator) {
        self.allocator = allocator
        self.countedBy = ByteBufferBIO.census
        guard let bio = BIO_new(ByteBufferBIO.method.pointer) else { return }
        BIO_set_data(bio, Unmanaged.passUnretained(self).toOpaque())
        BIO_set_init(bio, 1)
        self.bio = bio
        countedBy?.created.add(1, ordering: .relaxed)
    }

    /// Called from the BIO's destroy callback, while the owning connection is freeing its `SSL`.
    fileprivate func destroyed() {
        bio = nil
        countedBy?.destroyed.add(1, ordering: .relaxed)
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
            if let owner = BIO_get_data(bio) { Unmanaged<ByteBufferBIO>.fromOpaque(owner).takeUnretainedValue().destroyed() }
            BIO_set_data(bio, nil)
            return 1
        }
    }
}
