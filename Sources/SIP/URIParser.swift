/// Parses SIP, SIPS and TEL URIs (RFC 3261 §25.1, RFC 3966) and keeps other schemes as text.
enum URIParser {
    static func parse(_ text: String, element: String) throws(SIPParseError) -> URI {
        try text.withBytes { (bytes) throws(SIPParseError) -> URI in try parse(bytes, element: element) }
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, element: String) throws(SIPParseError) -> URI {
        guard let colon = bytes.firstIndex(of: 0x3A), colon > 0 else {
            throw SIPParseError(element: element, reason: "no URI scheme")
        }
        let scheme = UnsafeBufferPointer(rebasing: bytes[0..<colon])
        guard isScheme(scheme) else { throw SIPParseError(element: element, reason: "bad URI scheme") }
        let rest = UnsafeBufferPointer(rebasing: bytes[(colon + 1)...])
        if scheme.equalsCaseInsensitive("sip") {
            return .sip(try parseSIP(rest, isSecure: false, element: element))
        } else if scheme.equalsCaseInsensitive("sips") {
            return .sip(try parseSIP(rest, isSecure: true, element: element))
        } else if scheme.equalsCaseInsensitive("tel") {
            return .tel(try parseTel(rest, element: element))
        }
        guard !rest.isEmpty, rest.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x3C && $0 != 0x3E && $0 != 0x22 }) else {
            throw SIPParseError(element: element, reason: "bad characters in URI")
        }
        return .absolute(scheme: scheme.text.lowercased(), text: rest.text)
    }

    private static func isScheme(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = bytes.first, Grammar.isAlphanumeric(first), !Grammar.isDigit(first) else { return false }
        return bytes.allSatisfy { Grammar.isAlphanumeric($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E }
    }

    private static func parseSIP(_ bytes: UnsafeBufferPointer<UInt8>, isSecure: Bool, element: String) throws(SIPParseError) -> SIPURI {
        var user: String?
        var password: String?
        var hostStart = 0
        if let at = bytes.firstIndex(of: 0x40) {
            let userinfo = UnsafeBufferPointer(rebasing: bytes[0..<at])
            let userEnd = userinfo.firstIndex(of: 0x3A) ?? userinfo.count
            let userBytes = UnsafeBufferPointer(rebasing: userinfo[0..<userEnd])
            guard !userBytes.isEmpty else { throw SIPParseError(element: element, reason: "empty user part") }
            guard userBytes.allSatisfy({ Grammar.userUnescaped[Int($0)] || $0 == 0x25 }) else {
                throw SIPParseError(element: element, reason: "bad characters in user part")
            }
            user = try Escaping.unescape(userBytes, element: element)
            if userEnd < userinfo.count {
                let passwordBytes = UnsafeBufferPointer(rebasing: userinfo[(userEnd + 1)...])
                guard passwordBytes.allSatisfy({ Grammar.passwordUnescaped[Int($0)] || $0 == 0x25 }) else {
                    throw SIPParseError(element: element, reason: "bad characters in password")
                }
                password = try Escaping.unescape(passwordBytes, element: element)
            }
            hostStart = at + 1
        }
        var cursor = ByteCursor(UnsafeBufferPointer(rebasing: bytes[hostStart...]))
        let host = try parseHost(&cursor, element: element)
        var port: Int?
        if cursor.consume(0x3A) {
            port = try parsePort(&cursor, element: element)
        }
        var parameters: [URIParameter] = []
        while cursor.consume(0x3B) {
            parameters.append(try parseParameter(&cursor, allowed: Grammar.parameterUnescaped, element: element))
        }
        var headers: [URIParameter] = []
        if cursor.consume(0x3F) {
            repeat {
                headers.append(try parseParameter(&cursor, allowed: Grammar.uriHeaderUnescaped, element: element))
            } while cursor.consume(0x26)
        }
        guard cursor.isAtEnd else { throw SIPParseError(element: element, reason: "unexpected characters in URI") }
        return SIPURI(
            isSecure: isSecure, user: user, password: password, host: host, port: port,
            parameters: parameters, headers: headers)
    }

    /// host = hostname / IPv4address / IPv6reference; kept as written.
    static func parseHost(_ cursor: inout ByteCursor, element: String) throws(SIPParseError) -> String {
        if cursor.peek == 0x5B {
            let start = cursor.index
            cursor.advance()
            let address = cursor.read { Grammar.hexValue($0) != nil || $0 == 0x3A || $0 == 0x2E }
            guard cursor.consume(0x5D), address.count >= 2, address.contains(0x3A) else {
                throw SIPParseError(element: element, reason: "bad IPv6 reference")
            }
            return cursor.slice(start, cursor.index).text
        }
        let host = cursor.read { Grammar.isAlphanumeric($0) || $0 == 0x2D || $0 == 0x2E }
        guard let first = host.first, let last = host.last, first != 0x2D, first != 0x2E, last != 0x2D else {
            throw SIPParseError(element: element, reason: "bad host")
        }
        return host.text
    }

    static func parsePort(_ cursor: inout ByteCursor, element: String) throws(SIPParseError) -> Int {
        guard let port = cursor.read(while: Grammar.isDigit).decimal(limit: 65535) else {
            throw SIPParseError(element: element, reason: "bad port")
        }
        return Int(port)
    }

    private static func parseParameter(
        _ cursor: inout ByteCursor, allowed: [Bool], element: String
    ) throws(SIPParseError) -> URIParameter {
        let isParameterByte = { (byte: UInt8) in allowed[Int(byte)] || byte == 0x25 }
        let name = cursor.read(while: isParameterByte)
        guard !name.isEmpty else { throw SIPParseError(element: element, reason: "empty URI parameter") }
        var value: String?
        if cursor.consume(0x3D) {
            value = try Escaping.unescape(cursor.read(while: isParameterByte), element: element)
        }
        return URIParameter(try Escaping.unescape(name, element: element), value)
    }

    private static func parseTel(_ bytes: UnsafeBufferPointer<UInt8>, element: String) throws(SIPParseError) -> TelURI {
        var cursor = ByteCursor(bytes)
        let number = cursor.read { Grammar.hexValue($0) != nil || "+-.()*#pPwW".utf8.contains($0) }
        guard !number.isEmpty else { throw SIPParseError(element: element, reason: "empty telephone number") }
        var parameters: [URIParameter] = []
        while cursor.consume(0x3B) {
            parameters.append(try parseParameter(&cursor, allowed: Grammar.parameterUnescaped, element: element))
        }
        guard cursor.isAtEnd else { throw SIPParseError(element: element, reason: "unexpected characters in TEL URI") }
        return TelURI(number: number.text, parameters: parameters)
    }
}
