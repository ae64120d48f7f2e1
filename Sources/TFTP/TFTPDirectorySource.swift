import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// A read-only directory served as it is (firmware, ringtones). A name resolves only to a regular
/// file inside the root: the resolved path (symlinks followed by `realpath`) must stay below the
/// root, and the final open uses `O_NOFOLLOW` so a link swapped in afterwards is not followed.
public struct TFTPDirectorySource: TFTPFileSource {
    /// The root with every symlink resolved.
    public let root: String

    public init(root: String) throws(TFTPDirectoryError) {
        guard let resolved = Self.resolve(root) else { throw TFTPDirectoryError(path: root, reason: Self.errnoText()) }
        var info = stat()
        guard stat(resolved, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw TFTPDirectoryError(path: root, reason: "is not a directory")
        }
        self.root = resolved
    }

    public func lookup(_ path: String, client: SocketAddress) async -> TFTPLookup {
        let requested = root == "/" ? "/" + path : root + "/" + path
        guard let resolved = Self.resolve(requested) else {
            return errno == ENOENT || errno == ENOTDIR ? .notFound : .denied(reason: "cannot resolve \(path): \(Self.errnoText())")
        }
        guard resolved.hasPrefix(root == "/" ? "/" : root + "/") else {
            return .denied(reason: "\(path) leads outside the served directory")
        }
        let descriptor = open(resolved, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            return errno == ENOENT ? .notFound : .denied(reason: "cannot open \(path): \(Self.errnoText())")
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            return .denied(reason: "\(path) is not a regular file")
        }
        return .found(TFTPOpenFile(descriptor: descriptor, size: UInt64(info.st_size)))
    }

    private static func resolve(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

public struct TFTPDirectoryError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "tftp root \(path): \(reason)" }
}

/// An open regular file read with `pread`, closed when the last transfer using it ends.
final class TFTPOpenFile: TFTPFileContent {
    private let descriptor: Int32
    let size: UInt64

    init(descriptor: Int32, size: UInt64) {
        self.descriptor = descriptor
        self.size = size
    }

    deinit { close(descriptor) }

    func read(offset: UInt64, count: Int) throws -> [UInt8] {
        TFTPOpenFileReader.read(descriptor, offset: offset, count: count)
    }
}

enum TFTPOpenFileReader {
    /// Up to `count` bytes at `offset`; fewer when the file is shorter (it shrank under us).
    static func read(_ descriptor: Int32, offset: UInt64, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
            }
            if got < 0, errno == EINTR { continue }
            guard got > 0 else { break }
            filled += got
        }
        return filled == count ? bytes : Array(bytes[..<filled])
    }

    static func readAll(_ descriptor: Int32, size: Int) throws(TFTPDirectoryError) -> [UInt8] {
        let bytes = read(descriptor, offset: 0, count: size)
        guard bytes.count == size else { throw TFTPDirectoryError(path: "", reason: "file shrank while read") }
        return bytes
    }
}
