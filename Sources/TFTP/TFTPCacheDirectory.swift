#if canImport(Glibc)
import Glibc
#endif

/// Files fetched from the call manager, kept on disk for outages. Each entry is keyed by the exact
/// name requested (case and all), so a device-specific file (`SEP<MAC>.cnf.xml.enc.sgn`) is only
/// ever served under its own name, byte for byte as the call manager sent it. Entries are written
/// to a temporary file and renamed, so a reader never sees half a file; everything is owner-only.
public struct TFTPCacheDirectory: Sendable {
    public let path: String

    public init(path: String) throws(TFTPDirectoryError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                throw TFTPDirectoryError(path: path, reason: TFTPDirectorySource.errnoText())
            }
        }
        self.path = path
    }

    public func load(_ name: String) -> [UInt8]? {
        let descriptor = open(entryPath(name), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return try? TFTPOpenFileReader.readAll(descriptor, size: Int(info.st_size))
    }

    public func store(_ name: String, _ bytes: [UInt8]) throws(TFTPDirectoryError) {
        let final = entryPath(name)
        let temporary = final + ".partial-\(UInt64.random(in: 0...UInt64.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw TFTPDirectoryError(path: temporary, reason: TFTPDirectorySource.errnoText()) }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            written += count
        }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced, rename(temporary, final) == 0 else {
            let reason = TFTPDirectorySource.errnoText()
            unlink(temporary)
            throw TFTPDirectoryError(path: final, reason: reason)
        }
    }

    /// A flat file name that maps back to exactly one requested name: every byte outside
    /// `[A-Za-z0-9._-]` (and a leading dot) is written as `%XX`.
    static func entryName(_ name: String) -> String {
        var out = ""
        for (index, byte) in name.utf8.enumerated() {
            let plain = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || (byte == UInt8(ascii: ".") && index > 0)
            if plain {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }

    private func entryPath(_ name: String) -> String { path + "/" + Self.entryName(name) }
}
