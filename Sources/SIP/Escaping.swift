/// Percent-escaping for URI components (RFC 3261 §19.1.2, RFC 3986 §2.1).
enum Escaping {
    /// Resolves `%HH` escapes; the result may hold any byte, including NUL.
    static func unescape(_ bytes: UnsafeBufferPointer<UInt8>, element: String) throws(SIPParseError) -> String {
        guard bytes.contains(0x25) else {
            guard let text = String(validatingUTF8Bytes: bytes) else {
                throw SIPParseError(element: element, reason: "not UTF-8")
            }
            return text
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
        return text
    }

    /// Escapes every byte the table does not allow literally, in upper-case hex.
    static func escape(_ text: String, allowed: [Bool], into output: inout [UInt8]) {
        for byte in text.utf8 {
            if allowed[Int(byte)] {
                output.append(byte)
            } else {
                output.append(0x25)
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
}
