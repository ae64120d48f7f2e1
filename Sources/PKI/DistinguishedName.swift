/// The subject or issuer name of a certificate Outpost issues: a common name and, optionally,
/// the organisation attributes. Names read from certificates are reported as RFC 2253 text.
public struct DistinguishedName: Sendable, Hashable, CustomStringConvertible {
    public var commonName: String
    public var organization: String?
    public var organizationalUnit: String?
    /// Two-letter ISO 3166 country code.
    public var country: String?

    public init(commonName: String, organization: String? = nil, organizationalUnit: String? = nil, country: String? = nil) {
        self.commonName = commonName
        self.organization = organization
        self.organizationalUnit = organizationalUnit
        self.country = country
    }

    /// RFC 2253 order and syntax (`CN=…,OU=…,O=…,C=…`), escaping as the RFC asks.
    public var description: String {
        var parts = ["CN=\(Self.escape(commonName))"]
        if let organizationalUnit { parts.append("OU=\(Self.escape(organizationalUnit))") }
        if let organization { parts.append("O=\(Self.escape(organization))") }
        if let country { parts.append("C=\(Self.escape(country))") }
        return parts.joined(separator: ",")
    }

    private static func escape(_ value: String) -> String {
        var result = ""
        for (offset, character) in value.enumerated() {
            if ",+\"\\<>;".contains(character) || (offset == 0 && (character == "#" || character == " ")) {
                result.append("\\")
            }
            result.append(character)
        }
        if result.hasSuffix(" ") { result.insert("\\", at: result.index(before: result.endIndex)) }
        return result
    }
}
