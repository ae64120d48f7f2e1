import NIOCore

/// Sources consulted in order; the first that finds or refuses the file decides. Generated files
/// come first so they win over a same-named file in the directory or the call manager's cache.
public struct TFTPOverlaySource: TFTPFileSource {
    public let layers: [any TFTPFileSource]

    public init(_ layers: [any TFTPFileSource]) {
        self.layers = layers
    }

    public func lookup(_ path: String, client: SocketAddress) async -> TFTPLookup {
        for layer in layers {
            switch await layer.lookup(path, client: client) {
            case .notFound: continue
            case let decided: return decided
            }
        }
        return .notFound
    }
}
