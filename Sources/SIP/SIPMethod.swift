/// A request method. Methods are case-sensitive tokens (RFC 3261 §7.1); unknown ones are kept.
public struct SIPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public static var invite: SIPMethod { SIPMethod("INVITE") }
    public static var ack: SIPMethod { SIPMethod("ACK") }
    public static var bye: SIPMethod { SIPMethod("BYE") }
    public static var cancel: SIPMethod { SIPMethod("CANCEL") }
    public static var register: SIPMethod { SIPMethod("REGISTER") }
    public static var options: SIPMethod { SIPMethod("OPTIONS") }
    public static var info: SIPMethod { SIPMethod("INFO") }
    public static var update: SIPMethod { SIPMethod("UPDATE") }
    public static var prack: SIPMethod { SIPMethod("PRACK") }
    public static var subscribe: SIPMethod { SIPMethod("SUBSCRIBE") }
    public static var notify: SIPMethod { SIPMethod("NOTIFY") }
    public static var refer: SIPMethod { SIPMethod("REFER") }
    public static var message: SIPMethod { SIPMethod("MESSAGE") }
    public static var publish: SIPMethod { SIPMethod("PUBLISH") }

    /// A method from received bytes; the known ones without allocating.
    static func received(_ bytes: UnsafeBufferPointer<UInt8>) -> SIPMethod {
        if let known = known(bytes) { return known }
        return SIPMethod(bytes.text)
    }

    private static func known(_ bytes: UnsafeBufferPointer<UInt8>) -> SIPMethod? {
        guard let first = bytes.first else { return nil }
        switch (bytes.count, first) {
        case (3, UInt8(ascii: "A")):
            if bytes.equals("ACK") { return .ack }
            return nil
        case (3, UInt8(ascii: "B")):
            if bytes.equals("BYE") { return .bye }
            return nil
        case (4, UInt8(ascii: "I")):
            if bytes.equals("INFO") { return .info }
            return nil
        case (5, UInt8(ascii: "P")):
            if bytes.equals("PRACK") { return .prack }
            return nil
        case (5, UInt8(ascii: "R")):
            if bytes.equals("REFER") { return .refer }
            return nil
        case (6, UInt8(ascii: "C")):
            if bytes.equals("CANCEL") { return .cancel }
            return nil
        case (6, UInt8(ascii: "I")):
            if bytes.equals("INVITE") { return .invite }
            return nil
        case (6, UInt8(ascii: "N")):
            if bytes.equals("NOTIFY") { return .notify }
            return nil
        case (6, UInt8(ascii: "U")):
            if bytes.equals("UPDATE") { return .update }
            return nil
        case (7, UInt8(ascii: "M")):
            if bytes.equals("MESSAGE") { return .message }
            return nil
        case (7, UInt8(ascii: "O")):
            if bytes.equals("OPTIONS") { return .options }
            return nil
        case (7, UInt8(ascii: "P")):
            if bytes.equals("PUBLISH") { return .publish }
            return nil
        case (8, UInt8(ascii: "R")):
            if bytes.equals("REGISTER") { return .register }
            return nil
        case (9, UInt8(ascii: "S")):
            if bytes.equals("SUBSCRIBE") { return .subscribe }
            return nil
        default: return nil
        }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Byte-for-byte comparison with an ASCII literal.
    @inline(__always)
    fileprivate func equals(_ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let pointer = literal.utf8Start
        for offset in 0..<count where self[offset] != pointer[offset] { return false }
        return true
    }
}
