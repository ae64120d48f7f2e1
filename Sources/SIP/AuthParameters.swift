/// One `auth-param` of a challenge or credentials (RFC 7235 §2.1, RFC 3261 §25.1): the value is
/// kept unescaped, with whether it was written as a quoted string.
public struct AuthParameter: Hashable, Sendable {
    public var name: String
    public var value: String
    public var isQuoted: Bool

    public init(_ name: String, _ value: String, quoted: Bool = true) {
        self.name = name
        self.value = value
        self.isQuoted = quoted
    }
}

/// Limits on what a `WWW-Authenticate`, `Proxy-Authenticate`, `Authorization` or
/// `Proxy-Authorization` value may hold before it is refused.
public enum DigestLimits {
    /// The longest header value accepted, in bytes.
    public static let maximumValueLength = 8192
    /// The most auth-params accepted in one value.
    public static let maximumParameterCount = 32
}

enum AuthHeaderParser {
    /// At most 40 characters of peer-supplied text, for an error reason.
    static func printable(_ text: String) -> String {
        String(text.prefix(40))
    }

    /// The authentication scheme that begins a header value, or nil when it has none.
    static func scheme(of value: String) -> String? {
        let scheme = value.drop { $0 == " " || $0 == "\t" }.prefix { $0.isASCII && $0.utf8.allSatisfy(Grammar.isToken) }
        return scheme.isEmpty ? nil : String(scheme)
    }

    /// Parses `Digest LWS auth-param *(COMMA auth-param)`, refusing other schemes, duplicate
    /// parameters (names compared case-insensitively) and anything past the limits.
    static func parseDigest(_ value: String, element: String) throws(SIPParseError) -> [AuthParameter] {
        guard value.utf8.count <= DigestLimits.maximumValueLength else {
            throw SIPParseError(
                element: element,
                reason: "value is \(value.utf8.count) bytes, more than \(DigestLimits.maximumValueLength)")
        }
        return try value.withBytes { (bytes) throws(SIPParseError) -> [AuthParameter] in
            var cursor = ByteCursor(bytes)
            cursor.skipWhitespace()
            let scheme = cursor.readToken()
            guard !scheme.isEmpty else {
                throw SIPParseError(element: element, reason: "expected an authentication scheme")
            }
            guard scheme.equalsCaseInsensitive("Digest") else {
                throw SIPParseError(element: element, reason: "scheme \(AuthHeaderParser.printable(scheme.text)) is not Digest")
            }
            guard let separator = cursor.peek, Grammar.isWhitespace(separator) else {
                throw SIPParseError(
                    element: element,
                    reason: cursor.isAtEnd ? "no parameters after Digest" : "expected white space after Digest")
            }
            cursor.skipWhitespace()
            var parameters: [AuthParameter] = []
            var seen: Set<String> = []
            while true {
                // Empty list elements (`a=b, , c=d`) are allowed by the #rule.
                while cursor.consume(0x2C) { cursor.skipWhitespace() }
                if cursor.isAtEnd { break }
                let nameBytes = cursor.readToken()
                guard !nameBytes.isEmpty else {
                    throw SIPParseError(element: element, reason: "expected a parameter name at byte \(cursor.index)")
                }
                let name = nameBytes.text
                guard cursor.consumeSeparator(0x3D) else {
                    throw SIPParseError(element: element, reason: "expected '=' after \(AuthHeaderParser.printable(name))")
                }
                let parameter: AuthParameter
                if cursor.peek == 0x22 {
                    let text = try cursor.readQuotedString(element: element) ?? ""
                    parameter = AuthParameter(name, text, quoted: true)
                } else {
                    let token = cursor.readToken()
                    guard !token.isEmpty else {
                        throw SIPParseError(element: element, reason: "missing value for \(AuthHeaderParser.printable(name))")
                    }
                    parameter = AuthParameter(name, token.text, quoted: false)
                }
                guard seen.insert(name.lowercased()).inserted else {
                    throw SIPParseError(element: element, reason: "duplicate parameter \(AuthHeaderParser.printable(name))")
                }
                guard parameters.count < DigestLimits.maximumParameterCount else {
                    throw SIPParseError(
                        element: element, reason: "more than \(DigestLimits.maximumParameterCount) parameters")
                }
                parameters.append(parameter)
                cursor.skipWhitespace()
                if cursor.isAtEnd { break }
                guard cursor.consume(0x2C) else {
                    throw SIPParseError(element: element, reason: "expected ',' after \(AuthHeaderParser.printable(name))")
                }
                cursor.skipWhitespace()
            }
            guard !parameters.isEmpty else {
                throw SIPParseError(element: element, reason: "no parameters after Digest")
            }
            return parameters
        }
    }

    /// Writes a quoted-string. CR and LF cannot appear in one, even escaped, so a value built in
    /// code that holds them gets a space instead: serialization never splits a header line.
    static func appendQuoted(_ text: String, into output: inout String) {
        output.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"", "\\":
                output.append("\\")
                output.unicodeScalars.append(scalar)
            case "\r", "\n":
                output.append(" ")
            default:
                output.unicodeScalars.append(scalar)
            }
        }
        output.append("\"")
    }

    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(Grammar.isToken)
    }

    static func append(_ parameter: AuthParameter, into output: inout String) {
        output.append(", ")
        output.append(parameter.name)
        output.append("=")
        if parameter.isQuoted || !isToken(parameter.value) {
            appendQuoted(parameter.value, into: &output)
        } else {
            output.append(parameter.value)
        }
    }
}

/// Reads the parameters one at a time, removing the known ones so the rest are extensions.
struct AuthParameterTable {
    var remaining: [AuthParameter]
    let element: String

    mutating func take(_ name: String) -> String? {
        guard let index = remaining.firstIndex(where: { $0.name.lowercased() == name }) else { return nil }
        return remaining.remove(at: index).value
    }

    mutating func require(_ name: String) throws(SIPParseError) -> String {
        guard let value = take(name) else {
            throw SIPParseError(element: element, reason: "missing \(name)")
        }
        return value
    }
}
