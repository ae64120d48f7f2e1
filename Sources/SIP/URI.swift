/// A URI as SIP carries it: a SIP or SIPS URI, a TEL URI, or another absolute URI kept as text.
public enum URI: Hashable, Sendable, CustomStringConvertible {
    case sip(SIPURI)
    case tel(TelURI)
    case absolute(scheme: String, text: String)

    public init(parsing text: String) throws(SIPParseError) {
        self = try URIParser.parse(text, element: "URI")
    }

    public var sipURI: SIPURI? {
        if case .sip(let uri) = self { return uri }
        return nil
    }

    public var scheme: String {
        switch self {
        case .sip(let uri): uri.isSecure ? "sips" : "sip"
        case .tel: "tel"
        case .absolute(let scheme, _): scheme
        }
    }

    public var description: String {
        var output: [UInt8] = []
        serialize(into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    func serialize(into output: inout [UInt8]) {
        switch self {
        case .sip(let uri): uri.serialize(into: &output)
        case .tel(let uri): uri.serialize(into: &output)
        case .absolute(let scheme, let text):
            output.append(contentsOf: scheme.utf8)
            output.append(0x3A)
            output.append(contentsOf: text.utf8)
        }
    }
}

/// A `name[=value]` parameter of a URI, with escapes resolved.
public struct URIParameter: Hashable, Sendable {
    public var name: String
    public var value: String?

    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }
}

/// A SIP or SIPS URI (RFC 3261 §19.1). User, password, parameters and headers hold
/// unescaped text; serialization escapes only what the grammar requires.
public struct SIPURI: Hashable, Sendable, CustomStringConvertible {
    public var isSecure: Bool
    public var user: String?
    public var password: String?
    /// A host name, an IPv4 address, or an IPv6 reference with its brackets.
    public var host: String
    public var port: Int?
    public var parameters: [URIParameter]
    public var headers: [URIParameter]

    public init(
        isSecure: Bool = false, user: String? = nil, password: String? = nil, host: String, port: Int? = nil,
        parameters: [URIParameter] = [], headers: [URIParameter] = []
    ) {
        self.isSecure = isSecure
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.parameters = parameters
        self.headers = headers
    }

    public init(parsing text: String) throws(SIPParseError) {
        guard case .sip(let uri) = try URIParser.parse(text, element: "URI") else {
            throw SIPParseError(element: "URI", reason: "not a sip or sips URI")
        }
        self = uri
    }

    /// The value of a URI parameter, matched case-insensitively; `""` for a parameter without value.
    public func parameter(_ name: String) -> String? {
        parameters.first { Grammar.equalIgnoringCase($0.name, name) }.map { $0.value ?? "" }
    }

    public mutating func setParameter(_ name: String, _ value: String?) {
        if let index = parameters.firstIndex(where: { Grammar.equalIgnoringCase($0.name, name) }) {
            parameters[index].value = value
        } else {
            parameters.append(URIParameter(name, value))
        }
    }

    public var transportParameter: String? { parameter("transport")?.lowercased() }

    /// The address-of-record form: scheme, user and host, without port, parameters or headers
    /// (RFC 3261 §10.3 step 5), in lower case except for the user.
    public var addressOfRecord: String {
        (isSecure ? "sips:" : "sip:") + (user.map { $0 + "@" } ?? "") + host.lowercased()
    }

    public var description: String {
        var output: [UInt8] = []
        serialize(into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    func serialize(into output: inout [UInt8]) {
        output.append(contentsOf: (isSecure ? "sips:" : "sip:").utf8)
        if let user {
            Escaping.escape(user, allowed: Grammar.isUserUnescaped, into: &output)
            if let password {
                output.append(0x3A)
                Escaping.escape(password, allowed: Grammar.isPasswordUnescaped, into: &output)
            }
            output.append(0x40)
        }
        output.append(contentsOf: host.utf8)
        if let port {
            output.append(0x3A)
            output.append(contentsOf: String(port).utf8)
        }
        for parameter in parameters {
            output.append(0x3B)
            Escaping.escape(parameter.name, allowed: Grammar.isParameterUnescaped, into: &output)
            if let value = parameter.value {
                output.append(0x3D)
                Escaping.escape(value, allowed: Grammar.isParameterUnescaped, into: &output)
            }
        }
        for (index, header) in headers.enumerated() {
            output.append(index == 0 ? 0x3F : 0x26)
            Escaping.escape(header.name, allowed: Grammar.isURIHeaderUnescaped, into: &output)
            output.append(0x3D)
            Escaping.escape(header.value ?? "", allowed: Grammar.isURIHeaderUnescaped, into: &output)
        }
    }
}

/// A TEL URI (RFC 3966): a global or local number with its parameters.
public struct TelURI: Hashable, Sendable {
    public var number: String
    public var parameters: [URIParameter]

    public init(number: String, parameters: [URIParameter] = []) {
        self.number = number
        self.parameters = parameters
    }

    func serialize(into output: inout [UInt8]) {
        output.append(contentsOf: "tel:".utf8)
        output.append(contentsOf: number.utf8)
        for parameter in parameters {
            output.append(0x3B)
            Escaping.escape(parameter.name, allowed: Grammar.isParameterUnescaped, into: &output)
            if let value = parameter.value {
                output.append(0x3D)
                Escaping.escape(value, allowed: Grammar.isParameterUnescaped, into: &output)
            }
        }
    }
}
