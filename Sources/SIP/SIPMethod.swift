/// A request method. Methods are case-sensitive tokens (RFC 3261 §7.1); unknown ones are kept.
public struct SIPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public static let invite = SIPMethod("INVITE")
    public static let ack = SIPMethod("ACK")
    public static let bye = SIPMethod("BYE")
    public static let cancel = SIPMethod("CANCEL")
    public static let register = SIPMethod("REGISTER")
    public static let options = SIPMethod("OPTIONS")
    public static let info = SIPMethod("INFO")
    public static let update = SIPMethod("UPDATE")
    public static let prack = SIPMethod("PRACK")
    public static let subscribe = SIPMethod("SUBSCRIBE")
    public static let notify = SIPMethod("NOTIFY")
    public static let refer = SIPMethod("REFER")
    public static let message = SIPMethod("MESSAGE")
    public static let publish = SIPMethod("PUBLISH")

    static func received(_ bytes: UnsafeBufferPointer<UInt8>) -> SIPMethod {
        for known in common where known.rawValue.utf8.elementsEqual(bytes) { return known }
        return SIPMethod(bytes.text)
    }

    private static let common: [SIPMethod] = [invite, ack, bye, cancel, register, options, info, update, prack, subscribe, notify, refer, message, publish]
}
