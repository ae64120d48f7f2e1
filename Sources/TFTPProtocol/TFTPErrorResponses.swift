/// The ERROR packet a server answers with when a request cannot be served, with a message that
/// says precisely why.

extension TFTPParseError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .truncated(let length, let needed): "truncated packet: \(length) bytes, \(needed) needed"
        case .unknownOpcode(let opcode): "unknown opcode \(opcode)"
        case .missingTerminator(let field): "\(field) is not NUL-terminated"
        case .invalidText(let field): "\(field) is not valid UTF-8"
        case .emptyFilename: "empty filename"
        case .unknownMode(let mode): "unknown transfer mode"
            + (mode.utf8.count <= 16 && mode.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } ? " '\(mode)'" : "")
        case .missingOptionValue: "option without a value"
        case .emptyOptionName: "empty option name"
        case .duplicateOption: "duplicate option"
        case .emptyOptionAcknowledgement: "OACK without options"
        case .unknownErrorCode(let code): "unknown error code \(code)"
        case .trailingBytes(let count): "\(count) bytes after the end of the packet"
        case .oversize(let length, let limit): "packet of \(length) bytes exceeds \(limit)"
        }
    }

    /// The ERROR packet answering a datagram that did not parse: code 4 (illegal operation).
    public var errorPacket: TFTPPacket { .error(code: .illegalOperation, message: description) }
}

extension TFTPFilenameError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .empty: "empty filename"
        case .tooLong(let length, let limit): "filename of \(length) bytes exceeds \(limit)"
        case .nonPrintable(let offset): "non-printable byte in filename at offset \(offset)"
        case .backslash: "backslash in filename"
        case .absolute: "absolute filename"
        case .emptyComponent: "empty path component in filename"
        case .parentReference: "'..' in filename"
        }
    }

    /// The ERROR packet refusing the name: code 2 (access violation).
    public var errorPacket: TFTPPacket { .error(code: .accessViolation, message: description) }
}

extension TFTPMode {
    /// The ERROR packet refusing an unsupported mode (mail): code 4 (illegal operation), or nil.
    public var refusal: TFTPPacket? {
        isSupported ? nil : .error(code: .illegalOperation, message: "transfer mode '\(rawValue)' is not supported")
    }
}
