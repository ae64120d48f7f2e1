import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// What the services that follow files on disk (TLS reloads, provisioning rebuilds) share: the
/// files' contents, compared between polls, and a wait that a shutdown cuts short.
///
/// Contents, not modification times: re-initialising the PKI may rewrite a file with the same
/// bytes, which is no change.
enum FileChangePolling {
    /// Each path's bytes (at most 1 MiB, plenty for certificates and CRLs); empty when unreadable.
    static func snapshot(_ paths: [String]) -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for path in paths { result[path] = contents(of: path) }
        return result
    }

    static func contents(of path: String) -> [UInt8] {
        guard let file = fopen(path, "rb") else { return [] }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: 1 << 20)
        let count = fread(&bytes, 1, bytes.count, file)
        return Array(bytes.prefix(count))
    }

    /// The names in a directory, without `.` and `..`; empty when it cannot be read.
    static func directoryEntries(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// Sleeps for `interval`; false when the task was cancelled or the service group is shutting
    /// down, so stopping the edge never waits for the interval.
    static func waitForNextPoll(_ interval: Duration) async -> Bool {
        guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return false }
        do {
            try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        } catch {
            return false
        }
        return !Task.isCancelled && !Task.isShuttingDownGracefully
    }
}
