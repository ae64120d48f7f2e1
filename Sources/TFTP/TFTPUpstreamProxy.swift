import Logging
import NIOCore
import TFTPProtocol

/// Files the edge neither generates nor holds in its directory come from the call manager's TFTP
/// server while the trunk is up, and are cached for the outage that will come. During an outage
/// (the trunk is down, or the server does not answer) the cache answers. Names pass through
/// exactly as requested and bytes are stored and served untouched: an encrypted, signed device
/// configuration is the call manager's to rewrite, not ours.
public struct TFTPUpstreamProxy: TFTPFileSource {
    private let upstream: SocketAddress
    private let client: TFTPClient
    private let options: TFTPClient.Options
    private let cache: TFTPCacheDirectory
    private let isAvailable: @Sendable () -> Bool
    private let statistics: TFTPStatistics
    private let logger: Logger

    public init(
        upstream: SocketAddress, client: TFTPClient, options: TFTPClient.Options = TFTPClient.Options(), cache: TFTPCacheDirectory,
        isAvailable: @escaping @Sendable () -> Bool, statistics: TFTPStatistics, logger: Logger
    ) {
        self.upstream = upstream
        self.client = client
        self.options = options
        self.cache = cache
        self.isAvailable = isAvailable
        self.statistics = statistics
        self.logger = logger
    }

    public func lookup(_ path: String, client requester: SocketAddress) async -> TFTPLookup {
        if isAvailable() {
            statistics.increment(.upstreamFetches)
            do {
                let bytes = try await client.download(path, from: upstream, options: options)
                do {
                    try cache.store(path, bytes)
                } catch {
                    statistics.increment(.cacheWriteFailures)
                    logger.warning("TFTP cache write failed", metadata: ["file": "\(path)", "error": "\(error)"])
                }
                return .found(TFTPBytes(bytes))
            } catch TFTPClientError.refused(let code, let message) {
                // The call manager answered: its word stands, even over an older cached copy.
                return code == .fileNotFound ? .notFound : .denied(reason: "call manager: \(message)")
            } catch {
                statistics.increment(.upstreamFailures)
                logger.warning("TFTP call manager fetch failed; trying the cache", metadata: ["file": "\(path)", "error": "\(error)"])
            }
        }
        guard let bytes = cache.load(path) else { return .notFound }
        statistics.increment(.cacheHits)
        return .found(TFTPBytes(bytes))
    }
}
