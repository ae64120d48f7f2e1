/// Character classes of RFC 3261 §25.1, as lookup tables over bytes.
enum Grammar {
    /// `token` characters: alphanum and `-.!%*_+`'~`.
    static let token: [Bool] = table { byte in
        isAlphanumeric(byte) || "-.!%*_+`'~".utf8.contains(byte)
    }

    /// `word` characters (used by Call-ID): token plus `()<>:\"/[]?{}`.
    static let word: [Bool] = table { byte in
        token[Int(byte)] || "()<>:\\\"/[]?{}".utf8.contains(byte)
    }

    /// Characters allowed unescaped in the user part of a SIP URI: unreserved and user-unreserved.
    static let userUnescaped: [Bool] = table { byte in
        isUnreserved(byte) || "&=+$,;?/".utf8.contains(byte)
    }

    /// Characters allowed unescaped in the password part.
    static let passwordUnescaped: [Bool] = table { byte in
        isUnreserved(byte) || "&=+$,".utf8.contains(byte)
    }

    /// `paramchar` without escapes: param-unreserved and unreserved.
    static let parameterUnescaped: [Bool] = table { byte in
        isUnreserved(byte) || "[]/:&+$".utf8.contains(byte)
    }

    /// `hnv-unreserved` and unreserved, for URI headers.
    static let uriHeaderUnescaped: [Bool] = table { byte in
        isUnreserved(byte) || "[]/?:+$".utf8.contains(byte)
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || "-_.!~*'()".utf8.contains(byte)
    }

    /// A switch rather than the table: this runs for every byte of every header name and token.
    @inline(__always)
    static func isToken(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case 0x2D, 0x2E, 0x21, 0x25, 0x2A, 0x5F, 0x2B, 0x60, 0x27, 0x7E: true
        default: false
        }
    }

    static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }

    static func lowercase(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    private static func table(_ predicate: (UInt8) -> Bool) -> [Bool] {
        (0...255).map { predicate(UInt8($0)) }
    }
}

extension String {
    /// Bytes to text, refusing what is not UTF-8 instead of replacing it, so a parsed
    /// message never differs from what was sent.
    init?(validatingUTF8Bytes bytes: UnsafeBufferPointer<UInt8>) {
        // Nearly all SIP text is ASCII, which needs no validation beyond this scan.
        if !bytes.contains(where: { $0 >= 0x80 }) {
            self = String(decoding: bytes, as: UTF8.self)
            return
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        self = text
    }
}
