/// Parses SIP messages from bytes (RFC 3261 §7, with the robustness of RFC 4475).
///
/// The header section is split into fields in one pass; the headers every element depends on
/// (Via, From, To, Call-ID, CSeq, Max-Forwards, Contact, Content-Length, Expires) are then
/// validated, so a message that parses is one the transaction layer and the core can act on.
public enum SIPMessageParser {
    public static let maximumHeaderFields = 256
    public static let maximumLineLength = 8192

    public static func parse(_ bytes: [UInt8]) throws(SIPParseError) -> SIPMessage {
        let outcome = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(SIPParseError) -> SIPMessage in try parse(buffer) }
        }
        return try outcome.get()
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(SIPParseError) -> SIPMessage {
        try parse(bytes.bindMemory(to: UInt8.self))
    }

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(SIPParseError) -> SIPMessage {
        var index = 0
        while index < bytes.count, bytes[index] == 0x0D || bytes[index] == 0x0A { index += 1 }
        guard index < bytes.count else { throw SIPParseError(element: "message", reason: "empty") }

        guard let startLineEnd = lineEnd(bytes, from: index) else {
            throw SIPParseError(element: "message", reason: "no end of start line")
        }
        let startLine = try parseStartLine(UnsafeBufferPointer(rebasing: bytes[index..<startLineEnd.contentEnd]))
        index = startLineEnd.next

        var essentials = EssentialHeaders()
        var headerSectionEnded = false
        var folded: [UInt8] = []
        var pendingName: SIPHeaderName?
        var pendingValue: UnsafeBufferPointer<UInt8>?
        var isFolded = false
        var fields: [SIPHeaderField] = []
        fields.reserveCapacity(16)

        func flush() throws(SIPParseError) {
            guard let name = pendingName else { return }
            let text: String?
            if isFolded {
                let length = trimmedTrailing(folded).count
                text = try folded.withUnsafeBufferPointer { (buffer) throws(SIPParseError) -> String? in
                    let value = UnsafeBufferPointer(rebasing: buffer[0..<length])
                    try essentials.check(name, value)
                    return String(validatingUTF8Bytes: value)
                }
            } else {
                let value = pendingValue ?? UnsafeBufferPointer(start: nil, count: 0)
                try essentials.check(name, value)
                text = String(validatingUTF8Bytes: value)
            }
            guard let text else { throw SIPParseError(element: name.canonical, reason: "value is not UTF-8") }
            fields.append(SIPHeaderField(name, text))
            pendingName = nil
            isFolded = false
        }

        while index < bytes.count {
            guard let end = lineEnd(bytes, from: index) else {
                throw SIPParseError(element: "message", reason: "header section does not end with an empty line")
            }
            let line = UnsafeBufferPointer(rebasing: bytes[index..<end.contentEnd])
            index = end.next
            if line.isEmpty {
                headerSectionEnded = true
                break
            }
            guard line.count <= maximumLineLength else {
                throw SIPParseError(element: "message", reason: "header line longer than \(maximumLineLength) bytes")
            }
            if Grammar.isWhitespace(line[0]) {
                guard let name = pendingName else {
                    throw SIPParseError(element: "message", reason: "continuation line before any header")
                }
                if !isFolded {
                    folded = Array(pendingValue ?? UnsafeBufferPointer(start: nil, count: 0))
                    isFolded = true
                }
                let continuation = trimmedLeading(line)
                if !continuation.isEmpty {
                    if !folded.isEmpty { folded.append(0x20) }
                    folded.append(contentsOf: continuation)
                }
                guard folded.count <= maximumLineLength else {
                    throw SIPParseError(element: name.canonical, reason: "folded value longer than \(maximumLineLength) bytes")
                }
                continue
            }
            try flush()
            guard fields.count < maximumHeaderFields else {
                throw SIPParseError(element: "message", reason: "more than \(maximumHeaderFields) header fields")
            }
            var nameEnd = 0
            while nameEnd < line.count, Grammar.isToken(line[nameEnd]) { nameEnd += 1 }
            var colon = nameEnd
            while colon < line.count, Grammar.isWhitespace(line[colon]) { colon += 1 }
            guard nameEnd > 0, colon < line.count, line[colon] == 0x3A else {
                throw SIPParseError(element: "message", reason: "header line without a token name and ':'")
            }
            pendingName = SIPHeaderName.received(UnsafeBufferPointer(rebasing: line[0..<nameEnd]))
            pendingValue = trimmedLeading(UnsafeBufferPointer(rebasing: line[(colon + 1)...]))
            pendingValue = trimmedTrailing(pendingValue!)
        }
        try flush()
        guard headerSectionEnded else {
            throw SIPParseError(element: "message", reason: "header section does not end with an empty line")
        }
        try essentials.finish(requestMethod: startLine.method)

        let available = bytes.count - index
        let bodyLength = essentials.contentLength ?? available
        guard bodyLength <= available else {
            throw SIPParseError(
                element: "Content-Length", reason: "\(bodyLength) is more than the \(available) body bytes received")
        }
        let body = Array(UnsafeBufferPointer(rebasing: bytes[index..<(index + bodyLength)]))

        let headers = SIPHeaders(fields)
        switch startLine {
        case .request(let method, let uri):
            return .request(SIPRequest(method: method, uri: uri, headers: headers, body: body))
        case .response(let status, let reason):
            return .response(SIPResponse(statusCode: status, reasonPhrase: reason, headers: headers, body: body))
        }
    }

    private enum StartLine {
        case request(SIPMethod, URI)
        case response(Int, String)

        var method: SIPMethod? {
            if case .request(let method, _) = self { return method }
            return nil
        }
    }

    private static func parseStartLine(_ line: UnsafeBufferPointer<UInt8>) throws(SIPParseError) -> StartLine {
        var cursor = ByteCursor(line)
        if cursor.consume(caseInsensitive: "SIP/") {
            try parseVersion(&cursor, element: "Status-Line")
            guard cursor.consume(0x20) else { throw SIPParseError(element: "Status-Line", reason: "expected one space after the version") }
            let code = cursor.read(while: Grammar.isDigit)
            guard code.count == 3, let status = code.decimal(limit: 699), status >= 100 else {
                throw SIPParseError(element: "Status-Line", reason: "status code is not three digits from 100 to 699")
            }
            var reason = ""
            if cursor.consume(0x20) {
                guard let text = String(validatingUTF8Bytes: cursor.remaining) else {
                    throw SIPParseError(element: "Status-Line", reason: "reason phrase is not UTF-8")
                }
                reason = text
            } else if !cursor.isAtEnd {
                throw SIPParseError(element: "Status-Line", reason: "expected a space before the reason phrase")
            }
            guard !reason.utf8.contains(where: { $0 < 0x20 && $0 != 0x09 }) else {
                throw SIPParseError(element: "Status-Line", reason: "control character in reason phrase")
            }
            return .response(Int(status), reason)
        }
        let method = cursor.readToken()
        guard !method.isEmpty else { throw SIPParseError(element: "Request-Line", reason: "method is not a token") }
        guard cursor.consume(0x20) else { throw SIPParseError(element: "Request-Line", reason: "expected one space after the method") }
        let uriStart = cursor.index
        while let byte = cursor.peek, byte != 0x20 {
            guard byte > 0x20, byte != 0x7F else { throw SIPParseError(element: "Request-URI", reason: "control character or white space") }
            cursor.advance()
        }
        let uriBytes = cursor.slice(uriStart, cursor.index)
        guard !uriBytes.isEmpty else { throw SIPParseError(element: "Request-Line", reason: "expected one space between the elements") }
        guard cursor.consume(0x20) else { throw SIPParseError(element: "Request-Line", reason: "missing SIP version") }
        guard cursor.consume(caseInsensitive: "SIP/") else {
            throw SIPParseError(element: "Request-Line", reason: "expected 'SIP/2.0' after one space")
        }
        try parseVersion(&cursor, element: "Request-Line")
        guard cursor.isAtEnd else { throw SIPParseError(element: "Request-Line", reason: "characters after the SIP version") }
        let uri = try URIParser.parse(uriBytes, element: "Request-URI")
        if case .sip(let sipURI) = uri, !sipURI.headers.isEmpty {
            throw SIPParseError(element: "Request-URI", reason: "headers are not allowed in a Request-URI")
        }
        return .request(SIPMethod.received(method), uri)
    }

    private static func parseVersion(_ cursor: inout ByteCursor, element: String) throws(SIPParseError) {
        let major = cursor.read(while: Grammar.isDigit)
        guard !major.isEmpty, cursor.consume(0x2E) else { throw SIPParseError(element: element, reason: "malformed SIP version") }
        let minor = cursor.read(while: Grammar.isDigit)
        guard !minor.isEmpty else { throw SIPParseError(element: element, reason: "malformed SIP version") }
        guard major.decimal(limit: 1000) == 2, minor.decimal(limit: 1000) == 0 else {
            throw SIPParseError(element: "SIP-Version", reason: "only SIP/2.0 is supported")
        }
    }

    /// The end of the line starting at `from`: where its content ends (before CR LF or LF) and
    /// where the next line starts.
    private static func lineEnd(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> (contentEnd: Int, next: Int)? {
        var index = from
        while index < bytes.count {
            if bytes[index] == 0x0A {
                let contentEnd = index > from && bytes[index - 1] == 0x0D ? index - 1 : index
                return (contentEnd, index + 1)
            }
            index += 1
        }
        return nil
    }

    private static func trimmedLeading(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0
        while start < bytes.count, Grammar.isWhitespace(bytes[start]) { start += 1 }
        return UnsafeBufferPointer(rebasing: bytes[start...])
    }

    private static func trimmedTrailing(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var end = bytes.count
        while end > 0, Grammar.isWhitespace(bytes[end - 1]) { end -= 1 }
        return UnsafeBufferPointer(rebasing: bytes[0..<end])
    }

    private static func trimmedTrailing(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        var end = bytes.count
        while end > 0, Grammar.isWhitespace(bytes[end - 1]) { end -= 1 }
        return bytes[0..<end]
    }
}

extension SIPMessage {
    public init(parsing bytes: [UInt8]) throws(SIPParseError) {
        self = try SIPMessageParser.parse(bytes)
    }
}
