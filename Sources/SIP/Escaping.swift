/// Percent-escaping for URI components (RFC 3261 §19.1.2, RFC 3986 §2.1).
enum Escaping {
    /// Resolves `%HH` escapes; the result may hold any byte, including NUL. In `.check` mode the
    /// escapes and the UTF-8 of the result are checked, and the result is nil.
    static func unescape(_ bytes: UnsafeBufferPointer<UInt8>, element: String, mode: GrammarMode = .build) throws(SIPParseError) -> String? {
        guard bytes.contains(0x25) else {
            guard Grammar.isUTF8(bytes) else {
                throw SIPParseError(element: element, reason: "not UTF-8")
            }
            return mode == .build ? bytes.text : nil
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x25 {
                guard index + 2 < bytes.count,
                      let high = Grammar.hexValue(bytes[index + 1]), let low = Grammar.hexValue(bytes[index + 2])
                else { throw SIPParseError(element: element, reason: "bad percent escape") }
                decoded.append(high << 4 | low)
                index += 3
            } else {
                decoded.append(byte)
                index += 1
            }
        }
        guard let text = String(validating: decoded, as: UTF8.self) else {
            throw SIPParseError(element: element, reason: "escaped bytes are not UTF-8")
        }
        return mode == .build ? text : nil
    }

    /// Escapes every byte the table does not allow literally, in upper-case hex.
    @inline(__always)
    static func escape(_ text: String, allowed: (UInt8) -> Bool, into output: inout [UInt8]) {
        if text.utf8.allSatisfy(allowed) {
            output.append(contentsOf: text.utf8)
            return
        }
        for byte in text.utf8 {
            if allowed(byte) {
                output.append(byte)
            } else {
                output.append(0x25)
                output.append(hexDigit(byte >> 4))
                output.append(hexDigit(byte & 0x0F))
            }
        }
    }

    @inline(__always)
    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? 0x30 + value : 0x41 + value - 10
    }
}
