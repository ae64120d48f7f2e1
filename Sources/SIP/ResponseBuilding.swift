extension SIPResponse {
    /// A response to `request` per RFC 3261 §8.2.6: Via, From, To, Call-ID and CSeq copied, a To
    /// tag added to a final response when the request had none.
    public init(
        respondingTo request: SIPRequest, statusCode: Int, reasonPhrase: String? = nil, toTag: String? = nil
    ) {
        self.init(respondingTo: request.headers, statusCode: statusCode, reasonPhrase: reasonPhrase, toTag: toTag)
    }

    /// The same from raw header lines, which also serves requests that failed to parse in full.
    public init(
        respondingTo requestHeaders: SIPHeaders, statusCode: Int, reasonPhrase: String? = nil, toTag: String? = nil
    ) {
        var headers = SIPHeaders()
        for field in requestHeaders where field.name == .via {
            headers.append(.via, field.value)
        }
        for name in [SIPHeaderName.from, .to, .callID, .cseq] {
            guard var value = requestHeaders[name] else { continue }
            if name == .to, statusCode > 100, let toTag, (try? requestHeaders.to().tag) ?? nil == nil,
               requestHeaders.lines(.to).count == 1 {
                value += ";tag=" + toTag
            }
            headers.append(name, value)
        }
        self.init(statusCode: statusCode, reasonPhrase: reasonPhrase, headers: headers)
    }
}

/// Random identifiers: tags, branches and Call-IDs (RFC 3261 §19.3 asks for 32 random bits at least).
public enum SIPIdentifiers {
    public static func tag() -> String { randomHex(byteCount: 8) }
    /// Every branch this process creates starts with the same random prefix, so a request that
    /// comes back through the edge is recognised as a loop (RFC 3261 §16.3 step 4) and a
    /// response's Via as the edge's own.
    public static func branch() -> String { ownBranchPrefix + randomHex(byteCount: 12) }
    public static func isOwnBranch(_ branch: String) -> Bool { branch.hasPrefix(ownBranchPrefix) }
    private static let ownBranchPrefix = Via.magicCookie + randomHex(byteCount: 4) + "."
    public static func callID() -> String { randomHex(byteCount: 16) }

    /// Eight random bytes per call of the system generator: one `getrandom` per 64 bits, not per byte.
    static func randomHex(byteCount: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(byteCount * 2)
        var word: UInt64 = 0
        for index in 0..<byteCount {
            if index % 8 == 0 { word = generator.next() }
            let value = UInt8(truncatingIfNeeded: word >> (8 * UInt64(index % 8)))
            bytes.append(digits[Int(value >> 4)])
            bytes.append(digits[Int(value & 0x0F)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension SIPMessageParser {
    /// For a request that failed to parse: if its start line names a method, the raw Via, From,
    /// To, Call-ID and CSeq lines, so the transport can still answer `400`. Nil for responses and
    /// for bytes too broken to answer (no Via to answer along), and for an ACK.
    public static func salvageRequestHeaders(_ bytes: UnsafeBufferPointer<UInt8>) -> SIPHeaders? {
        let text = String(decoding: bytes.prefix(65536), as: UTF8.self)
        // "\r\n" is one Character in Swift, so split on both spellings of a line end.
        var lines = text.split(omittingEmptySubsequences: false) { $0 == "\r\n" || $0 == "\n" }
        while let first = lines.first, first.isEmpty { lines.removeFirst() }
        guard let startLine = lines.first, !startLine.uppercased().hasPrefix("SIP/"),
              startLine.split(separator: " ").count >= 3 else { return nil }
        // An ACK is never answered (RFC 3261 §17.2.1), however broken.
        guard startLine.split(separator: " ").first != "ACK" else { return nil }
        var headers = SIPHeaders()
        for line in lines.dropFirst() {
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = SIPHeaderName(String(line[..<colon]).trimmingWhitespace)
            guard [SIPHeaderName.via, .from, .to, .callID, .cseq].contains(name) else { continue }
            headers.append(name, String(line[line.index(after: colon)...]).trimmingWhitespace)
            if headers.count > 64 { break }
        }
        // A Via is enough to answer to (RFC 3261 §8.2: a request missing mandatory headers gets a
        // 400 naming them); the other headers are copied when present.
        guard headers.contains(.via) else { return nil }
        return headers
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (SIP's LWS inside a header line).
    public var trimmingWhitespace: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
