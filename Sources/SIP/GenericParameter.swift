/// A `;name[=value]` parameter of a header (RFC 3261 `generic-param`). The value is kept as
/// written: a token, a host, or a quoted string with its quotes.
public struct GenericParameter: Hashable, Sendable {
    public var name: String
    public var value: String?

    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }
}

extension [GenericParameter] {
    /// The value of the named parameter (case-insensitive); `""` when present without a value.
    public func value(_ name: String) -> String? {
        first { Grammar.equalIgnoringCase($0.name, name) }.map { $0.value ?? "" }
    }

    public mutating func set(_ name: String, _ value: String?) {
        if let index = firstIndex(where: { Grammar.equalIgnoringCase($0.name, name) }) {
            self[index].value = value
        } else {
            append(GenericParameter(name, value))
        }
    }

    func serialize(into output: inout [UInt8]) {
        for parameter in self {
            output.append(0x3B)
            output.append(contentsOf: parameter.name.utf8)
            if let value = parameter.value {
                output.append(0x3D)
                output.append(contentsOf: value.utf8)
            }
        }
    }
}

enum ParameterParser {
    /// Parses `*( SEMI generic-param )` up to the end of the cursor or a byte it does not own.
    /// In `.check` mode the parameters are only checked, and the result is empty.
    /// `bareIPv6` names the parameter whose grammar is an address (RFC 3261 `via-received` =
    /// IPv4address / IPv6address): its value may be an IPv6 address without brackets (RFC 5118
    /// §4.5), where a generic value would end at the first colon.
    static func parse(
        _ cursor: inout ByteCursor, element: String, mode: GrammarMode = .build, bareIPv6: StaticString? = nil
    ) throws(SIPParseError) -> [GenericParameter] {
        var parameters: [GenericParameter] = []
        var count = 0
        while cursor.consumeSeparator(0x3B) {
            let name = cursor.readToken()
            guard !name.isEmpty else { throw SIPParseError(element: element, reason: "empty parameter name") }
            var value: UnsafeBufferPointer<UInt8>?
            if cursor.consumeSeparator(0x3D) {
                if let bareIPv6, name.equalsCaseInsensitive(bareIPv6),
                    let address = try parseBareAddress(&cursor, element: element)
                {
                    value = address
                } else {
                    value = try parseValue(&cursor, element: element)
                }
            }
            if mode == .build { parameters.append(GenericParameter(name.text, value?.text)) }
            count += 1
            if count > 64 { throw SIPParseError(element: element, reason: "too many parameters") }
        }
        return parameters
    }

    /// An unbracketed IPv6 address (hex digits, colons and dots, with at least two colons), or nil
    /// when the value is not one (it is then read as a generic value).
    private static func parseBareAddress(_ cursor: inout ByteCursor, element: String) throws(SIPParseError) -> UnsafeBufferPointer<UInt8>? {
        let start = cursor.index
        let address = cursor.read { Grammar.isHexDigit($0) || $0 == 0x3A || $0 == 0x2E }
        guard address.contains(0x3A) else {
            cursor.index = start
            return nil
        }
        guard address.count(where: { $0 == 0x3A }) >= 2 else {
            throw SIPParseError(element: element, reason: "bad IPv6 address in parameter")
        }
        return address
    }

    /// gen-value = token / host / quoted-string; the bytes as written, checked to be UTF-8.
    private static func parseValue(_ cursor: inout ByteCursor, element: String) throws(SIPParseError) -> UnsafeBufferPointer<UInt8> {
        if cursor.peek == 0x22 {
            let start = cursor.index
            guard cursor.skipQuotedString() else {
                throw SIPParseError(element: element, reason: "unterminated quoted string")
            }
            let value = cursor.slice(start, cursor.index)
            guard Grammar.isUTF8(value) else {
                throw SIPParseError(element: element, reason: "parameter is not UTF-8")
            }
            return value
        }
        if cursor.peek == 0x5B {
            return try URIParser.parseHost(&cursor, element: element)
        }
        let value = cursor.readToken()
        guard !value.isEmpty else { throw SIPParseError(element: element, reason: "empty parameter value") }
        return value
    }
}
