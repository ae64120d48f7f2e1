/// `name-addr` or `addr-spec` with header parameters: the value of From, To, Contact, Route,
/// Record-Route, Path, Service-Route, Reply-To, Refer-To and the like.
public struct NameAddress: Hashable, Sendable, CustomStringConvertible {
    public var displayName: String?
    public var uri: URI
    public var parameters: [GenericParameter]

    public init(displayName: String? = nil, uri: URI, parameters: [GenericParameter] = []) {
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
    }

    public init(parsing text: String, element: String = "address") throws(SIPParseError) {
        self = try text.withBytes { (bytes) throws(SIPParseError) -> NameAddress in
            try NameAddress.parseSingle(bytes, element: element)!
        }
    }

    public var tag: String? {
        get { parameters.value("tag") }
        set { parameters.set("tag", newValue) }
    }

    public var description: String {
        var output: [UInt8] = []
        serialize(into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    func serialize(into output: inout [UInt8]) {
        if let displayName {
            output.append(0x22)
            for byte in displayName.utf8 {
                if byte == 0x22 || byte == 0x5C { output.append(0x5C) }
                output.append(byte)
            }
            output.append(0x22)
            output.append(0x20)
        }
        output.append(0x3C)
        uri.serialize(into: &output)
        output.append(0x3E)
        parameters.serialize(into: &output)
    }

    /// One address; nil in `.check` mode.
    static func parse(_ cursor: inout ByteCursor, element: String, mode: GrammarMode = .build) throws(SIPParseError) -> NameAddress? {
        cursor.skipWhitespace()
        var displayName: String?
        if cursor.peek == 0x22 {
            displayName = try cursor.readQuotedString(element: element, mode: mode)
            cursor.skipWhitespace()
            guard cursor.peek == 0x3C else { throw SIPParseError(element: element, reason: "display name without <URI>") }
        } else if cursor.peek != 0x3C {
            // Either a token display name before `<`, or an addr-spec that ends at `;` or the end.
            let start = cursor.index
            while cursor.peek.map({ $0 != 0x3C }) ?? false {
                cursor.advance()
            }
            if cursor.peek == 0x3C {
                var words = cursor.slice(start, cursor.index)
                while let last = words.last, Grammar.isWhitespace(last) { words = UnsafeBufferPointer(rebasing: words.dropLast()) }
                guard words.allSatisfy({ Grammar.isToken($0) || Grammar.isWhitespace($0) }) else {
                    throw SIPParseError(element: element, reason: "display name must be a token or a quoted string")
                }
                displayName = words.isEmpty || mode == .check ? nil : words.text
            } else {
                cursor.index = start
                return try parseAddrSpec(&cursor, element: element, mode: mode)
            }
        }
        guard cursor.consume(0x3C) else { throw SIPParseError(element: element, reason: "expected <") }
        let uriStart = cursor.index
        while let byte = cursor.peek, byte != 0x3E {
            guard byte > 0x20 else { throw SIPParseError(element: element, reason: "white space inside <URI>") }
            cursor.advance()
        }
        let uriBytes = cursor.slice(uriStart, cursor.index)
        guard cursor.consume(0x3E) else { throw SIPParseError(element: element, reason: "missing >") }
        let uri = try URIParser.parse(uriBytes, element: element, mode: mode)
        let parameters = try ParameterParser.parse(&cursor, element: element, mode: mode)
        cursor.skipWhitespace()
        guard mode == .build, let uri else { return nil }
        return NameAddress(displayName: displayName, uri: uri, parameters: parameters)
    }

    /// An addr-spec: the URI ends at the first `;` because its parameters belong to the header,
    /// and at `,` which separates list values (RFC 3261 §20: a URI with `;`, `,` or `?` must be
    /// enclosed in `<>`).
    private static func parseAddrSpec(_ cursor: inout ByteCursor, element: String, mode: GrammarMode) throws(SIPParseError) -> NameAddress? {
        let start = cursor.index
        while let byte = cursor.peek, byte != 0x3B, byte != 0x2C, !Grammar.isWhitespace(byte) {
            guard byte != 0x3F, byte > 0x20 else {
                throw SIPParseError(element: element, reason: "URI with '?' must be enclosed in <>")
            }
            cursor.advance()
        }
        let uriBytes = cursor.slice(start, cursor.index)
        guard !uriBytes.isEmpty else { throw SIPParseError(element: element, reason: "missing URI") }
        let uri = try URIParser.parse(uriBytes, element: element, mode: mode)
        let parameters = try ParameterParser.parse(&cursor, element: element, mode: mode)
        cursor.skipWhitespace()
        guard mode == .build, let uri else { return nil }
        return NameAddress(uri: uri, parameters: parameters)
    }
}

extension NameAddress {
    /// One value of a single-valued header (From, To): a comma after it means a second value.
    static func parseSingle(_ bytes: UnsafeBufferPointer<UInt8>, element: String, mode: GrammarMode = .build) throws(SIPParseError) -> NameAddress? {
        var cursor = ByteCursor(bytes)
        let address = try parse(&cursor, element: element, mode: mode)
        if cursor.peek == 0x2C { throw SIPParseError(element: element, reason: "more than one value") }
        guard cursor.isAtEnd else { throw SIPParseError(element: element, reason: "unexpected characters after address") }
        return address
    }

    /// The comma-separated addresses of a list header line (Contact, Route, Record-Route, Path);
    /// in `.check` mode they are only checked, and the result is empty.
    static func parseList(_ bytes: UnsafeBufferPointer<UInt8>, element: String, mode: GrammarMode = .build) throws(SIPParseError) -> [NameAddress] {
        var cursor = ByteCursor(bytes)
        var addresses: [NameAddress] = []
        repeat {
            if let address = try parse(&cursor, element: element, mode: mode) { addresses.append(address) }
        } while cursor.consumeSeparator(0x2C)
        guard cursor.isAtEnd else { throw SIPParseError(element: element, reason: "unexpected characters after address") }
        return addresses
    }
}

/// A Contact value: an address, or `*` in a REGISTER that removes every binding.
public enum ContactValue: Hashable, Sendable {
    case wildcard
    case address(NameAddress)
}
