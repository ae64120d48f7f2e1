internal import COpenSSL
internal import COutpostShims.OpenSSL

/// Owner of an OpenSSL memory `BIO`, the in-memory stream that PEM encoders and decoders use.
/// Internal: PEM text crosses the public API as `String`/bytes, never as a `BIO`.
final class MemoryBIO {
    let pointer: OpaquePointer

    /// An empty, writable memory BIO.
    init(operation: String) throws(PKIError) {
        guard let bio = BIO_new(BIO_s_mem()) else {
            throw PKIError.drainingOpenSSLQueue(.allocationFailed, operation: operation)
        }
        self.pointer = bio
    }

    /// A memory BIO holding its own copy of `bytes`, ready to be read.
    convenience init(copying bytes: some Collection<UInt8>, operation: String) throws(PKIError) {
        try self.init(operation: operation)
        let contiguous = Array(bytes)
        let written = contiguous.withUnsafeBytes { raw -> Int32 in
            guard let base = raw.baseAddress, raw.count > 0 else { return 0 }
            return BIO_write(pointer, base, Int32(clamping: raw.count))
        }
        if contiguous.count > 0 && Int(written) != contiguous.count {
            throw PKIError.drainingOpenSSLQueue(.allocationFailed, operation: operation)
        }
    }

    deinit {
        BIO_free(pointer)
    }

    /// Everything written to the BIO so far.
    var contents: [UInt8] {
        var data: UnsafeMutablePointer<CChar>?
        let length = outpost_BIO_get_mem_data(pointer, &data)
        guard length > 0, let data else { return [] }
        return data.withMemoryRebound(to: UInt8.self, capacity: Int(length)) { bytes in
            Array(UnsafeBufferPointer(start: bytes, count: Int(length)))
        }
    }
}
