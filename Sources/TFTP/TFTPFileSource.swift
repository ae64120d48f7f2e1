import NIOCore

/// Where the server finds the file a request names. Sources are stacked (generated files over a
/// directory over the call manager's cache), so each says whether it has the file, has not, or
/// refuses it outright.
public protocol TFTPFileSource: Sendable {
    /// Looks up `path`, already normalised by `TFTPFilename.normalise` (relative, no `..`).
    func lookup(_ path: String, client: SocketAddress) async -> TFTPLookup
}

public enum TFTPLookup: Sendable {
    case found(any TFTPFileContent)
    case notFound
    /// The name exists but must not be served (a symlink out of the root, not a regular file…).
    case denied(reason: String)
}

/// The bytes of one file, read block by block during a transfer.
public protocol TFTPFileContent: Sendable {
    var size: UInt64 { get }
    func read(offset: UInt64, count: Int) throws -> [UInt8]
}

/// File content held in memory (generated files, the proxy's fetches, netascii conversions).
public struct TFTPBytes: TFTPFileContent {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var size: UInt64 { UInt64(bytes.count) }

    public func read(offset: UInt64, count: Int) throws -> [UInt8] {
        let start = Int(min(offset, UInt64(bytes.count)))
        return Array(bytes[start..<min(start + count, bytes.count)])
    }
}

extension TFTPFileContent {
    /// The whole content, for netascii conversion and caching.
    func readAll() throws -> [UInt8] {
        if let memory = self as? TFTPBytes { return memory.bytes }
        return try read(offset: 0, count: Int(size))
    }
}
