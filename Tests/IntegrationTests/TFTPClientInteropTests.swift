import Foundation
import Synchronization
import Testing

import TFTP
import Runtime

/// Debian's TFTP clients (tftp-hpa, atftp, curl) against the edge's TFTP server, and tftpd-hpa as
/// the call manager behind its proxy.
@Suite(.serialized) struct TFTPClientInteropTests {
    static let configuration = (0..<3000).map { UInt8(0x20 + $0 % 90) }
    static let firmware = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }

    static func tool(_ name: String) -> String? {
        let path = ExternalTool.path(name)
        if path == nil { Issue.record("\(name) is not installed; appliance/install-deps installs it") }
        return path
    }

    static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    /// Each client fetches a generated file and a file of the directory; each byte must match.
    @Test func debianClientsFetchGeneratedAndDirectoryFilesByteExact() async throws {
        let edge = try await TFTPEdge()
        defer { Task { await edge.stop() } }
        edge.runtime.generatedFiles.update(["SEP001BD4AABBCC.cnf.xml": Self.configuration])
        try FileManager.default.createDirectory(atPath: edge.root + "/firmware", withIntermediateDirectories: true)
        try Data(Self.firmware).write(to: URL(fileURLWithPath: edge.root + "/firmware/load.bin"))
        let out = edge.stateDirectory + "/downloads"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let port = String(edge.port)
        var fetched = 0
        for (name, expected) in [("SEP001BD4AABBCC.cnf.xml", Self.configuration), ("firmware/load.bin", Self.firmware)] {
            if let tftp = Self.tool("tftp") {
                let local = out + "/tftp-\(fetched)"
                let outcome = try ExternalTool.run(tftp, ["-m", "binary", "127.0.0.1", port, "-c", "get", name, local])
                #expect(Self.read(local) == expected, "tftp \(name): \(outcome.output)")
                fetched += 1
            }
            if let atftp = Self.tool("atftp") {
                let local = out + "/atftp-\(fetched)"
                let outcome = try ExternalTool.run(atftp, ["--get", "-r", name, "-l", local, "--option", "blksize 1428", "127.0.0.1", port])
                #expect(outcome.status == 0 && Self.read(local) == expected, "atftp \(name): \(outcome.output)")
                fetched += 1
            }
            if let curl = Self.tool("curl") {
                let local = out + "/curl-\(fetched)"
                let outcome = try ExternalTool.run(curl, ["-sS", "-o", local, "--tftp-blksize", "1428", "tftp://127.0.0.1:\(port)/\(name)"])
                #expect(outcome.status == 0 && Self.read(local) == expected, "curl \(name): \(outcome.output)")
                fetched += 1
            }
        }
        #expect(fetched > 0)
        #expect(edge.runtime.tftpStatistics[.transfersCompleted] == UInt64(fetched))
        #expect(edge.runtime.tftpStatistics.report(json: false).contains("firmware/load.bin"))
    }

    @Test func traversalAndWritesAreRefusedWithTheRightErrors() async throws {
        let edge = try await TFTPEdge()
        defer { Task { await edge.stop() } }
        let port = String(edge.port)
        let upload = edge.root + "/upload.txt"
        try Data("x".utf8).write(to: URL(fileURLWithPath: upload))
        let statistics = edge.runtime.tftpStatistics
        if let tftp = Self.tool("tftp") {
            let traversal = try ExternalTool.run(tftp, ["-m", "binary", "127.0.0.1", port, "-c", "get", "../../etc/passwd", edge.stateDirectory + "/p"])
            #expect(traversal.output.contains("Error code 2: '..' in filename"), "\(traversal.output)")
            let write = try ExternalTool.run(tftp, ["127.0.0.1", port, "-c", "put", upload, "upload.txt"])
            #expect(write.output.contains("Error code 2: the server is read-only"), "\(write.output)")
            let missing = try ExternalTool.run(tftp, ["127.0.0.1", port, "-c", "get", "missing.cfg", edge.stateDirectory + "/m"])
            #expect(missing.output.contains("Error code 1"), "\(missing.output)")
        }
        if let atftp = Self.tool("atftp") {
            let absolute = try ExternalTool.run(atftp, ["--get", "-r", "/etc/passwd", "-l", edge.stateDirectory + "/p", "127.0.0.1", port])
            #expect(absolute.status != 0 && absolute.output.contains("absolute filename"), "\(absolute.output)")
            let write = try ExternalTool.run(atftp, ["--put", "-r", "upload.txt", "-l", upload, "127.0.0.1", port])
            #expect(write.status != 0 && write.output.contains("read-only"), "\(write.output)")
        }
        if let curl = Self.tool("curl") {
            // curl reports ERROR 2 as exit 69 (permission problem) and ERROR 1 as 68.
            let traversal = try ExternalTool.run(curl, ["-sS", "--path-as-is", "-o", edge.stateDirectory + "/p", "tftp://127.0.0.1:\(port)/a/../../etc/passwd"])
            #expect(traversal.status == 69, "\(traversal.output)")
            let write = try ExternalTool.run(curl, ["-sS", "-T", upload, "tftp://127.0.0.1:\(port)/upload2.txt"])
            #expect(write.status == 69, "\(write.output)")
            let missing = try ExternalTool.run(curl, ["-sS", "-o", edge.stateDirectory + "/m", "tftp://127.0.0.1:\(port)/missing.cfg"])
            #expect(missing.status == 68, "\(missing.output)")
        }
        #expect(!FileManager.default.fileExists(atPath: edge.root + "/upload2.txt"))
        #expect(statistics[.accessViolations] + statistics[.writeRequestsRefused] > 0)
        #expect(statistics.activeTransfers == 0)
    }

    @Test func fiftyParallelDownloadsAllArriveWhole() async throws {
        guard let curl = Self.tool("curl") else { return }
        let edge = try await TFTPEdge(maximumTransfersPerClient: 64)
        defer { Task { await edge.stop() } }
        edge.runtime.generatedFiles.update(["firmware.bin": Self.firmware])
        let out = edge.stateDirectory + "/parallel"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let script = "for i in $(seq 1 50); do \(curl) -sS -o \(out)/$i --tftp-blksize 1428 tftp://127.0.0.1:\(edge.port)/firmware.bin & done; wait"
        let outcome = try ExternalTool.run("/bin/bash", ["-c", script], timeout: .seconds(120))
        #expect(!outcome.timedOut, "\(outcome.output)")
        for index in 1...50 {
            #expect(Self.read("\(out)/\(index)") == Self.firmware, "download \(index): \(outcome.output)")
        }
        #expect(try await edge.waitUntil { edge.runtime.tftpStatistics.activeTransfers == 0 })
        #expect(edge.runtime.tftpStatistics[.transfersCompleted] == 50)
    }

    @Test func proxyFetchesFromTheCallManagerAndTheCacheServesDuringAnOutage() async throws {
        guard ExternalTool.path("in.tftpd") != nil, let curl = Self.tool("curl") else {
            Issue.record("in.tftpd (tftpd-hpa) or curl missing; appliance/install-deps installs them")
            return
        }
        let callManager = try TFTPDaemonUnderTest()
        let encrypted = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        try callManager.write("SEP001BD4AABBCC.cnf.xml.enc.sgn", encrypted)
        try callManager.write("ITLFile.tlv", [1, 2, 3])
        try callManager.write("late.cfg", [4])
        let box = TrunkFlag(up: true)
        let edge = try await TFTPEdge(upstreamPort: callManager.port, upstreamAvailable: { box.isUp }, timeoutSeconds: 1, retries: 1)
        defer { Task { await edge.stop() } }
        edge.runtime.generatedFiles.update(["ITLFile.tlv": [9, 9]])
        let statistics = edge.runtime.tftpStatistics
        func fetch(_ name: String) throws -> (status: Int32, bytes: [UInt8]?) {
            let local = edge.stateDirectory + "/fetched-\(UUID().uuidString)"
            let outcome = try ExternalTool.run(curl, ["-sS", "-o", local, "--tftp-blksize", "1428", "tftp://127.0.0.1:\(edge.port)/\(name)"])
            return (outcome.status, Self.read(local))
        }

        // Trunk up: fetched from the call manager byte for byte and cached under its exact name.
        #expect(try fetch("SEP001BD4AABBCC.cnf.xml.enc.sgn").bytes == encrypted)
        #expect(statistics[.upstreamFetches] == 1)
        let cached = edge.stateDirectory + "/tftp-cache/SEP001BD4AABBCC.cnf.xml.enc.sgn"
        #expect(Self.read(cached) == encrypted)
        // Generated files win over the call manager's.
        #expect(try fetch("ITLFile.tlv").bytes == [9, 9])
        // Another device's name is not this device's cached file.
        #expect(try fetch("SEP001BD4AABBCD.cnf.xml.enc.sgn").status == 68)

        // Trunk down: the cache answers, and what was never cached is not found.
        box.set(false)
        #expect(try fetch("SEP001BD4AABBCC.cnf.xml.enc.sgn").bytes == encrypted)
        #expect(statistics[.cacheHits] == 1)
        #expect(try fetch("late.cfg").status == 68)

        // Trunk said up but the call manager is gone: after its timeout the cache answers.
        callManager.stop()
        box.set(true)
        #expect(try fetch("SEP001BD4AABBCC.cnf.xml.enc.sgn").bytes == encrypted)
        #expect(statistics[.upstreamFailures] >= 1)
        #expect(statistics[.cacheHits] == 2)
        #expect(try await edge.waitUntil { statistics.activeTransfers == 0 })
    }
}

/// The trunk state the test flips, as the registrar will.
final class TrunkFlag: Sendable {
    private let state: Atomic<Bool>
    init(up: Bool) { state = Atomic(up) }
    var isUp: Bool { state.load(ordering: .relaxed) }
    func set(_ up: Bool) { state.store(up, ordering: .relaxed) }
}
