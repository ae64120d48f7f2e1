/// One entry of a certificate's subjectAltName extension.
public enum SubjectAlternativeName: Sendable, Hashable, CustomStringConvertible {
    case dns(String)
    /// Text form: dotted quad, or RFC 5952 IPv6 text (`2001:db8::1`).
    case ipAddress(String)
    case uri(String)
    case email(String)
    /// A name of another type (directoryName, otherName, …), by its GENERAL_NAME type number.
    case other(type: Int)

    /// OpenSSL's spelling (`DNS:edge.example`, `IP Address:10.0.0.1`, `URI:…`, `email:…`).
    public var description: String {
        switch self {
        case .dns(let name): "DNS:\(name)"
        case .ipAddress(let address): "IP Address:\(address)"
        case .uri(let uri): "URI:\(uri)"
        case .email(let address): "email:\(address)"
        case .other(let type): "othername(type \(type))"
        }
    }

    /// Refuses text that cannot be an IA5String name of this kind (Outpost never issues a name
    /// OpenSSL would have to mangle).
    func validate(operation: String) throws(PKIError) {
        let text: String
        let kind: String
        switch self {
        case .dns(let value): (text, kind) = (value, "DNS name")
        case .uri(let value): (text, kind) = (value, "URI")
        case .email(let value): (text, kind) = (value, "e-mail address")
        case .ipAddress, .other: return
        }
        guard !text.isEmpty, text.utf8.count <= 255, text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .refused(.invalidInput, operation: operation, reason: "'\(text)' is not a valid \(kind) (printable ASCII without spaces)")
        }
        if case .dns = self {
            let labels = text.split(separator: ".", omittingEmptySubsequences: false)
            let valid = labels.enumerated().allSatisfy { index, label in
                if index == 0 && label == "*" && labels.count > 2 { return true }
                return !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                    && label.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D || $0 == 0x5F }
            }
            guard valid else {
                throw .refused(.invalidInput, operation: operation, reason: "'\(text)' is not a valid DNS name")
            }
        }
    }
}
