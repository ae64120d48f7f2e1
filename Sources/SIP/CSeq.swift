/// The CSeq header: a sequence number below 2^31 and the request method (RFC 3261 §8.1.1.5).
public struct CSeq: Hashable, Sendable, CustomStringConvertible {
    public var sequence: UInt32
    public var method: SIPMethod

    public init(_ sequence: UInt32, _ method: SIPMethod) {
        self.sequence = sequence
        self.method = method
    }

    public init(parsing text: String) throws(SIPParseError) {
        self = try text.withBytes { (bytes) throws(SIPParseError) -> CSeq in try CSeq.parse(bytes) }
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(SIPParseError) -> CSeq {
            var cursor = ByteCursor(bytes)
            cursor.skipWhitespace()
            guard let number = cursor.read(while: Grammar.isDigit).decimal(limit: 0x7FFF_FFFF) else {
                throw SIPParseError(element: "CSeq", reason: "sequence number missing or not below 2^31")
            }
            let gap = cursor.index
            cursor.skipWhitespace()
            let method = cursor.readToken()
            cursor.skipWhitespace()
            guard cursor.index > gap, !method.isEmpty, cursor.isAtEnd else {
                throw SIPParseError(element: "CSeq", reason: "expected '<number> <method>'")
            }
            return CSeq(UInt32(number), SIPMethod.received(method))
    }

    public var description: String { "\(sequence) \(method.rawValue)" }
}
