/// Option negotiation for the options this server understands: `blksize` (RFC 2348), `timeout`
/// and `tsize` (RFC 2349) and `windowsize` (RFC 7440). Unknown options are ignored (RFC 2347).

public enum TFTPOptionName {
    public static let blockSize = "blksize"
    public static let timeout = "timeout"
    public static let transferSize = "tsize"
    public static let windowSize = "windowsize"

    /// RFC 2348: valid block sizes.
    public static let blockSizeRange = 8...65464
    /// RFC 2349: valid timeouts in seconds.
    public static let timeoutRange = 1...255
    /// RFC 7440: valid window sizes.
    public static let windowSizeRange = 1...65535
}

/// What the server is willing to accept.
public struct TFTPServerLimits: Hashable, Sendable {
    /// The largest block size granted; larger requests are lowered to it (RFC 2348). 1468 keeps a
    /// DATA packet inside a 1500-byte Ethernet MTU with IPv4 and UDP headers.
    public var maximumBlockSize: Int
    /// The largest window granted; larger requests are lowered to it (RFC 7440).
    public var maximumWindowSize: Int
    /// The timeouts (seconds) the server accepts. A timeout outside it is left out of the OACK,
    /// as RFC 2349 lets the server only accept the value or not acknowledge it.
    public var acceptedTimeouts: ClosedRange<Int>

    public init(maximumBlockSize: Int = 1468, maximumWindowSize: Int = 16, acceptedTimeouts: ClosedRange<Int> = 1...255) {
        self.maximumBlockSize = maximumBlockSize
        self.maximumWindowSize = maximumWindowSize
        self.acceptedTimeouts = acceptedTimeouts
    }
}

/// The options a negotiation accepted. A nil field was not requested or not granted; the
/// protocol default applies.
public struct TFTPNegotiatedOptions: Hashable, Sendable {
    public var blockSize: Int?
    public var timeout: Int?
    public var transferSize: UInt64?
    public var windowSize: Int?
    /// The accepted options in the client's order, with canonical lower-case names: the OACK's body.
    public var acknowledged: [TFTPOption]

    public init(blockSize: Int? = nil, timeout: Int? = nil, transferSize: UInt64? = nil, windowSize: Int? = nil, acknowledged: [TFTPOption] = []) {
        self.blockSize = blockSize
        self.timeout = timeout
        self.transferSize = transferSize
        self.windowSize = windowSize
        self.acknowledged = acknowledged
    }

    /// The OACK to send, or nil when no option was accepted (the transfer then starts as in RFC 1350).
    public var optionAcknowledgement: TFTPPacket? {
        acknowledged.isEmpty ? nil : .optionAcknowledgement(acknowledged)
    }

    /// The block size in force: the negotiated one or RFC 1350's 512.
    public var effectiveBlockSize: Int { blockSize ?? 512 }
    /// The window size in force: the negotiated one or 1 (lock-step, RFC 1350).
    public var effectiveWindowSize: Int { windowSize ?? 1 }
}

public enum TFTPNegotiation {
    /// Negotiates the options of a request.
    ///
    /// - `blksize` outside 8–65464 or not a number is ignored; otherwise the smaller of the request
    ///   and `limits.maximumBlockSize` (at least 8) is granted.
    /// - `timeout` outside 1–255, outside `limits.acceptedTimeouts` or not a number is ignored;
    ///   otherwise it is granted exactly as asked.
    /// - `tsize`: in a read request the client sends 0 and the answer is `transferSize`
    ///   (left out when the size is unknown or the client sent anything but 0); in a write
    ///   request the client's size is echoed.
    /// - `windowsize` outside 1–65535 or not a number is ignored; otherwise the smaller of the
    ///   request and `limits.maximumWindowSize` (at least 1) is granted.
    public static func negotiate(
        _ request: TFTPRequest, isRead: Bool, limits: TFTPServerLimits = TFTPServerLimits(), transferSize: UInt64?
    ) -> TFTPNegotiatedOptions {
        var result = TFTPNegotiatedOptions()
        for option in request.options {
            let value = TFTPText.decimal(option.value)
            switch option.canonicalName {
            case TFTPOptionName.blockSize:
                guard let value, value <= UInt64(TFTPOptionName.blockSizeRange.upperBound),
                    TFTPOptionName.blockSizeRange.contains(Int(value))
                else { continue }
                let granted = min(Int(value), max(limits.maximumBlockSize, TFTPOptionName.blockSizeRange.lowerBound))
                result.blockSize = granted
                result.acknowledged.append(TFTPOption(name: TFTPOptionName.blockSize, value: String(granted)))
            case TFTPOptionName.timeout:
                guard let value, value <= 255, TFTPOptionName.timeoutRange.contains(Int(value)),
                    limits.acceptedTimeouts.contains(Int(value))
                else { continue }
                result.timeout = Int(value)
                result.acknowledged.append(TFTPOption(name: TFTPOptionName.timeout, value: String(value)))
            case TFTPOptionName.transferSize:
                guard let value else { continue }
                let answer: UInt64
                if isRead {
                    guard value == 0, let transferSize else { continue }
                    answer = transferSize
                } else {
                    answer = value
                }
                result.transferSize = answer
                result.acknowledged.append(TFTPOption(name: TFTPOptionName.transferSize, value: String(answer)))
            case TFTPOptionName.windowSize:
                guard let value, value <= UInt64(TFTPOptionName.windowSizeRange.upperBound),
                    TFTPOptionName.windowSizeRange.contains(Int(value))
                else { continue }
                let granted = min(Int(value), max(limits.maximumWindowSize, TFTPOptionName.windowSizeRange.lowerBound))
                result.windowSize = granted
                result.acknowledged.append(TFTPOption(name: TFTPOptionName.windowSize, value: String(granted)))
            default:
                continue
            }
        }
        return result
    }
}
