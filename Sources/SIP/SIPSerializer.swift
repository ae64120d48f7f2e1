/// Writes messages in canonical form: long header names, `Name: value` one field a line, CRLF,
/// and a Content-Length that always matches the body (written where the message had it, or last).
public enum SIPSerializer {
    public static func serialize(_ message: SIPMessage) -> [UInt8] {
        switch message {
        case .request(let request): serialize(request)
        case .response(let response): serialize(response)
        }
    }

    public static func serialize(_ request: SIPRequest) -> [UInt8] {
        var startLine: [UInt8] = []
        startLine.reserveCapacity(128)
        startLine.append(contentsOf: request.method.rawValue.utf8)
        startLine.append(0x20)
        request.uri.serialize(into: &startLine)
        startLine.append(contentsOf: " SIP/2.0\r\n".utf8)
        return assemble(startLine, request.headers, request.body)
    }

    public static func serialize(_ response: SIPResponse) -> [UInt8] {
        var startLine: [UInt8] = []
        startLine.reserveCapacity(32 + response.reasonPhrase.utf8.count)
        startLine.append(contentsOf: "SIP/2.0 ".utf8)
        startLine.append(contentsOf: String(response.statusCode).utf8)
        startLine.append(0x20)
        startLine.append(contentsOf: response.reasonPhrase.utf8)
        startLine.append(contentsOf: "\r\n".utf8)
        return assemble(startLine, response.headers, response.body)
    }

    /// The start line, the header fields and the body, measured first and then copied once each
    /// into an array of exactly that size; received header values are copied as received.
    private static func assemble(_ startLine: [UInt8], _ headers: SIPHeaders, _ body: [UInt8]) -> [UInt8] {
        let contentLength = Array(String(body.count).utf8)
        let contentLengthName: StaticString = "Content-Length: "
        var size = startLine.count + 2 + body.count
        var wroteLength = false
        for entry in headers.entries {
            if entry.name.known == .contentLength {
                guard !wroteLength else { continue }
                wroteLength = true
                size += contentLengthName.utf8CodeUnitCount + contentLength.count + 2
                continue
            }
            size += entry.name.canonical.utf8.count + 2 + entry.value.byteCount + 2
        }
        if !wroteLength { size += contentLengthName.utf8CodeUnitCount + contentLength.count + 2 }

        return headers.storage.withUnsafeBufferPointer { received in
            [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
                var writer = Writer(buffer)
                writer.write(startLine)
                var wroteLength = false
                for entry in headers.entries {
                    if entry.name.known == .contentLength {
                        guard !wroteLength else { continue }
                        wroteLength = true
                        writer.write(contentLengthName)
                        writer.write(contentLength)
                        writer.write("\r\n")
                        continue
                    }
                    entry.name.withCanonicalBytes { writer.write($0) }
                    writer.write(": ")
                    switch entry.value {
                    case .received(let start, let end):
                        writer.write(UnsafeBufferPointer(rebasing: received[Int(start)..<Int(end)]))
                    case .text(let text):
                        var copy = text
                        copy.withUTF8 { writer.write($0) }
                    }
                    writer.write("\r\n")
                }
                if !wroteLength {
                    writer.write(contentLengthName)
                    writer.write(contentLength)
                    writer.write("\r\n")
                }
                writer.write("\r\n")
                writer.write(body)
                precondition(writer.count == size, "serialized size was measured wrong")
                initialized = writer.count
            }
        }
    }

    /// Copies bytes into a buffer measured for them.
    private struct Writer {
        let buffer: UnsafeMutableBufferPointer<UInt8>
        var count = 0

        init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

        mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
            precondition(count + bytes.count <= buffer.count, "serialized size was measured wrong")
            (buffer.baseAddress! + count).update(from: source, count: bytes.count)
            count += bytes.count
        }

        mutating func write(_ bytes: [UInt8]) {
            bytes.withUnsafeBufferPointer { write($0) }
        }

        mutating func write(_ literal: StaticString) {
            write(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
        }
    }
}

extension SIPHeaders.Value {
    /// The length of the value in bytes.
    var byteCount: Int {
        switch self {
        case .received(let start, let end): Int(end - start)
        case .text(let text): text.utf8.count
        }
    }
}

extension SIPRequest {
    public var serialized: [UInt8] { SIPSerializer.serialize(self) }
}

extension SIPResponse {
    public var serialized: [UInt8] { SIPSerializer.serialize(self) }
}

extension SIPMessage {
    public var serialized: [UInt8] { SIPSerializer.serialize(self) }
}
