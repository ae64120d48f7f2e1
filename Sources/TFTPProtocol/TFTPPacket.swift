/// TFTP packets (RFC 1350) with the option extension (RFC 2347): parsed from a datagram's bytes
/// and serialized back. Text fields keep their spelling, so a parsed packet serializes to the
/// same bytes it was parsed from.

/// The two-byte opcode that starts every packet.
public enum TFTPOpcode: UInt16, Hashable, Sendable, CaseIterable {
    case readRequest = 1
    case writeRequest = 2
    case data = 3
    case acknowledgement = 4
    case error = 5
    case optionAcknowledgement = 6
}

/// The transfer mode of a request. `mail` is part of RFC 1350 but obsolete; servers refuse it.
public enum TFTPMode: String, Hashable, Sendable, CaseIterable {
    case netascii
    case octet
    case mail

    /// Whether a server serves this mode (`mail` is refused with ERROR 4).
    public var isSupported: Bool { self != .mail }
}

/// The error codes of RFC 1350 §5 plus 8 of RFC 2347.
public enum TFTPErrorCode: UInt16, Hashable, Sendable, CaseIterable {
    case notDefined = 0
    case fileNotFound = 1
    case accessViolation = 2
    case diskFull = 3
    case illegalOperation = 4
    case unknownTransferID = 5
    case fileAlreadyExists = 6
    case noSuchUser = 7
    case optionNegotiationFailed = 8

    /// The standard meaning, usable as the message when there is nothing more precise to say.
    public var meaning: String {
        switch self {
        case .notDefined: "Not defined, see error message (if any)."
        case .fileNotFound: "File not found."
        case .accessViolation: "Access violation."
        case .diskFull: "Disk full or allocation exceeded."
        case .illegalOperation: "Illegal TFTP operation."
        case .unknownTransferID: "Unknown transfer ID."
        case .fileAlreadyExists: "File already exists."
        case .noSuchUser: "No such user."
        case .optionNegotiationFailed: "Option negotiation failed."
        }
    }
}

/// One option of a request or OACK: name and value as written (RFC 2347). Names compare
/// case-insensitively through `canonicalName`.
public struct TFTPOption: Hashable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// The name in lower case (ASCII), as option names are case-insensitive.
    public var canonicalName: String { TFTPText.asciiLowercased(name) }
}

/// A read or write request.
public struct TFTPRequest: Hashable, Sendable {
    public var filename: String
    public var mode: TFTPMode
    /// The mode as written in the packet (modes are case-insensitive); serialized as is.
    public var modeSpelling: String
    public var options: [TFTPOption]

    public init(filename: String, mode: TFTPMode, options: [TFTPOption] = [], modeSpelling: String? = nil) {
        self.filename = filename
        self.mode = mode
        self.modeSpelling = modeSpelling ?? mode.rawValue
        self.options = options
    }

    /// The value of the option named `name` (case-insensitive), if present.
    public func option(_ name: String) -> String? {
        let wanted = TFTPText.asciiLowercased(name)
        return options.first { $0.canonicalName == wanted }?.value
    }
}

/// A TFTP packet.
public enum TFTPPacket: Hashable, Sendable {
    case readRequest(TFTPRequest)
    case writeRequest(TFTPRequest)
    case data(block: UInt16, payload: [UInt8])
    case acknowledgement(block: UInt16)
    case error(code: TFTPErrorCode, message: String)
    case optionAcknowledgement([TFTPOption])

    /// The largest DATA payload any block size allows (RFC 2348).
    public static let maximumPayload = 65464
    /// The largest datagram accepted: a DATA packet at the largest block size.
    public static let maximumPacketSize = 4 + maximumPayload
    /// The largest request or OACK (RFC 2347: "The maximum size of a request packet is 512 octets").
    public static let maximumRequestSize = 512

    public var opcode: TFTPOpcode {
        switch self {
        case .readRequest: .readRequest
        case .writeRequest: .writeRequest
        case .data: .data
        case .acknowledgement: .acknowledgement
        case .error: .error
        case .optionAcknowledgement: .optionAcknowledgement
        }
    }

    /// An ERROR packet with the code's standard meaning as its message.
    public static func error(_ code: TFTPErrorCode) -> TFTPPacket {
        .error(code: code, message: code.meaning)
    }

    /// The packet's bytes on the wire.
    public var serialized: [UInt8] {
        var out: [UInt8] = []
        Self.appendUInt16(opcode.rawValue, to: &out)
        switch self {
        case .readRequest(let request), .writeRequest(let request):
            Self.appendString(request.filename, to: &out)
            Self.appendString(request.modeSpelling, to: &out)
            Self.appendOptions(request.options, to: &out)
        case .data(let block, let payload):
            Self.appendUInt16(block, to: &out)
            out.append(contentsOf: payload)
        case .acknowledgement(let block):
            Self.appendUInt16(block, to: &out)
        case .error(let code, let message):
            Self.appendUInt16(code.rawValue, to: &out)
            Self.appendString(message, to: &out)
        case .optionAcknowledgement(let options):
            Self.appendOptions(options, to: &out)
        }
        return out
    }

    private static func appendUInt16(_ value: UInt16, to out: inout [UInt8]) {
        out.append(UInt8(value >> 8))
        out.append(UInt8(value & 0xFF))
    }

    private static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(contentsOf: string.utf8)
        out.append(0)
    }

    private static func appendOptions(_ options: [TFTPOption], to out: inout [UInt8]) {
        for option in options {
            appendString(option.name, to: &out)
            appendString(option.value, to: &out)
        }
    }
}

/// Why a datagram is not a valid TFTP packet.
public enum TFTPParseError: Error, Hashable, Sendable {
    /// Shorter than the fixed part of its packet type (`length` bytes, `needed` required).
    case truncated(length: Int, needed: Int)
    /// The opcode is not 1–6.
    case unknownOpcode(UInt16)
    /// A string field runs to the end of the datagram without its NUL terminator.
    case missingTerminator(TFTPField)
    /// A string field is not valid UTF-8.
    case invalidText(TFTPField)
    /// A request with an empty filename.
    case emptyFilename
    /// A mode other than netascii, octet or mail.
    case unknownMode(String)
    /// An option name with no value after it.
    case missingOptionValue(name: String)
    /// An option with an empty name.
    case emptyOptionName
    /// The same option (compared case-insensitively) appears twice.
    case duplicateOption(String)
    /// An OACK that carries no option.
    case emptyOptionAcknowledgement
    /// An ERROR code outside 0–8.
    case unknownErrorCode(UInt16)
    /// Bytes after the end of an ACK or ERROR packet.
    case trailingBytes(count: Int)
    /// Longer than the packet type allows.
    case oversize(length: Int, limit: Int)
}

/// The string fields of a packet, for error reports.
public enum TFTPField: Hashable, Sendable {
    case filename
    case mode
    case optionName
    case optionValue
    case errorMessage
}

extension TFTPPacket {
    /// Parses one datagram.
    public static func parse(_ bytes: [UInt8]) throws(TFTPParseError) -> TFTPPacket {
        try bytes.withUnsafeBufferPointer { (buffer) throws(TFTPParseError) -> TFTPPacket in
            try parse(buffer)
        }
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(TFTPParseError) -> TFTPPacket {
        guard bytes.count >= 2 else { throw .truncated(length: bytes.count, needed: 2) }
        let rawOpcode = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        guard let opcode = TFTPOpcode(rawValue: rawOpcode) else { throw .unknownOpcode(rawOpcode) }
        switch opcode {
        case .readRequest, .writeRequest, .optionAcknowledgement:
            guard bytes.count <= maximumRequestSize else {
                throw .oversize(length: bytes.count, limit: maximumRequestSize)
            }
        case .data, .acknowledgement, .error:
            guard bytes.count <= maximumPacketSize else {
                throw .oversize(length: bytes.count, limit: maximumPacketSize)
            }
        }
        var reader = Reader(bytes: bytes, index: 2)
        switch opcode {
        case .readRequest, .writeRequest:
            let filename = try reader.string(.filename)
            guard !filename.isEmpty else { throw .emptyFilename }
            let modeSpelling = try reader.string(.mode)
            guard let mode = TFTPMode(rawValue: TFTPText.asciiLowercased(modeSpelling)) else {
                throw .unknownMode(modeSpelling)
            }
            let options = try reader.options()
            let request = TFTPRequest(filename: filename, mode: mode, options: options, modeSpelling: modeSpelling)
            return opcode == .readRequest ? .readRequest(request) : .writeRequest(request)
        case .data:
            let block = try reader.uint16(packetLength: bytes.count)
            return .data(block: block, payload: Array(bytes[reader.index...]))
        case .acknowledgement:
            let block = try reader.uint16(packetLength: bytes.count)
            guard reader.atEnd else { throw .trailingBytes(count: bytes.count - reader.index) }
            return .acknowledgement(block: block)
        case .error:
            let rawCode = try reader.uint16(packetLength: bytes.count)
            guard let code = TFTPErrorCode(rawValue: rawCode) else { throw .unknownErrorCode(rawCode) }
            let message = try reader.string(.errorMessage)
            guard reader.atEnd else { throw .trailingBytes(count: bytes.count - reader.index) }
            return .error(code: code, message: message)
        case .optionAcknowledgement:
            let options = try reader.options()
            guard !options.isEmpty else { throw .emptyOptionAcknowledgement }
            return .optionAcknowledgement(options)
        }
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index: Int

        var atEnd: Bool { index == bytes.count }

        mutating func uint16(packetLength: Int) throws(TFTPParseError) -> UInt16 {
            guard bytes.count - index >= 2 else { throw .truncated(length: packetLength, needed: index + 2) }
            defer { index += 2 }
            return UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
        }

        mutating func string(_ field: TFTPField) throws(TFTPParseError) -> String {
            var end = index
            while end < bytes.count, bytes[end] != 0 { end += 1 }
            guard end < bytes.count else { throw .missingTerminator(field) }
            let slice = UnsafeBufferPointer(rebasing: bytes[index..<end])
            index = end + 1
            guard let text = String(validating: slice, as: UTF8.self) else { throw .invalidText(field) }
            return text
        }

        mutating func options() throws(TFTPParseError) -> [TFTPOption] {
            var options: [TFTPOption] = []
            var seen: Set<String> = []
            while !atEnd {
                let name = try string(.optionName)
                guard !name.isEmpty else { throw .emptyOptionName }
                guard !atEnd else { throw .missingOptionValue(name: name) }
                let value = try string(.optionValue)
                let option = TFTPOption(name: name, value: value)
                guard seen.insert(option.canonicalName).inserted else { throw .duplicateOption(name) }
                options.append(option)
            }
            return options
        }
    }
}

enum TFTPText {
    static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    /// A decimal number of digits only (no sign, no spaces), or nil when it is not one or exceeds `UInt64`.
    static func decimal(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.utf8.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in text.utf8 {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }
}
