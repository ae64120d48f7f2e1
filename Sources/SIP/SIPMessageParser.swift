/// Parses SIP messages from bytes (RFC 3261 §7, with the robustness of RFC 4475).
///
/// The header section is split into fields in one pass; the headers every element depends on
/// (Via, From, To, Call-ID, CSeq, Max-Forwards, Contact, Content-Length, Expires) are then
/// validated, so a message that parses is one the transaction layer and the core can act on.
public enum SIPMessageParser {
    public static let maximumHeaderFields = 256
    public static let maximumLineLength = 8192

    public static func parse(_ bytes: [UInt8]) throws(SIPParseError) -> SIPMessage {
        try bytes.withUnsafeBufferPointer { (buffer) throws(SIPParseError) -> SIPMessage in try parse(buffer) }
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

        // Received values are kept as ranges of one copy of the header section, which starts here.
        let headerStart = index
        var header = HeaderSectionReader(bytes: bytes, base: headerStart)
        var headerSectionEnded = false

        while index < bytes.count {
            guard let end = lineEnd(bytes, from: index) else {
                throw SIPParseError(element: "message", reason: "header section does not end with an empty line")
            }
            let lineStart = index
            let lineEndIndex = end.contentEnd
            index = end.next
            if lineEndIndex == lineStart {
                headerSectionEnded = true
                break
            }
            guard lineEndIndex - lineStart <= maximumLineLength else {
                throw SIPParseError(element: "message", reason: "header line longer than \(maximumLineLength) bytes")
            }
            if Grammar.isWhitespace(bytes[lineStart]) {
                try header.continueValue(lineStart, lineEndIndex)
                continue
            }
            try header.flush()
            var nameEnd = lineStart
            while nameEnd < lineEndIndex, Grammar.isToken(bytes[nameEnd]) { nameEnd += 1 }
            var colon = nameEnd
            while colon < lineEndIndex, Grammar.isWhitespace(bytes[colon]) { colon += 1 }
            guard nameEnd > lineStart, colon < lineEndIndex, bytes[colon] == 0x3A else {
                throw SIPParseError(element: "message", reason: "header line without a token name and ':'")
            }
            var valueStart = colon + 1
            while valueStart < lineEndIndex, Grammar.isWhitespace(bytes[valueStart]) { valueStart += 1 }
            var valueEnd = lineEndIndex
            while valueEnd > valueStart, Grammar.isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
            let name = SIPHeaderName.received(UnsafeBufferPointer(rebasing: bytes[lineStart..<nameEnd]))
            // Content-Length is left out of the count: the canonical form always carries one, and
            // what parsed must parse again once serialized.
            guard header.entries.count - header.essentials.contentLengths < maximumHeaderFields || name == .contentLength else {
                throw SIPParseError(element: "message", reason: "more than \(maximumHeaderFields) header fields")
            }
            header.begin(name, valueStart, valueEnd, isASCII: end.isASCII)
        }
        try header.flush()
        guard headerSectionEnded else {
            throw SIPParseError(element: "message", reason: "header section does not end with an empty line")
        }
        try header.essentials.finish(requestMethod: startLine.method)

        let available = bytes.count - index
        let bodyLength = header.essentials.contentLength ?? available
        guard bodyLength <= available else {
            throw SIPParseError(
                element: "Content-Length", reason: "\(bodyLength) is more than the \(available) body bytes received")
        }
        let body = Array(UnsafeBufferPointer(rebasing: bytes[index..<(index + bodyLength)]))

        let storage = Array(UnsafeBufferPointer(rebasing: bytes[headerStart..<index]))
        let headers = SIPHeaders(storage: storage, entries: header.entries)
        switch startLine {
        case .request(let method, let uri):
            return .request(SIPRequest(method: method, uri: uri, headers: headers, body: body))
        case .response(let status, let reason):
            return .response(SIPResponse(statusCode: status, reasonPhrase: reason, headers: headers, body: body))
        }
    }

    /// Collects the header fields: each field is checked and recorded once its last line (a
    /// continuation line may follow) has been read.
    private struct HeaderSectionReader {
        let bytes: UnsafeBufferPointer<UInt8>
        /// Where the header section starts in `bytes`: received values are recorded relative to it.
        let base: Int
        var essentials = EssentialHeaders()
        var entries: [SIPHeaders.Entry] = []
        private var pendingName: SIPHeaderName?
        private var valueStart = 0
        private var valueEnd = 0
        /// Known from the line scan: an ASCII value needs no UTF-8 check.
        private var valueIsASCII = false
        /// The value of a folded field, its lines joined by one space.
        private var folded: [UInt8]?

        init(bytes: UnsafeBufferPointer<UInt8>, base: Int) {
            self.bytes = bytes
            self.base = base
            entries.reserveCapacity(24)
        }

        mutating func begin(_ name: SIPHeaderName, _ valueStart: Int, _ valueEnd: Int, isASCII: Bool) {
            pendingName = name
            self.valueStart = valueStart
            self.valueEnd = valueEnd
            self.valueIsASCII = isASCII
        }

        /// A continuation line (`start` is white space) of the pending field.
        mutating func continueValue(_ start: Int, _ end: Int) throws(SIPParseError) {
            guard let name = pendingName else {
                throw SIPParseError(element: "message", reason: "continuation line before any header")
            }
            // Taken out of `folded` so that appending does not copy it.
            var value = folded.take() ?? Array(UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd]))
            var from = start
            while from < end, Grammar.isWhitespace(bytes[from]) { from += 1 }
            if from < end {
                if !value.isEmpty { value.append(0x20) }
                value.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[from..<end]))
            }
            folded = value
            guard value.count <= SIPMessageParser.maximumLineLength else {
                throw SIPParseError(element: name.canonical, reason: "folded value longer than \(SIPMessageParser.maximumLineLength) bytes")
            }
        }

        /// Checks and records the pending field.
        mutating func flush() throws(SIPParseError) {
            guard let name = pendingName else { return }
            if let folded {
                var length = folded.count
                while length > 0, Grammar.isWhitespace(folded[length - 1]) { length -= 1 }
                let text = try folded.withUnsafeBufferPointer { (buffer) throws(SIPParseError) -> String? in
                    let value = UnsafeBufferPointer(rebasing: buffer[0..<length])
                    try essentials.check(name, value)
                    return String(validatingUTF8Bytes: value)
                }
                guard let text else { throw SIPParseError(element: name.canonical, reason: "value is not UTF-8") }
                entries.append(SIPHeaders.Entry(name: name, value: .text(text)))
                self.folded = nil
            } else {
                let value = UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd])
                try essentials.check(name, value)
                guard valueIsASCII || Grammar.isUTF8(value) else {
                    throw SIPParseError(element: name.canonical, reason: "value is not UTF-8")
                }
                if let start = UInt32(exactly: valueStart - base), let end = UInt32(exactly: valueEnd - base) {
                    entries.append(SIPHeaders.Entry(name: name, value: .received(start: start, end: end)))
                } else {
                    // Beyond 4 GiB of header section, which only continuation lines can reach.
                    entries.append(SIPHeaders.Entry(name: name, value: .text(value.text)))
                }
            }
            pendingName = nil
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
        let uri = try URIParser.parse(uriBytes, element: "Request-URI")!
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

    /// The end of the line starting at `from`: where its content ends (before CR LF or LF), where
    /// the next line starts, and whether the line is ASCII (false may also mean that a byte just
    /// after the line is not).
    @inline(__always)
    private static func lineEnd(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> (contentEnd: Int, next: Int, isASCII: Bool)? {
        guard let (lineFeed, isASCII) = firstLineFeed(bytes, from: from) else { return nil }
        let contentEnd = lineFeed > from && bytes[lineFeed - 1] == 0x0D ? lineFeed - 1 : lineFeed
        return (contentEnd, lineFeed + 1, isASCII)
    }

    /// The index of the first LF at or after `from`, eight bytes at a time, noting on the way
    /// whether any byte read has its high bit set.
    private static func firstLineFeed(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> (Int, isASCII: Bool)? {
        guard let base = bytes.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        let count = bytes.count
        var index = from
        var highBits: UInt64 = 0
        while index + 8 <= count {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            highBits |= word
            // A byte of `word ^ LF…` is zero where the byte is LF; the lowest flagged byte is exact.
            let difference = word ^ 0x0A0A_0A0A_0A0A_0A0A
            let zeros = (difference &- 0x0101_0101_0101_0101) & ~difference & 0x8080_8080_8080_8080
            if zeros != 0 {
                return (index + zeros.trailingZeroBitCount / 8, highBits & 0x8080_8080_8080_8080 == 0)
            }
            index += 8
        }
        while index < count {
            let byte = bytes[index]
            if byte == 0x0A { return (index, highBits & 0x8080_8080_8080_8080 == 0) }
            highBits |= UInt64(byte)
            index += 1
        }
        return nil
    }
}

extension SIPMessage {
    public init(parsing bytes: [UInt8]) throws(SIPParseError) {
        self = try SIPMessageParser.parse(bytes)
    }
}
