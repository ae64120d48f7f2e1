internal import COpenSSL
internal import COutpostShims.OpenSSL
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// One TLS session with no I/O of its own (the swift-nio-ssl `SSLConnection` split): the handler
/// feeds it ciphertext, asks it to progress, and writes out the ciphertext it produced.
///
/// Not `Sendable`: an `SSL` object is used from one event loop only.
public final class TLSConnection {
    public enum Progress: Equatable, Sendable {
        case complete
        case incomplete
        case failed(TLSError)
    }

    public enum ReadResult: Equatable {
        case data(ByteBuffer)
        case wantMore
        case closed
        case failed(TLSError)
    }

    private let ssl: OpaquePointer
    private let bio: ByteBufferBIO
    public let context: TLSContext

    /// `peerName` overrides the context's `serverName` for this connection: the name (or IP
    /// address) the server's certificate must carry.
    public init(context: TLSContext, allocator: ByteBufferAllocator, peerName: String? = nil) throws(TLSError) {
        guard let ssl = SSL_new(context.context) else { throw .draining(.configuration, context: "SSL_new failed") }
        let bio = ByteBufferBIO(allocator: allocator)
        guard let pointer = bio.bio else {
            SSL_free(ssl)
            throw .draining(.configuration, context: "BIO_new failed")
        }
        // The same BIO serves both directions: SSL_set_bio then consumes the one reference
        // BIO_new gave us (it takes the second itself), and SSL_free releases both.
        SSL_set_bio(ssl, pointer, pointer)
        if context.configuration.role == .server {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let name = peerName ?? context.configuration.serverName {
                if Self.isIPAddress(name) {
                    // An address is checked against the certificate's IP SANs, and RFC 6066 sends
                    // no address as SNI.
                    _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name)
                } else {
                    _ = outpost_SSL_set_tlsext_host_name(ssl, name)
                    _ = SSL_set1_host(ssl, name)
                }
            }
        }
        self.ssl = ssl
        self.bio = bio
        self.context = context
    }

    deinit { SSL_free(ssl) }

    private static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// Ciphertext that arrived from the network.
    public func receive(_ ciphertext: ByteBuffer) {
        if var pending = bio.inbound {
            var more = ciphertext
            pending.writeBuffer(&more)
            bio.inbound = pending
        } else {
            bio.inbound = ciphertext
        }
    }

    /// Ciphertext to send to the network, if any was produced.
    public func takeCiphertext() -> ByteBuffer? { bio.takeOutbound() }

    public var isHandshakeComplete: Bool { SSL_is_init_finished(ssl) == 1 }

    public func handshake() -> Progress {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .complete }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .incomplete
        default: return .failed(handshakeError())
        }
    }

    /// Why the handshake failed: the certificate verification result when it was a refusal.
    private func handshakeError() -> TLSError {
        let queue = OpenSSLErrors.drain()
        let verification = SSL_get_verify_result(ssl)
        if verification != X509_V_OK {
            return TLSError(kind: .certificateRefused, reasons: [String(cString: X509_verify_cert_error_string(verification))] + queue)
        }
        if queue.contains(where: { $0.contains("peer did not return a certificate") }) {
            return TLSError(kind: .noPeerCertificate, reasons: ["no certificate"] + queue)
        }
        return TLSError(kind: .handshake, reasons: queue)
    }

    /// Decrypted application data, one record's worth at a time, in a buffer sized to it: a
    /// one-byte peek makes OpenSSL decrypt the next record and `SSL_pending` then says how much
    /// plaintext it holds, so a SIP message gets a buffer its own size rather than 16 KiB, and a
    /// read that finds no record allocates nothing.
    public func readPlaintext(allocator: ByteBufferAllocator) -> ReadResult {
        ERR_clear_error()
        var probe: UInt8 = 0
        var peeked = 0
        guard SSL_peek_ex(ssl, &probe, 1, &peeked) == 1 else { return readFailure() }
        let length = max(Int(SSL_pending(ssl)), peeked)
        var buffer = allocator.buffer(capacity: length)
        var read = 0
        let result = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { pointer in
            let status = SSL_read_ex(ssl, pointer.baseAddress, length, &read)
            return status == 1 ? read : 0
        }
        if result > 0 { return .data(buffer) }
        return readFailure()
    }

    /// Why a read produced no plaintext.
    private func readFailure() -> ReadResult {
        let code = SSL_get_error(ssl, 0)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .wantMore
        case SSL_ERROR_ZERO_RETURN: return .closed
        default: return .failed(.draining(.protocolViolation))
        }
    }

    /// Encrypts application data; the ciphertext is then available from `takeCiphertext`.
    public func writePlaintext(_ plaintext: ByteBuffer) throws(TLSError) {
        ERR_clear_error()
        var remaining = plaintext
        while remaining.readableBytes > 0 {
            var written = 0
            let status = remaining.withUnsafeReadableBytes { pointer in
                SSL_write_ex(ssl, pointer.baseAddress, pointer.count, &written)
            }
            guard status == 1 else { throw .draining(.protocolViolation, context: "SSL_write failed") }
            remaining.moveReaderIndex(forwardBy: written)
        }
    }

    /// Sends close_notify.
    public func shutdown() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
    }

    public var negotiatedVersion: String { String(cString: SSL_get_version(ssl)) }
    public var negotiatedCipher: String {
        SSL_get_current_cipher(ssl).map { String(cString: SSL_CIPHER_get_name($0)) } ?? ""
    }
    public var sessionWasReused: Bool { SSL_session_reused(ssl) == 1 }

    /// The verified peer certificate's identity, nil when the peer sent none.
    public var peerCertificate: TLSPeerCertificate? {
        guard let certificate = SSL_get0_peer_certificate(ssl) else { return nil }
        return TLSPeerCertificate(certificate, presented: SSL_get_peer_cert_chain(ssl))
    }
}
