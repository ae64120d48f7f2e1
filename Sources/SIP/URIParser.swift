/// Parses SIP, SIPS and TEL URIs (RFC 3261 §25.1, RFC 3966) and keeps other schemes as text.
///
/// In `.check` mode the same grammar is walked and the same errors thrown, but no value is built
/// and the result is nil.
enum URIParser {
    static func parse(_ text: String, element: String) throws(SIPParseError) -> URI {
        try text.withBytes { (bytes) throws(SIPParseError) -> URI in try parse(bytes, element: element)! }
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, element: String, mode: GrammarMode = .build) throws(SIPParseError) -> URI? {
        guard let colon = bytes.firstIndex(of: 0x3A), colon > 0 else {
            throw SIPParseError(element: element, reason: "no URI scheme")
        }
        let scheme = UnsafeBufferPointer(rebasing: bytes[0..<colon])
        guard isScheme(scheme) else { throw SIPParseError(element: element, reason: "bad URI scheme") }
        let rest = UnsafeBufferPointer(rebasing: bytes[(colon + 1)...])
        if scheme.equalsCaseInsensitive("sip") {
            return try parseSIP(rest, isSecure: false, element: element, mode: mode).map { .sip($0) }
        } else if scheme.equalsCaseInsensitive("sips") {
            return try parseSIP(rest, isSecure: true, element: element, mode: mode).map { .sip($0) }
        } else if scheme.equalsCaseInsensitive("tel") {
            return try parseTel(rest, element: element, mode: mode).map { .tel($0) }
        }
        guard !rest.isEmpty, rest.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x3C && $0 != 0x3E && $0 != 0x22 }) else {
            throw SIPParseError(element: element, reason: "bad characters in URI")
        }
        guard mode == .build else { return nil }
        return .absolute(scheme: scheme.text.lowercased(), text: rest.text)
    }

    private static func isScheme(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = bytes.first, Grammar.isAlphanumeric(first), !Grammar.isDigit(first) else { return false }
        return bytes.allSatisfy { Grammar.isAlphanumeric($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E }
    }

    private static func parseSIP(
        _ bytes: UnsafeBufferPointer<UInt8>, isSecure: Bool, element: String, mode: GrammarMode
    ) throws(SIPParseError) -> SIPURI? {
        var user: String?
        var password: String?
        var hostStart = 0
        if let at = bytes.firstIndex(of: 0x40) {
            let userinfo = UnsafeBufferPointer(rebasing: bytes[0..<at])
            let userEnd = userinfo.firstIndex(of: 0x3A) ?? userinfo.count
            let userBytes = UnsafeBufferPointer(rebasing: userinfo[0..<userEnd])
            guard !userBytes.isEmpty else { throw SIPParseError(element: element, reason: "empty user part") }
            guard userBytes.allSatisfy({ Grammar.isUserUnescaped($0) || $0 == 0x25 }) else {
                throw SIPParseError(element: element, reason: "bad characters in user part")
            }
            user = try Escaping.unescape(userBytes, element: element, mode: mode)
            if userEnd < userinfo.count {
                let passwordBytes = UnsafeBufferPointer(rebasing: userinfo[(userEnd + 1)...])
                guard passwordBytes.allSatisfy({ Grammar.isPasswordUnescaped($0) || $0 == 0x25 }) else {
                    throw SIPParseError(element: element, reason: "bad characters in password")
                }
                password = try Escaping.unescape(passwordBytes, element: element, mode: mode)
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
            let parameter = try parseParameter(&cursor, allowed: Grammar.isParameterUnescaped, element: element, mode: mode)
            if let parameter { parameters.append(parameter) }
        }
        var headers: [URIParameter] = []
        if cursor.consume(0x3F) {
            repeat {
                let header = try parseParameter(&cursor, allowed: Grammar.isURIHeaderUnescaped, element: element, mode: mode)
                if let header { headers.append(header) }
            } while cursor.consume(0x26)
        }
        guard cursor.isAtEnd else { throw SIPParseError(element: element, reason: "unexpected characters in URI") }
        guard mode == .build else { return nil }
        return SIPURI(
            isSecure: isSecure, user: user, password: password, host: host.text, port: port,
            parameters: parameters, headers: headers)
    }

    /// host = hostname / IPv4address / IPv6reference; the bytes as written.
    static func parseHost(_ cursor: inout ByteCursor, element: String) throws(SIPParseError) -> UnsafeBufferPointer<UInt8> {
        if cursor.peek == 0x5B {
            let start = cursor.index
            cursor.advance()
            let address = cursor.read { Grammar.isHexDigit($0) || $0 == 0x3A || $0 == 0x2E }
            guard cursor.consume(0x5D), address.count >= 2, address.contains(0x3A) else {
                throw SIPParseError(element: element, reason: "bad IPv6 reference")
            }
            return cursor.slice(start, cursor.index)
        }
        let host = cursor.read { Grammar.isAlphanumeric($0) || $0 == 0x2D || $0 == 0x2E }
        guard let first = host.first, let last = host.last, first != 0x2D, first != 0x2E, last != 0x2D else {
            throw SIPParseError(element: element, reason: "bad host")
        }
        return host
    }

    static func parsePort(_ cursor: inout ByteCursor, element: String) throws(SIPParseError) -> Int {
        guard let port = cursor.read(while: Grammar.isDigit).decimal(limit: 65535) else {
            throw SIPParseError(element: element, reason: "bad port")
        }
        return Int(port)
    }

    private static func parseParameter(
        _ cursor: inout ByteCursor, allowed: (UInt8) -> Bool, element: String, mode: GrammarMode
    ) throws(SIPParseError) -> URIParameter? {
        let name = cursor.read { allowed($0) || $0 == 0x25 }
        guard !name.isEmpty else { throw SIPParseError(element: element, reason: "empty URI parameter") }
        var value: String?
        if cursor.consume(0x3D) {
            value = try Escaping.unescape(cursor.read { allowed($0) || $0 == 0x25 }, element: element, mode: mode)
        }
        let unescapedName = try Escaping.unescape(name, element: element, mode: mode)
        guard mode == .build, let unescapedName else { return nil }
        return URIParameter(unescapedName, value)
    }

    private static func parseTel(_ bytes: UnsafeBufferPointer<UInt8>, element: String, mode: GrammarMode) throws(SIPParseError) -> TelURI? {
        var cursor = ByteCursor(bytes)
        let number = cursor.read { Grammar.isHexDigit($0) || "+-.()*#pPwW".utf8.contains($0) }
        guard !number.isEmpty else { throw SIPParseError(element: element, reason: "empty telephone number") }
        var parameters: [URIParameter] = []
        while cursor.consume(0x3B) {
            let parameter = try parseParameter(&cursor, allowed: Grammar.isParameterUnescaped, element: element, mode: mode)
            if let parameter { parameters.append(parameter) }
        }
        guard cursor.isAtEnd else { throw SIPParseError(element: element, reason: "unexpected characters in TEL URI") }
        guard mode == .build else { return nil }
        return TelURI(number: number.text, parameters: parameters)
    }
}
