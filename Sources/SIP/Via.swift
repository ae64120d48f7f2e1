/// One Via value (RFC 3261 §20.42, RFC 3581 `rport`).
public struct Via: Hashable, Sendable, CustomStringConvertible {
    /// The transport in upper case: UDP, TCP, TLS, SCTP, WS, WSS or another token.
    public var transport: String
    public var host: String
    public var port: Int?
    public var parameters: [GenericParameter]

    /// The branch prefix of RFC 3261 transactions; a branch without it is from RFC 2543.
    public static let magicCookie = "z9hG4bK"

    public init(transport: String, host: String, port: Int? = nil, parameters: [GenericParameter] = []) {
        self.transport = transport
        self.host = host
        self.port = port
        self.parameters = parameters
    }

    public init(parsing text: String) throws(SIPParseError) {
        self = try text.withBytes { (bytes) throws(SIPParseError) -> Via in
            var cursor = ByteCursor(bytes)
            let via = try Via.parse(&cursor)!
            guard cursor.isAtEnd else { throw SIPParseError(element: "Via", reason: "unexpected characters") }
            return via
        }
    }

    /// The Via values of one header line and how many there are; in `.check` mode the values
    /// are only checked and counted.
    static func parseList(_ bytes: UnsafeBufferPointer<UInt8>, mode: GrammarMode = .build) throws(SIPParseError) -> (vias: [Via], count: Int) {
        var cursor = ByteCursor(bytes)
        var vias: [Via] = []
        var count = 0
        repeat {
            if let via = try parse(&cursor, mode: mode) { vias.append(via) }
            count += 1
        } while cursor.consumeSeparator(0x2C)
        guard cursor.isAtEnd else { throw SIPParseError(element: "Via", reason: "unexpected characters") }
        return (vias, count)
    }

    public var branch: String? {
        get { parameters.value("branch") }
        set { parameters.set("branch", newValue) }
    }

    public var received: String? { parameters.value("received") }

    /// `rport` with a value, or nil when absent or still empty.
    public var rport: Int? { parameters.value("rport").flatMap { Int($0) } }
    public var requestsRport: Bool { parameters.value("rport") != nil }

    public var isRFC3261Branch: Bool { branch?.hasPrefix(Via.magicCookie) ?? false }

    public var description: String {
        var output: [UInt8] = []
        serialize(into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    func serialize(into output: inout [UInt8]) {
        output.append(contentsOf: "SIP/2.0/".utf8)
        output.append(contentsOf: transport.utf8)
        output.append(0x20)
        output.append(contentsOf: host.utf8)
        if let port {
            output.append(0x3A)
            output.append(contentsOf: String(port).utf8)
        }
        parameters.serialize(into: &output)
    }

    /// One Via value; nil in `.check` mode.
    static func parse(_ cursor: inout ByteCursor, mode: GrammarMode = .build) throws(SIPParseError) -> Via? {
        cursor.skipWhitespace()
        let protocolName = cursor.readToken()
        guard protocolName.equalsCaseInsensitive("SIP"), cursor.consumeSeparator(0x2F) else {
            throw SIPParseError(element: "Via", reason: "sent-protocol is not SIP")
        }
        guard cursor.readToken().equalsCaseInsensitive("2.0"), cursor.consumeSeparator(0x2F) else {
            throw SIPParseError(element: "Via", reason: "unsupported SIP version")
        }
        let transport = cursor.readToken()
        guard !transport.isEmpty else { throw SIPParseError(element: "Via", reason: "missing transport") }
        let start = cursor.index
        cursor.skipWhitespace()
        guard cursor.index > start else { throw SIPParseError(element: "Via", reason: "missing space before sent-by") }
        let host = try URIParser.parseHost(&cursor, element: "Via")
        var port: Int?
        if cursor.consumeSeparator(0x3A) {
            port = try URIParser.parsePort(&cursor, element: "Via")
        }
        let parameters = try ParameterParser.parse(&cursor, element: "Via", mode: mode, bareIPv6: "received")
        cursor.skipWhitespace()
        guard mode == .build else { return nil }
        return Via(transport: transport.text.uppercased(), host: host.text, port: port, parameters: parameters)
    }
}
