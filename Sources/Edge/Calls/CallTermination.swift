import SIP

/// Why a call or a leg ended, in the two vocabularies peers understand: a SIP status for
/// answers, and a Q.850 cause with text for the RFC 3326 Reason header of a BYE or CANCEL.
public struct CallTermination: Sendable, Hashable, CustomStringConvertible {
    public var status: Int
    public var q850Cause: Int
    public var text: String

    public init(status: Int, q850Cause: Int, text: String) {
        self.status = status
        self.q850Cause = q850Cause
        self.text = text
    }

    /// The Q.850 cause RFC 3398 §8.2.6.1 maps a SIP failure to.
    public static func q850(forStatus status: Int) -> Int {
        switch status {
        case 200..<300: 16
        case 400, 402, 405, 406, 407, 409, 412, 413, 414, 415, 416, 420, 421, 423, 482, 483, 485, 493, 505: 127
        case 401, 403, 603: 21
        case 404, 604: 1
        case 408, 504: 102
        case 410: 22
        case 480: 18
        case 484: 28
        case 486, 600: 17
        case 487: 16
        case 488, 606: 88
        case 500: 41
        case 501: 79
        case 502: 38
        case 503: 41
        default: 31
        }
    }

    /// A normal hang-up.
    public static func normalClearing(_ text: String) -> CallTermination { CallTermination(status: 200, q850Cause: 16, text: text) }

    /// The ending a failure response says.
    public static func failure(_ status: Int, _ text: String) -> CallTermination {
        CallTermination(status: status, q850Cause: q850(forStatus: status), text: text)
    }

    /// `Reason: Q.850;cause=16;text="…"` (RFC 3326).
    public var reasonHeader: String {
        var quoted = ""
        for character in text.prefix(200) where character != "\r" && character != "\n" {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return "Q.850;cause=\(q850Cause);text=\"\(quoted)\""
    }

    /// The Q.850 cause of an RFC 3326 Reason header, when it gives one.
    public static func q850Cause(inReason reason: String) -> Int? {
        guard reason.lowercased().hasPrefix("q.850") else { return nil }
        for parameter in reason.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { String($0).trimmingWhitespace }
            if pair.count == 2, pair[0].lowercased() == "cause", let cause = Int(pair[1]), (0...127).contains(cause) { return cause }
        }
        return nil
    }

    public var description: String { "\(status) (Q.850 \(q850Cause)): \(text)" }
}
