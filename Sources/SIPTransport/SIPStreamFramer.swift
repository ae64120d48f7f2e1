import NIOCore

/// What a stream carries between messages: a whole SIP message, or an RFC 5626 keep-alive.
public enum SIPStreamFrame: Equatable, Sendable {
    case message(ByteBuffer)
    /// A double CRLF from the peer, answered with a single CRLF (RFC 5626 §3.5.1).
    case keepAlivePing
}

/// Why a stream cannot be framed any further; the connection is answered if possible and closed.
public enum SIPStreamFramingError: Error, Equatable, Sendable {
    /// The header section or the announced body exceeds the limit. `headerSection` holds the
    /// bytes read so far of the header section, so a `513` can still be addressed.
    case messageTooLarge(limit: Int, headerSection: ByteBuffer)
    /// Content-Length is missing or not a number; RFC 3261 §18.3 requires it on streams.
    case badContentLength(headerSection: ByteBuffer)
}

/// Sent on as a user event when the first bytes of a message have arrived but not the whole of
/// it, once per message: the stream handler starts the message deadline on it.
public struct SIPStreamMessageStarted: Sendable, Hashable {
    public init() {}
}

/// Cuts a TCP or TLS byte stream into SIP messages by Content-Length (RFC 3261 §18.3).
public struct SIPStreamFramer: ByteToMessageDecoder {
    public typealias InboundOut = SIPStreamFrame

    public let maximumMessageSize: Int
    private var scannedHeaderBytes = 0
    /// `SIPStreamMessageStarted` was sent for the message now being read.
    private var startAnnounced = false

    public init(maximumMessageSize: Int = 65_535) {
        self.maximumMessageSize = maximumMessageSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try nextFrame(&buffer) else {
            if !startAnnounced, isMessageBegun(buffer) {
                startAnnounced = true
                context.fireUserInboundEventTriggered(SIPStreamMessageStarted())
            }
            return .needMoreData
        }
        if case .message = frame { startAnnounced = false }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    /// The framing itself, apart from NIO so it can be tested and fuzzed on its own.
    public mutating func nextFrame(_ buffer: inout ByteBuffer) throws -> SIPStreamFrame? {
        try skipLineEndsBetweenMessages(&buffer)
        if pendingPing {
            pendingPing = false
            return .keepAlivePing
        }
        // Raw bytes, not ByteBufferView indexing: this scan runs over every byte of every message.
        let scanned = scannedHeaderBytes
        let outcome = buffer.withUnsafeReadableBytes { bytes -> (headerEnd: Int?, contentLength: Int?) in
            guard let first = bytes.first, first != 0x0D, first != 0x0A else { return (nil, nil) }
            guard let headerEnd = Self.findHeaderEnd(bytes, from: scanned) else { return (nil, nil) }
            return (headerEnd, Self.contentLength(in: UnsafeRawBufferPointer(rebasing: bytes[..<headerEnd])))
        }
        let available = buffer.readableBytes
        guard let first = buffer.readableBytesView.first, first != 0x0D, first != 0x0A else { return nil }
        guard let headerLength = outcome.headerEnd else {
            scannedHeaderBytes = max(0, available - 3)
            if available > maximumMessageSize {
                throw SIPStreamFramingError.messageTooLarge(limit: maximumMessageSize, headerSection: buffer.getSlice(at: buffer.readerIndex, length: min(available, 8192))!)
            }
            return nil
        }
        let headerSection = buffer.getSlice(at: buffer.readerIndex, length: headerLength)!
        guard let bodyLength = outcome.contentLength else {
            throw SIPStreamFramingError.badContentLength(headerSection: headerSection)
        }
        guard headerLength + bodyLength <= maximumMessageSize else {
            throw SIPStreamFramingError.messageTooLarge(limit: maximumMessageSize, headerSection: headerSection)
        }
        guard available >= headerLength + bodyLength else { return nil }
        scannedHeaderBytes = 0
        return .message(buffer.readSlice(length: headerLength + bodyLength)!)
    }

    /// Bytes of a message wait in the buffer: what is left between messages is only CR and LF
    /// (the start of a possible keep-alive).
    public func isMessageBegun(_ buffer: ByteBuffer) -> Bool {
        guard let first = buffer.readableBytesView.first else { return false }
        return first != 0x0D && first != 0x0A
    }

    private var pendingPing = false
    private static let ping: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]

    /// Consumes CR and LF bytes before a message. A double CRLF is a keep-alive ping; bytes that
    /// may still become one are left until more arrive.
    private mutating func skipLineEndsBetweenMessages(_ buffer: inout ByteBuffer) throws {
        let view = buffer.readableBytesView
        var index = view.startIndex
        while index < view.endIndex, view[index] == 0x0D || view[index] == 0x0A {
            let rest = view[index...]
            if rest.starts(with: Self.ping) {
                buffer.moveReaderIndex(forwardBy: index - view.startIndex + 4)
                scannedHeaderBytes = 0
                pendingPing = true
                return
            }
            if rest.count < 4, Self.ping.starts(with: rest) { break }
            index += 1
        }
        if index > view.startIndex {
            buffer.moveReaderIndex(forwardBy: index - view.startIndex)
            scannedHeaderBytes = 0
        }
    }

    /// The offset just past the empty line, resuming where the last scan stopped.
    private static func findHeaderEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while index + 3 < bytes.count {
            if bytes[index + 3] != 0x0A {
                index += bytes[index + 3] == 0x0D ? 1 : 4
                continue
            }
            if bytes[index] == 0x0D, bytes[index + 1] == 0x0A, bytes[index + 2] == 0x0D {
                return index + 4
            }
            index += 1
        }
        return nil
    }

    /// Content-Length or its compact form `l`, which must appear exactly once with a number.
    private static func contentLength(in header: UnsafeRawBufferPointer) -> Int? {
        var found: Int?
        var lineStart = 0
        while lineStart < header.count {
            var lineEnd = lineStart
            while lineEnd < header.count, header[lineEnd] != 0x0A { lineEnd += 1 }
            let line = UnsafeRawBufferPointer(rebasing: header[lineStart..<lineEnd])
            if let colon = contentLengthColon(line) {
                guard found == nil, let value = contentLengthValue(line, after: colon) else { return nil }
                found = value
            }
            lineStart = lineEnd + 1
        }
        return found
    }

    /// Where the colon is, when the line's header name is Content-Length or `l`.
    private static func contentLengthColon(_ line: UnsafeRawBufferPointer) -> Int? {
        // Names other than these start with another letter: most lines stop at the first byte.
        guard let first = line.first, first | 0x20 == 0x63 || first | 0x20 == 0x6C else { return nil }
        guard let colon = line.firstIndex(of: 0x3A) else { return nil }
        var nameEnd = colon
        while nameEnd > 0, line[nameEnd - 1] == 0x20 || line[nameEnd - 1] == 0x09 { nameEnd -= 1 }
        if nameEnd == 1 { return first | 0x20 == 0x6C ? colon : nil }
        guard nameEnd == 14 else { return nil }
        for (offset, expected) in "content-length".utf8.enumerated() where line[offset] | 0x20 != expected { return nil }
        return colon
    }

    private static func contentLengthValue(_ line: UnsafeRawBufferPointer, after colon: Int) -> Int? {
        var value = 0
        var digits = 0
        for byte in line[(colon + 1)...] {
            switch byte {
            case 0x30...0x39:
                value = value * 10 + Int(byte - 0x30)
                digits += 1
                if digits > 9 { return nil }
            case 0x20, 0x09, 0x0D: continue
            default: return nil
            }
        }
        return digits > 0 ? value : nil
    }
}
