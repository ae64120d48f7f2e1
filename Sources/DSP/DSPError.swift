/// A failure of a spandsp object, or input refused before spandsp was called.
public enum DSPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// spandsp could not allocate the named object (its `*_init` returned NULL).
    case allocationFailed(String)
    /// A character that is not a DTMF digit (`0`–`9`, `*`, `#`, `A`–`D`).
    case invalidDTMFDigit(Character)
    /// spandsp's digit queue has no room for these `digits`; none of them were queued.
    case dtmfQueueFull(digits: Int)

    public var description: String {
        switch self {
        case .allocationFailed(let object): "spandsp could not allocate \(object)"
        case .invalidDTMFDigit(let character): "\"\(character)\" is not a DTMF digit"
        case .dtmfQueueFull(let digits): "DTMF queue has no room for \(digits) digits"
        }
    }
}

/// The sixteen DTMF digits, in the spelling spandsp uses.
enum DTMFDigits {
    static let valid: Set<Character> = Set("0123456789*#ABCD")
}
