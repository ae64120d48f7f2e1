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

/// Cuts a TCP or TLS byte stream into SIP messages by Content-Length (RFC 3261 §18.3).
public struct SIPStreamFramer: ByteToMessageDecoder {
    public typealias InboundOut = SIPStreamFrame

    public let maximumMessageSize: Int
    private var scannedHeaderBytes = 0

    public init(maximumMessageSize: Int = 65_535) {
        self.maximumMessageSize = maximumMessageSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try nextFrame(&buffer) else { return .needMoreData }
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
        let view = buffer.readableBytesView
        guard let first = view.first, first != 0x0D, first != 0x0A else { return nil }
        guard let headerEnd = findHeaderEnd(view) else {
            scannedHeaderBytes = max(0, view.count - 3)
            if view.count > maximumMessageSize {
                throw SIPStreamFramingError.messageTooLarge(limit: maximumMessageSize, headerSection: buffer.getSlice(at: buffer.readerIndex, length: min(view.count, 8192))!)
            }
            return nil
        }
        let headerLength = headerEnd - view.startIndex
        let headerSection = buffer.getSlice(at: buffer.readerIndex, length: headerLength)!
        guard let bodyLength = contentLength(in: view[view.startIndex..<headerEnd]) else {
            throw SIPStreamFramingError.badContentLength(headerSection: headerSection)
        }
        guard headerLength + bodyLength <= maximumMessageSize else {
            throw SIPStreamFramingError.messageTooLarge(limit: maximumMessageSize, headerSection: headerSection)
        }
        guard view.count >= headerLength + bodyLength else { return nil }
        scannedHeaderBytes = 0
        return .message(buffer.readSlice(length: headerLength + bodyLength)!)
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

    /// The index just past the empty line, resuming where the last scan stopped.
    private mutating func findHeaderEnd(_ view: ByteBufferView) -> ByteBufferView.Index? {
        var index = view.startIndex + scannedHeaderBytes
        while index + 3 < view.endIndex {
            if view[index + 3] != 0x0A {
                index += view[index + 3] == 0x0D ? 1 : 4
                continue
            }
            if view[index] == 0x0D, view[index + 1] == 0x0A, view[index + 2] == 0x0D {
                return index + 4
            }
            index += 1
        }
        return nil
    }

    /// Content-Length or its compact form `l`, which must appear exactly once with a number.
    private func contentLength(in header: ByteBufferView.SubSequence) -> Int? {
        var found: Int?
        var lineStart = header.startIndex
        while lineStart < header.endIndex {
            var lineEnd = lineStart
            while lineEnd < header.endIndex, header[lineEnd] != 0x0A { lineEnd += 1 }
            if let value = contentLengthValue(header[lineStart..<lineEnd]) {
                guard found == nil else { return nil }
                found = value
            } else if isContentLengthName(header[lineStart..<lineEnd]) {
                return nil
            }
            lineStart = lineEnd + 1
        }
        return found
    }

    private func isContentLengthName(_ line: ByteBufferView.SubSequence) -> Bool {
        guard let colon = line.firstIndex(of: 0x3A) else { return false }
        var name = line[line.startIndex..<colon]
        while let last = name.last, last == 0x20 || last == 0x09 { name = name.dropLast() }
        if name.count == 1 { return name.first! | 0x20 == 0x6C }
        return name.count == 14 && name.elementsEqual("content-length".utf8) { $0 | 0x20 == $1 | 0x20 }
    }

    private func contentLengthValue(_ line: ByteBufferView.SubSequence) -> Int? {
        guard isContentLengthName(line), let colon = line.firstIndex(of: 0x3A) else { return nil }
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
