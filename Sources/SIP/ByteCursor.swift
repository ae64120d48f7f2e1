/// A forward-only reader over bytes for the hand-written SIP grammars.
///
/// Only valid while the buffer it reads is alive; parsers create it inside
/// `withUnsafeBufferPointer` and never let it escape.
struct ByteCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var index: Int
    let end: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.index = 0
        self.end = bytes.count
    }

    @inline(__always)
    var isAtEnd: Bool { index >= end }

    @inline(__always)
    var peek: UInt8? { index < end ? bytes[index] : nil }

    func peek(at offset: Int) -> UInt8? {
        index + offset < end ? bytes[index + offset] : nil
    }

    @inline(__always)
    mutating func advance(_ count: Int = 1) { index += count }

    @inline(__always)
    mutating func consume(_ byte: UInt8) -> Bool {
        guard index < end, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Consumes a case-insensitive ASCII literal.
    mutating func consume(caseInsensitive literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard end - index >= count else { return false }
        let pointer = literal.utf8Start
        for offset in 0..<count where Grammar.lowercase(bytes[index + offset]) != Grammar.lowercase(pointer[offset]) {
            return false
        }
        index += count
        return true
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < end, Grammar.isWhitespace(bytes[index]) { index += 1 }
    }

    /// Skips white space around a separator (`SWS sep SWS`); false if the separator is not there.
    mutating func consumeSeparator(_ separator: UInt8) -> Bool {
        let start = index
        skipWhitespace()
        guard consume(separator) else {
            index = start
            return false
        }
        skipWhitespace()
        return true
    }

    @inline(__always)
    mutating func read(while predicate: (UInt8) -> Bool) -> UnsafeBufferPointer<UInt8> {
        let start = index
        while index < end, predicate(bytes[index]) { index += 1 }
        return slice(start, index)
    }

    mutating func readToken() -> UnsafeBufferPointer<UInt8> {
        read(while: Grammar.isToken)
    }

    @inline(__always)
    func slice(_ from: Int, _ to: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[from..<to])
    }

    var remaining: UnsafeBufferPointer<UInt8> { slice(index, end) }

    /// Reads a quoted-string starting at `"` and returns its content with escapes resolved; in
    /// `.check` mode it only checks it and returns nil.
    mutating func readQuotedString(element: String, mode: GrammarMode = .build) throws(SIPParseError) -> String? {
        guard consume(0x22) else { throw SIPParseError(element: element, reason: "expected a quoted string") }
        let start = index
        // Only a quoted-pair makes the content differ from the bytes between the quotes.
        var unescaped: [UInt8]?
        while index < end {
            let byte = bytes[index]
            index += 1
            switch byte {
            case 0x22:
                if let unescaped {
                    guard unescaped.withUnsafeBufferPointer({ Grammar.isUTF8($0) }) else {
                        throw SIPParseError(element: element, reason: "quoted string is not UTF-8")
                    }
                    return mode == .build ? String(decoding: unescaped, as: UTF8.self) : nil
                }
                let content = slice(start, index - 1)
                guard Grammar.isUTF8(content) else {
                    throw SIPParseError(element: element, reason: "quoted string is not UTF-8")
                }
                return mode == .build ? content.text : nil
            case 0x5C:
                guard index < end, bytes[index] != 0x0A, bytes[index] != 0x0D else {
                    throw SIPParseError(element: element, reason: "bad escape in quoted string")
                }
                if unescaped == nil { unescaped = Array(slice(start, index - 1)) }
                unescaped!.append(bytes[index])
                index += 1
            case 0x0D, 0x0A:
                throw SIPParseError(element: element, reason: "line break in quoted string")
            default:
                unescaped?.append(byte)
            }
        }
        throw SIPParseError(element: element, reason: "unterminated quoted string")
    }

    /// Skips a quoted string verbatim (used when splitting lists), false if unterminated.
    mutating func skipQuotedString() -> Bool {
        guard consume(0x22) else { return false }
        while index < end {
            let byte = bytes[index]
            index += 1
            if byte == 0x5C { index += 1 } else if byte == 0x22 { return index <= end }
        }
        return false
    }
}

extension UnsafeBufferPointer<UInt8> {
    var text: String { String(decoding: self, as: UTF8.self) }

    func equalsCaseInsensitive(_ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let pointer = literal.utf8Start
        for offset in 0..<count where Grammar.lowercase(self[offset]) != Grammar.lowercase(pointer[offset]) {
            return false
        }
        return true
    }

    /// A decimal number without sign, refusing overflow past `limit`.
    func decimal(limit: UInt64) -> UInt64? {
        guard !isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in self {
            guard Grammar.isDigit(byte) else { return nil }
            value = value * 10 + UInt64(byte - 0x30)
            if value > limit { return nil }
        }
        return value
    }
}

extension String {
    /// Runs `body` over the string's UTF-8 bytes without copying when the storage allows it.
    func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws(SIPParseError) -> Result) throws(SIPParseError) -> Result {
        var copy = self
        let outcome = copy.withUTF8 { buffer in
            Swift.Result { () throws(SIPParseError) -> Result in try body(buffer) }
        }
        return try outcome.get()
    }
}
