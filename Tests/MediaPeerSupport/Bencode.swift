/// A bencode value, as rtpengine's "ng" control protocol carries them: integers, byte strings,
/// lists and dictionaries whose keys are byte strings. Keys are kept as `String` (the protocol's
/// keys are ASCII); a dictionary encodes with its keys sorted by their bytes, as bencode requires.
public indirect enum BencodeValue: Sendable, Hashable {
    case integer(Int)
    case bytes([UInt8])
    case list([BencodeValue])
    case dictionary([String: BencodeValue])

    /// A byte string holding `text` in UTF-8.
    public static func string(_ text: String) -> BencodeValue { .bytes(Array(text.utf8)) }

    /// The byte string decoded as UTF-8, or `nil` if this is not a byte string or not valid UTF-8.
    public var stringValue: String? {
        guard case .bytes(let bytes) = self else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    public var integerValue: Int? {
        guard case .integer(let value) = self else { return nil }
        return value
    }

    public var listValue: [BencodeValue]? {
        guard case .list(let values) = self else { return nil }
        return values
    }

    public var dictionaryValue: [String: BencodeValue]? {
        guard case .dictionary(let values) = self else { return nil }
        return values
    }

    /// The value under `key` when this is a dictionary.
    public subscript(key: String) -> BencodeValue? {
        dictionaryValue?[key]
    }
}

extension BencodeValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(arrayLiteral elements: BencodeValue...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, BencodeValue)...) {
        var dictionary: [String: BencodeValue] = [:]
        for (key, value) in elements { dictionary[key] = value }
        self = .dictionary(dictionary)
    }
}

extension BencodeValue: CustomStringConvertible {
    /// A JSON-like rendering for failure messages; byte strings that are not UTF-8 show as hex.
    public var description: String {
        switch self {
        case .integer(let value): "\(value)"
        case .bytes(let bytes):
            if let text = String(validating: bytes, as: UTF8.self) {
                "\"" + text.map { $0 == "\r\n" ? "\\r\\n" : String($0) }.joined() + "\""
            } else {
                "0x" + bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
            }
        case .list(let values): "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .dictionary(let values):
            "{" + Bencode.sortedKeys(values).map { "\"\($0)\": \(values[$0]!.description)" }.joined(separator: ", ") + "}"
        }
    }
}

/// Why bytes are not a bencode value; `offset` is where the decoder stopped.
public struct BencodeError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        case unexpectedEnd
        case unexpectedByte(UInt8)
        case badInteger
        case leadingZero
        case negativeZero
        case integerOverflow
        case badLength
        case nonStringKey
        case keyNotUTF8
        case keysNotAscending(String)
        case duplicateKey(String)
        case trailingBytes(count: Int)
        case tooDeep
    }

    public let reason: Reason
    public let offset: Int

    public var description: String { "bencode: \(reason) at byte \(offset)" }
}

public enum Bencode {
    /// Nesting deeper than this is refused rather than recursed into.
    public static let maximumDepth = 64

    public static func encode(_ value: BencodeValue) -> [UInt8] {
        var output: [UInt8] = []
        encode(value, into: &output)
        return output
    }

    public static func encode(_ value: BencodeValue, into output: inout [UInt8]) {
        switch value {
        case .integer(let number):
            output.append(UInt8(ascii: "i"))
            output.append(contentsOf: String(number).utf8)
            output.append(UInt8(ascii: "e"))
        case .bytes(let bytes):
            output.append(contentsOf: String(bytes.count).utf8)
            output.append(UInt8(ascii: ":"))
            output.append(contentsOf: bytes)
        case .list(let values):
            output.append(UInt8(ascii: "l"))
            for element in values { encode(element, into: &output) }
            output.append(UInt8(ascii: "e"))
        case .dictionary(let values):
            output.append(UInt8(ascii: "d"))
            for key in sortedKeys(values) {
                encode(.string(key), into: &output)
                encode(values[key]!, into: &output)
            }
            output.append(UInt8(ascii: "e"))
        }
    }

    /// Keys in the order bencode requires: by their raw bytes, not by `String` comparison.
    static func sortedKeys(_ dictionary: [String: BencodeValue]) -> [String] {
        dictionary.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Decodes exactly one value that spans all of `bytes`. Strict: no leading zeros, no `-0`,
    /// dictionary keys byte strings in strictly ascending order, nothing after the value.
    ///
    /// `requireSortedKeys: false` still refuses a repeated key but accepts any key order: rtpengine
    /// 10.5 writes its replies in insertion order (`"sdp"` before `"result"`), against the spec.
    public static func decode(_ bytes: some Collection<UInt8>, requireSortedKeys: Bool = true) throws(BencodeError) -> BencodeValue {
        var decoder = Decoder(bytes: Array(bytes), requireSortedKeys: requireSortedKeys)
        let value = try decoder.value(depth: 0)
        if decoder.offset != decoder.bytes.count {
            throw BencodeError(reason: .trailingBytes(count: decoder.bytes.count - decoder.offset), offset: decoder.offset)
        }
        return value
    }

    private struct Decoder {
        let bytes: [UInt8]
        let requireSortedKeys: Bool
        var offset = 0

        init(bytes: [UInt8], requireSortedKeys: Bool) {
            self.bytes = bytes
            self.requireSortedKeys = requireSortedKeys
        }

        func fail(_ reason: BencodeError.Reason) -> BencodeError { BencodeError(reason: reason, offset: offset) }

        func peek() throws(BencodeError) -> UInt8 {
            guard offset < bytes.count else { throw fail(.unexpectedEnd) }
            return bytes[offset]
        }

        mutating func value(depth: Int) throws(BencodeError) -> BencodeValue {
            guard depth < Bencode.maximumDepth else { throw fail(.tooDeep) }
            let byte = try peek()
            switch byte {
            case UInt8(ascii: "i"):
                offset += 1
                let number = try integer(until: UInt8(ascii: "e"), allowNegative: true)
                return .integer(number)
            case UInt8(ascii: "l"):
                offset += 1
                var values: [BencodeValue] = []
                while try peek() != UInt8(ascii: "e") { values.append(try value(depth: depth + 1)) }
                offset += 1
                return .list(values)
            case UInt8(ascii: "d"):
                offset += 1
                var values: [String: BencodeValue] = [:]
                var previous: [UInt8]?
                while try peek() != UInt8(ascii: "e") {
                    let keyOffset = offset
                    guard case .bytes(let key) = try value(depth: depth + 1) else {
                        throw BencodeError(reason: .nonStringKey, offset: keyOffset)
                    }
                    guard let text = String(validating: key, as: UTF8.self) else {
                        throw BencodeError(reason: .keyNotUTF8, offset: keyOffset)
                    }
                    if requireSortedKeys, let previous, !previous.lexicographicallyPrecedes(key) {
                        throw BencodeError(reason: .keysNotAscending(text), offset: keyOffset)
                    }
                    if values[text] != nil { throw BencodeError(reason: .duplicateKey(text), offset: keyOffset) }
                    previous = key
                    values[text] = try value(depth: depth + 1)
                }
                offset += 1
                return .dictionary(values)
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let length = try integer(until: UInt8(ascii: ":"), allowNegative: false)
                guard length <= bytes.count - offset else { throw fail(.badLength) }
                let string = Array(bytes[offset..<offset + length])
                offset += length
                return .bytes(string)
            default:
                throw fail(.unexpectedByte(byte))
            }
        }

        /// Digits (with an optional leading `-`) up to `terminator`, which is consumed.
        mutating func integer(until terminator: UInt8, allowNegative: Bool) throws(BencodeError) -> Int {
            var negative = false
            if allowNegative, try peek() == UInt8(ascii: "-") {
                negative = true
                offset += 1
            }
            let start = offset
            var magnitude = 0
            while true {
                let byte = try peek()
                if byte == terminator { break }
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                    throw fail(terminator == UInt8(ascii: ":") ? .badLength : .badInteger)
                }
                if offset > start, bytes[start] == UInt8(ascii: "0") { throw BencodeError(reason: .leadingZero, offset: start) }
                let (shifted, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
                let (added, overflow2) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { throw fail(.integerOverflow) }
                magnitude = added
                offset += 1
            }
            guard offset > start else { throw fail(terminator == UInt8(ascii: ":") ? .badLength : .badInteger) }
            if negative, magnitude == 0 { throw BencodeError(reason: .negativeZero, offset: start) }
            offset += 1
            return negative ? -magnitude : magnitude
        }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
