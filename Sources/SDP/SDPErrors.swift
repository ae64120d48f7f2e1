/// Why a session description was refused: where (1-based line, line type) and a reason precise
/// enough to put in a 400 or 488 response.
public struct SDPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number; nil when the error concerns the whole description (size, emptiness).
    public var line: Int?
    /// The type letter of the offending line, when the line had one.
    public var lineType: Character?
    public var reason: String

    public init(line: Int?, lineType: Character?, reason: String) {
        self.line = line
        self.lineType = lineType
        self.reason = reason
    }

    public var description: String {
        var text = "SDP"
        if let line { text += " line \(line)" }
        text += ": "
        if let lineType { text += "\(lineType)= line: " }
        return text + reason
    }
}

/// Bounds on what the parser accepts, so that a hostile body costs bounded time and memory.
public struct SDPLimits: Sendable, Hashable {
    public var maxBytes: Int
    public var maxLines: Int
    public var maxMediaDescriptions: Int
    /// Session-level and media-level attributes together.
    public var maxAttributes: Int

    public init(maxBytes: Int = 65_536, maxLines: Int = 4_096, maxMediaDescriptions: Int = 64, maxAttributes: Int = 1_024) {
        self.maxBytes = maxBytes
        self.maxLines = maxLines
        self.maxMediaDescriptions = maxMediaDescriptions
        self.maxAttributes = maxAttributes
    }

    public static let `default` = SDPLimits()
}

/// Why the value of one attribute (`a=rtpmap`, `a=crypto`, …) could not be read.
public struct SDPAttributeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The attribute name, e.g. "crypto".
    public var attribute: String
    public var reason: String

    public init(attribute: String, reason: String) {
        self.attribute = attribute
        self.reason = reason
    }

    public var description: String { "a=\(attribute): \(reason)" }
}
