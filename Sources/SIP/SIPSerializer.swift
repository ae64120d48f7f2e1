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
        var output: [UInt8] = []
        output.reserveCapacity(512 + request.body.count)
        output.append(contentsOf: request.method.rawValue.utf8)
        output.append(0x20)
        request.uri.serialize(into: &output)
        output.append(contentsOf: " SIP/2.0\r\n".utf8)
        appendHeadersAndBody(request.headers, request.body, into: &output)
        return output
    }

    public static func serialize(_ response: SIPResponse) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(512 + response.body.count)
        output.append(contentsOf: "SIP/2.0 ".utf8)
        output.append(contentsOf: String(response.statusCode).utf8)
        output.append(0x20)
        output.append(contentsOf: response.reasonPhrase.utf8)
        output.append(contentsOf: "\r\n".utf8)
        appendHeadersAndBody(response.headers, response.body, into: &output)
        return output
    }

    private static func appendHeadersAndBody(_ headers: SIPHeaders, _ body: [UInt8], into output: inout [UInt8]) {
        var wroteLength = false
        for field in headers {
            if field.name == .contentLength {
                guard !wroteLength else { continue }
                wroteLength = true
                appendContentLength(body.count, into: &output)
                continue
            }
            output.append(contentsOf: field.name.canonical.utf8)
            output.append(contentsOf: ": ".utf8)
            output.append(contentsOf: field.value.utf8)
            output.append(contentsOf: "\r\n".utf8)
        }
        if !wroteLength { appendContentLength(body.count, into: &output) }
        output.append(contentsOf: "\r\n".utf8)
        output.append(contentsOf: body)
    }

    private static func appendContentLength(_ length: Int, into output: inout [UInt8]) {
        output.append(contentsOf: "Content-Length: ".utf8)
        output.append(contentsOf: String(length).utf8)
        output.append(contentsOf: "\r\n".utf8)
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
