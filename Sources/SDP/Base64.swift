/// RFC 4648 §4 base64 for SDES key material, written here so the pure layer needs neither
/// Foundation nor C. Decoding is strict about the alphabet and padding placement but accepts
/// unpadded input, which some SIP stacks send; encoding always pads.
enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity((input.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= input.count {
            let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
            output.append(alphabet[Int(chunk >> 18 & 0x3F)])
            output.append(alphabet[Int(chunk >> 12 & 0x3F)])
            output.append(alphabet[Int(chunk >> 6 & 0x3F)])
            output.append(alphabet[Int(chunk & 0x3F)])
            index += 3
        }
        switch input.count - index {
        case 1:
            let chunk = UInt32(input[index]) << 16
            output.append(alphabet[Int(chunk >> 18 & 0x3F)])
            output.append(alphabet[Int(chunk >> 12 & 0x3F)])
            output.append(UInt8(ascii: "="))
            output.append(UInt8(ascii: "="))
        case 2:
            let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
            output.append(alphabet[Int(chunk >> 18 & 0x3F)])
            output.append(alphabet[Int(chunk >> 12 & 0x3F)])
            output.append(alphabet[Int(chunk >> 6 & 0x3F)])
            output.append(UInt8(ascii: "="))
        default:
            break
        }
        return String(decoding: output, as: UTF8.self)
    }

    struct DecodingError: Error, Equatable {
        var reason: String
    }

    static func decode(_ text: some Collection<UInt8>) throws(DecodingError) -> [UInt8] {
        let input = Array(text)
        guard !input.isEmpty else { throw DecodingError(reason: "is empty") }
        var dataEnd = input.count
        while dataEnd > 0, input[dataEnd - 1] == UInt8(ascii: "=") { dataEnd -= 1 }
        let padding = input.count - dataEnd
        if padding > 0 {
            guard padding <= 2, input.count % 4 == 0 else {
                throw DecodingError(reason: "has misplaced '=' padding")
            }
        }
        guard dataEnd % 4 != 1 else {
            throw DecodingError(reason: "has a length of \(dataEnd) characters, which no byte string encodes to")
        }

        var output: [UInt8] = []
        output.reserveCapacity(dataEnd * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for offset in 0..<dataEnd {
            let byte = input[offset]
            let sextet = decodeTable[Int(byte)]
            guard sextet != 0xFF else {
                let shown =
                    byte >= 0x80
                    ? "byte 0x" + String(byte, radix: 16, uppercase: true) : quoted(Bytes([byte]))
                throw DecodingError(reason: "has an invalid character \(shown) at offset \(offset)")
            }
            accumulator = accumulator << 6 | UInt32(sextet)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
            accumulator &= (1 << UInt32(bits)) - 1
        }
        return output
    }
}
