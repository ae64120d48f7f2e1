// Small byte-level helpers shared by the parsers. SDP is ASCII-structured, so every split
// happens on an ASCII byte and never cuts a UTF-8 sequence in two.

typealias Bytes = ArraySlice<UInt8>

enum ASCII {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let slash: UInt8 = 0x2F
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let minus: UInt8 = 0x2D
    static let comma: UInt8 = 0x2C
    static let pipe: UInt8 = 0x7C
    static let caret: UInt8 = 0x5E
}

@inline(__always)
func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

@inline(__always)
func isWhitespace(_ byte: UInt8) -> Bool { byte == ASCII.space || byte == ASCII.tab }

/// RFC 8866 `token-char`.
@inline(__always)
func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case 0x21, 0x23...0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x30...0x39, 0x41...0x5A, 0x5E...0x7E: true
    default: false
    }
}

func isToken(_ bytes: Bytes) -> Bool {
    !bytes.isEmpty && bytes.allSatisfy(isTokenByte)
}

/// Splits on runs of spaces and tabs: peers that pad fields with extra blanks still parse,
/// and the canonical form written back has single spaces.
func splitFields(_ bytes: Bytes) -> [Bytes] {
    bytes.split(omittingEmptySubsequences: true, whereSeparator: isWhitespace)
}

func split(_ bytes: Bytes, on separator: UInt8, maxSplits: Int = .max) -> [Bytes] {
    bytes.split(separator: separator, maxSplits: maxSplits, omittingEmptySubsequences: false)
}

func trimmingTrailingWhitespace(_ bytes: Bytes) -> Bytes {
    var end = bytes.endIndex
    while end > bytes.startIndex, isWhitespace(bytes[end - 1]) { end -= 1 }
    return bytes[bytes.startIndex..<end]
}

enum DecimalParse: Equatable {
    case value(UInt64)
    case notANumber
    case tooLarge
}

/// Digits only: no sign, no blanks, at least one digit.
func parseDecimal(_ bytes: Bytes) -> DecimalParse {
    guard !bytes.isEmpty else { return .notANumber }
    var value: UInt64 = 0
    var overflow = false
    for byte in bytes {
        guard isDigit(byte) else { return .notANumber }
        if overflow { continue }
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
        if o1 || o2 { overflow = true } else { value = sum }
    }
    return overflow ? .tooLarge : .value(value)
}

func string(_ bytes: Bytes) -> String {
    String(decoding: bytes, as: UTF8.self)
}

/// Quotes peer-supplied text for an error message: bounded in length so a hostile input cannot
/// inflate a log line or a Warning header, control characters escaped.
func quoted(_ bytes: Bytes, limit: Int = 40) -> String {
    var text = "'"
    for scalar in String(decoding: bytes.prefix(limit), as: UTF8.self).unicodeScalars {
        if scalar.value < 0x20 || scalar.value == 0x7F {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            text += "\\x" + (hex.count == 1 ? "0" + hex : hex)
        } else {
            text.unicodeScalars.append(scalar)
        }
    }
    return text + (bytes.count > limit ? "…'" : "'")
}

func quoted(_ text: String, limit: Int = 40) -> String {
    quoted(Bytes(text.utf8), limit: limit)
}

/// Peer-supplied names as they are when short, quoted and cut when not.
func bounded(_ text: String) -> String {
    text.utf8.count <= 40 ? text : quoted(text)
}
