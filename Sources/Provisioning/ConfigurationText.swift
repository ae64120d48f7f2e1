/// Makes inventory strings safe inside the generated files: an operator's display name must not
/// be able to close an XML element or start a new `key = value` line.
public enum ConfigurationText {
    /// XML character data or attribute value: markup characters and line breaks as references,
    /// and the control characters XML 1.0 cannot carry at all left out. Safe for HTML text and
    /// quoted attributes too (the admin status page uses it).
    public static func xml(_ text: String) -> String {
        var escaped = ""
        escaped.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            case "\n": escaped += "&#10;"
            case "\r": escaped += "&#13;"
            case "\t": escaped += "&#9;"
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: continue
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// A Yealink `.cfg` value. The format has no escapes: a value runs to the end of its line, so
    /// line breaks and other control characters become spaces and surrounding space is trimmed.
    static func cfgValue(_ text: String) -> String {
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
        return String(cleaned.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
