import NIOCore
import Synchronization

/// The files the provisioning builder generates (phone configurations, trust lists, PEM), held in
/// memory. `update` swaps the whole set at once, so a phone never fetches a configuration from
/// one build and a trust list from another. Names match case-insensitively because Cisco
/// firmware varies the case of the names it asks for (`SEP…` vs `sep…`).
public final class TFTPGeneratedFiles: TFTPFileSource {
    private let files = Mutex<[String: TFTPBytes]>([:])

    public init(_ files: [String: [UInt8]] = [:]) {
        update(files)
    }

    /// Replaces every generated file. Names are relative paths as phones request them.
    public func update(_ newFiles: [String: [UInt8]]) {
        var table: [String: TFTPBytes] = [:]
        for (name, bytes) in newFiles { table[Self.key(name)] = TFTPBytes(bytes) }
        files.withLock { $0 = table }
    }

    public func lookup(_ path: String, client: SocketAddress) async -> TFTPLookup {
        guard let content = files.withLock({ $0[Self.key(path)] }) else { return .notFound }
        return .found(content)
    }

    private static func key(_ name: String) -> String {
        String(decoding: name.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}
