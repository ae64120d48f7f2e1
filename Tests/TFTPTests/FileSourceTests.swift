import Foundation
import NIOCore
import Testing

@testable import TFTP

@Suite struct FileSourceTests {
    let client = try! SocketAddress(ipAddress: "192.0.2.7", port: 1234)

    static func bytes(_ lookup: TFTPLookup) throws -> [UInt8]? {
        guard case .found(let content) = lookup else { return nil }
        return try content.read(offset: 0, count: Int(content.size))
    }

    @Test func generatedFilesMatchAnyCaseAndAreReplacedAsAWhole() async throws {
        let files = TFTPGeneratedFiles(["SEP001BD4AABBCC.cnf.xml": [1, 2, 3], "ITLFile.tlv": [4]])
        #expect(try Self.bytes(await files.lookup("sep001bd4aabbcc.CNF.xml", client: client)) == [1, 2, 3])
        files.update(["CTLFile.tlv": [9]])
        guard case .notFound = await files.lookup("ITLFile.tlv", client: client) else { Issue.record("old file still served"); return }
        #expect(try Self.bytes(await files.lookup("ctlfile.tlv", client: client)) == [9])
    }

    @Test func directoryServesRegularFilesInsideItsRootOnly() async throws {
        let root = NSTemporaryDirectory() + "tftp-dir-\(UUID().uuidString)"
        let outside = NSTemporaryDirectory() + "tftp-outside-\(UUID().uuidString)"
        defer {
            try? FileManager.default.removeItem(atPath: root)
            try? FileManager.default.removeItem(atPath: outside)
        }
        try FileManager.default.createDirectory(atPath: root + "/firmware", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try Data([7, 7]).write(to: URL(fileURLWithPath: root + "/firmware/load.bin"))
        try Data([6]).write(to: URL(fileURLWithPath: outside + "/secret"))
        try FileManager.default.createSymbolicLink(atPath: root + "/escape", withDestinationPath: outside + "/secret")
        try FileManager.default.createSymbolicLink(atPath: root + "/escapedir", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: root + "/alias.bin", withDestinationPath: "firmware/load.bin")
        let source = try TFTPDirectorySource(root: root)

        #expect(try Self.bytes(await source.lookup("firmware/load.bin", client: client)) == [7, 7])
        #expect(try Self.bytes(await source.lookup("alias.bin", client: client)) == [7, 7])
        for name in ["escape", "escapedir/secret", "firmware"] {
            guard case .denied = await source.lookup(name, client: client) else { Issue.record("\(name) not denied"); continue }
        }
        guard case .notFound = await source.lookup("missing.bin", client: client) else { Issue.record("missing file found"); return }
        #expect(throws: TFTPDirectoryError.self) { try TFTPDirectorySource(root: root + "/firmware/load.bin") }
    }

    @Test func generatedFilesWinOverTheDirectory() async throws {
        let root = NSTemporaryDirectory() + "tftp-overlay-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Data([1]).write(to: URL(fileURLWithPath: root + "/ITLFile.tlv"))
        try Data([2]).write(to: URL(fileURLWithPath: root + "/ring.raw"))
        let overlay = TFTPOverlaySource([TFTPGeneratedFiles(["ITLFile.tlv": [9]]), try TFTPDirectorySource(root: root)])
        #expect(try Self.bytes(await overlay.lookup("ITLFile.tlv", client: client)) == [9])
        #expect(try Self.bytes(await overlay.lookup("ring.raw", client: client)) == [2])
    }

    @Test func cacheKeysByExactNameAndWritesOwnerOnly() throws {
        let path = NSTemporaryDirectory() + "tftp-cache-\(UUID().uuidString)/tftp-cache"
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let cache = try TFTPCacheDirectory(path: path)
        try cache.store("SEP001BD4AABBCC.cnf.xml.enc.sgn", [1, 2, 3])
        #expect(cache.load("SEP001BD4AABBCC.cnf.xml.enc.sgn") == [1, 2, 3])
        #expect(cache.load("sep001bd4aabbcc.cnf.xml.enc.sgn") == nil)
        #expect(cache.load("SEP001BD4AABBCD.cnf.xml.enc.sgn") == nil)
        try cache.store("a/b", [4])
        try cache.store("a%2Fb", [5])
        #expect(cache.load("a/b") == [4])
        #expect(cache.load("a%2Fb") == [5])
        let entries = try FileManager.default.contentsOfDirectory(atPath: path)
        #expect(entries.count == 3)
        for entry in entries {
            let mode = try FileManager.default.attributesOfItem(atPath: path + "/" + entry)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
        let directoryMode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(directoryMode == 0o700)
    }

    @Test func reportListsCountersAndRecentTransfersAsTableAndJSON() throws {
        let statistics = TFTPStatistics(recentCapacity: 2)
        statistics.increment(.filesNotFound)
        for index in 0..<3 {
            statistics.record(.init(client: "192.0.2.7:1000", file: "f\(index)\"", bytes: 10, blockSize: 512, windowSize: 1,
                                    duration: .milliseconds(1500), outcome: "ok"))
        }
        #expect(statistics.recentTransfers.map(\.file) == ["f2\"", "f1\""])
        let table = statistics.report(json: false)
        #expect(table.contains("files_not_found"))
        #expect(table.contains("1.500"))
        #expect(!table.contains("f0"))
        let json = statistics.report(json: true)
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect((object?["counters"] as? [String: Int])?["files_not_found"] == 1)
        #expect((object?["recent_transfers"] as? [[String: Any]])?.first?["file"] as? String == "f2\"")
    }
}
