/// Why a SIP message, header or URI could not be parsed.
///
/// `element` names the part at fault (a header's canonical name, "Request-Line",
/// "Status-Line", "Request-URI", "message") so that a `400` can say exactly what was wrong.
public struct SIPParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public var element: String
    public var reason: String

    public init(element: String, reason: String) {
        self.element = element
        self.reason = reason
    }

    /// A reason phrase for a `400 Bad Request`, safe to put on a status line.
    public var reasonPhrase: String {
        let text = "Bad \(element): \(reason)"
        let printable = text.unicodeScalars.map { scalar -> Character in
            (scalar.value < 0x20 || scalar.value == 0x7F) ? " " : Character(scalar)
        }
        return String(printable.prefix(120))
    }

    public var description: String { "\(element): \(reason)" }

    /// A mandatory header (RFC 3261 §8.1.1) is absent.
    public var isMissingMandatoryHeader: Bool {
        reason.hasPrefix("missing") && ["Via", "From", "To", "Call-ID", "CSeq"].contains(element)
    }

    /// The start line itself is broken: on a stream, the previous message's Content-Length was
    /// probably wrong and this is not where a message begins.
    public var isStartLineError: Bool { ["Request-Line", "Status-Line", "message"].contains(element) }
}
