/// Filename safety: a requested name becomes a relative path below the server's root or is refused.

public enum TFTPFilenameError: Error, Hashable, Sendable {
    case empty
    case tooLong(length: Int, limit: Int)
    /// A NUL, control, DEL or non-ASCII byte at `offset`.
    case nonPrintable(offset: Int)
    case backslash
    case absolute
    case emptyComponent
    case parentReference
}

public enum TFTPFilename {
    /// The default limit on a filename's length in bytes.
    public static let defaultMaximumLength = 255

    /// The normalised relative path for a requested filename: printable ASCII only, no leading
    /// `/`, no backslash, no `..` and no empty component; `.` components are dropped.
    public static func normalise(_ name: String, maximumLength: Int = defaultMaximumLength) throws(TFTPFilenameError) -> String {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else { throw .empty }
        guard bytes.count <= maximumLength else { throw .tooLong(length: bytes.count, limit: maximumLength) }
        for (offset, byte) in bytes.enumerated() where byte < 0x20 || byte >= 0x7F {
            throw .nonPrintable(offset: offset)
        }
        guard !bytes.contains(UInt8(ascii: "\\")) else { throw .backslash }
        guard bytes[0] != UInt8(ascii: "/") else { throw .absolute }
        var components: [Substring] = []
        for component in name.split(separator: "/", omittingEmptySubsequences: false) {
            switch component {
            case "": throw .emptyComponent
            case "..": throw .parentReference
            case ".": continue
            default: components.append(component)
            }
        }
        guard !components.isEmpty else { throw .empty }
        return components.joined(separator: "/")
    }
}

/// Netascii (RFC 764 as used by RFC 1350): end of line is CR LF and a bare CR is CR NUL.
public enum Netascii {
    /// Local text (LF line ends) to netascii. Stateless, so chunks may be encoded one by one.
    public static func encode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount)
        for byte in bytes {
            switch byte {
            case 0x0A: out.append(0x0D); out.append(0x0A)
            case 0x0D: out.append(0x0D); out.append(0x00)
            default: out.append(byte)
            }
        }
        return out
    }

    /// The length of `encode(bytes)` without building it (the netascii `tsize`).
    public static func encodedCount(_ bytes: some Sequence<UInt8>) -> Int {
        bytes.reduce(0) { $0 + ($1 == 0x0A || $1 == 0x0D ? 2 : 1) }
    }

    /// Netascii to local text in one piece.
    public static func decode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var decoder = NetasciiDecoder()
        return decoder.decode(bytes) + decoder.finish()
    }
}

/// Netascii decoding across DATA blocks: a block may end with the CR of a CR LF or CR NUL pair,
/// so the CR is held back until the next block (or the end) says what it was.
public struct NetasciiDecoder: Hashable, Sendable {
    private var pendingCR = false

    public init() {}

    /// Decodes one block; a trailing CR is held until the next call or `finish()`.
    public mutating func decode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        for byte in bytes {
            if pendingCR {
                pendingCR = false
                switch byte {
                case 0x0A: out.append(0x0A); continue
                case 0x00: out.append(0x0D); continue
                default: out.append(0x0D)  // a bare CR: kept as is
                }
            }
            if byte == 0x0D { pendingCR = true } else { out.append(byte) }
        }
        return out
    }

    /// Ends the stream: a CR left pending is emitted as a CR.
    public mutating func finish() -> [UInt8] {
        defer { pendingCR = false }
        return pendingCR ? [0x0D] : []
    }
}
