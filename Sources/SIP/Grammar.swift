/// Character classes of RFC 3261 §25.1, as byte predicates.
///
/// They are switches rather than tables: a switch over a byte compiles to a bit test, needs no
/// lazily initialised global (no `swift_once` on every call) and no bounds check.
enum Grammar {
    /// `token` characters: alphanum and `-.!%*_+`'~`.
    @inline(__always)
    static func isToken(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case 0x2D, 0x2E, 0x21, 0x25, 0x2A, 0x5F, 0x2B, 0x60, 0x27, 0x7E: true
        default: false
        }
    }

    /// `word` characters (used by Call-ID): token plus `()<>:\"/[]?{}`.
    @inline(__always)
    static func isWord(_ byte: UInt8) -> Bool {
        if isToken(byte) { return true }
        switch byte {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ":"),
             UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "/"), UInt8(ascii: "["), UInt8(ascii: "]"),
             UInt8(ascii: "?"), UInt8(ascii: "{"), UInt8(ascii: "}"): return true
        default: return false
        }
    }

    /// Characters allowed unescaped in the user part of a SIP URI: unreserved and user-unreserved.
    @inline(__always)
    static func isUserUnescaped(_ byte: UInt8) -> Bool {
        if isUnreserved(byte) { return true }
        switch byte {
        case UInt8(ascii: "&"), UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "$"), UInt8(ascii: ","),
             UInt8(ascii: ";"), UInt8(ascii: "?"), UInt8(ascii: "/"): return true
        default: return false
        }
    }

    /// Characters allowed unescaped in the password part.
    @inline(__always)
    static func isPasswordUnescaped(_ byte: UInt8) -> Bool {
        if isUnreserved(byte) { return true }
        switch byte {
        case UInt8(ascii: "&"), UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "$"), UInt8(ascii: ","): return true
        default: return false
        }
    }

    /// `paramchar` without escapes: param-unreserved and unreserved.
    @inline(__always)
    static func isParameterUnescaped(_ byte: UInt8) -> Bool {
        if isUnreserved(byte) { return true }
        switch byte {
        case UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: "&"),
             UInt8(ascii: "+"), UInt8(ascii: "$"): return true
        default: return false
        }
    }

    /// `hnv-unreserved` and unreserved, for URI headers.
    @inline(__always)
    static func isURIHeaderUnescaped(_ byte: UInt8) -> Bool {
        if isUnreserved(byte) { return true }
        switch byte {
        case UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: ":"),
             UInt8(ascii: "+"), UInt8(ascii: "$"): return true
        default: return false
        }
    }

    @inline(__always)
    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    @inline(__always)
    static func isUnreserved(_ byte: UInt8) -> Bool {
        if isAlphanumeric(byte) { return true }
        switch byte {
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "~"),
             UInt8(ascii: "*"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"): return true
        default: return false
        }
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    @inline(__always)
    static func isHexDigit(_ byte: UInt8) -> Bool { hexValue(byte) != nil }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }

    @inline(__always)
    static func lowercase(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// `lowercased()` equality without lowercasing when both are ASCII (every token is): names of
    /// headers and parameters are compared on every message.
    static func equalIgnoringCase(_ left: String, _ right: String) -> Bool {
        var leftASCII = true
        var rightASCII = true
        for byte in left.utf8 where byte >= 0x80 { leftASCII = false }
        for byte in right.utf8 where byte >= 0x80 { rightASCII = false }
        guard leftASCII, rightASCII else { return left.lowercased() == right.lowercased() }
        guard left.utf8.count == right.utf8.count else { return false }
        for (a, b) in zip(left.utf8, right.utf8) where lowercase(a) != lowercase(b) { return false }
        return true
    }

    /// Whether the bytes are UTF-8, without creating a String when they are ASCII.
    static func isUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        isASCII(bytes) || String(validating: bytes, as: UTF8.self) != nil
    }

    /// Whether no byte has its high bit set, eight bytes at a time.
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        var index = 0
        var accumulated: UInt64 = 0
        while index + 8 <= bytes.count {
            accumulated |= raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < bytes.count {
            accumulated |= UInt64(bytes[index])
            index += 1
        }
        return accumulated & 0x8080_8080_8080_8080 == 0
    }
}

/// Whether a grammar walker builds the value it reads or only checks its syntax.
///
/// Both modes walk the same grammar and refuse the same input with the same error; checking
/// creates no Strings or arrays, so the parser can validate the headers every element relies on
/// without paying for values nobody asked for.
enum GrammarMode {
    case build
    case check
}

extension String {
    /// Bytes to text, refusing what is not UTF-8 instead of replacing it, so a parsed
    /// message never differs from what was sent.
    init?(validatingUTF8Bytes bytes: UnsafeBufferPointer<UInt8>) {
        // Nearly all SIP text is ASCII, which needs no validation beyond this scan.
        if Grammar.isASCII(bytes) {
            self = String(decoding: bytes, as: UTF8.self)
            return
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        self = text
    }
}
