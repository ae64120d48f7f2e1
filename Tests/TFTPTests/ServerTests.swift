import NIOCore
import Testing

@testable import TFTP
import TFTPProtocol

@Suite struct ServerTests {
    static let file = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }

    @Test(arguments: [(512, 1), (1428, 1), (1428, 16), (8, 4)])
    func clientDownloadsByteExact(blockSize: Int, windowSize: Int) async throws {
        let small = Array(Self.file[..<1000])
        let server = try await LoopbackServer(source: TFTPGeneratedFiles(["Firmware.bin": Self.file, "small": small]))
        defer { Task { await server.stop() } }
        // At blksize 8 the small file takes 126 blocks, enough windows to exercise the window logic.
        let (name, expected) = blockSize == 8 ? ("small", small) : ("firmware.BIN", Self.file)
        #expect(try await server.download(name, blockSize: blockSize, windowSize: windowSize) == expected)
        #expect(try await server.waitUntil { server.statistics.activeTransfers == 0 })
        #expect(server.statistics[.transfersCompleted] == 1)
        #expect(server.statistics.recentTransfers.first?.windowSize == min(windowSize, 16))
    }

    @Test func emptyAndBlockMultipleFilesEndWithAShortBlock() async throws {
        let server = try await LoopbackServer(source: TFTPGeneratedFiles(["empty": [], "exact": Array(Self.file[..<1024])]))
        defer { Task { await server.stop() } }
        #expect(try await server.download("empty", blockSize: 512) == [])
        #expect(try await server.download("exact", blockSize: 512, windowSize: 2) == Array(Self.file[..<1024]))
    }

    @Test func refusalsCarryTheRightCodeAndAreCounted() async throws {
        let server = try await LoopbackServer(source: TFTPGeneratedFiles(["a.cfg": [1]]))
        defer { Task { await server.stop() } }
        let probe = try await DatagramProbe()
        defer { Task { await probe.close() } }
        let cases: [(TFTPPacket, TFTPErrorCode)] = [
            (.writeRequest(TFTPRequest(filename: "a.cfg", mode: .octet)), .accessViolation),
            (.readRequest(TFTPRequest(filename: "missing.cfg", mode: .octet)), .fileNotFound),
            (.readRequest(TFTPRequest(filename: "../etc/passwd", mode: .octet)), .accessViolation),
            (.readRequest(TFTPRequest(filename: "/etc/passwd", mode: .octet)), .accessViolation),
            (.readRequest(TFTPRequest(filename: "a\\b", mode: .octet)), .accessViolation),
            (.readRequest(TFTPRequest(filename: "a\u{1}b", mode: .octet)), .accessViolation),
            (.readRequest(TFTPRequest(filename: "a.cfg", mode: .mail)), .illegalOperation),
        ]
        for (request, code) in cases {
            try await probe.send(request, to: server.address)
            let answer = try await probe.next()
            guard case .error(let got, let message)? = answer?.packet else { Issue.record("no ERROR for \(request)"); continue }
            #expect(got == code, "\(request): \(message)")
        }
        #expect(server.statistics[.writeRequestsRefused] == 1)
        #expect(server.statistics[.filesNotFound] == 1)
        #expect(server.statistics[.accessViolations] == 4)
        #expect(server.statistics[.unsupportedModes] == 1)
        #expect(server.statistics.recentTransfers.first?.outcome.hasPrefix("error 4") == true)
    }

    @Test func hostileDatagramsAreCountedAndTheServerKeepsServing() async throws {
        let server = try await LoopbackServer(source: TFTPGeneratedFiles(["a.cfg": [1, 2, 3]]))
        defer { Task { await server.stop() } }
        let probe = try await DatagramProbe()
        defer { Task { await probe.close() } }
        var manyOptions: [UInt8] = [0, 1] + Array("a.cfg".utf8) + [0] + Array("octet".utf8) + [0]
        for index in 0..<2000 { manyOptions += Array("o\(index)".utf8) + [0, 0x31, 0] }
        let hostile: [[UInt8]] = [
            [], [0], [0xFF, 0xFF, 1, 2], [0, 9, 0], Array(repeating: 0x41, count: 65_000), manyOptions,
            [0, 1, 0x61, 0], [0, 1] + Array("a.cfg".utf8) + [0] + Array("bogus".utf8) + [0],
            [0, 1, 0xC3, 0x28, 0] + Array("octet".utf8) + [0],
        ]
        for datagram in hostile { try await probe.send(datagram, to: server.address) }
        #expect(try await server.waitUntil { server.statistics[.malformedPackets] == UInt64(hostile.count) })
        // Packets that belong to a transfer, sent to the listener, are answered and counted too.
        try await probe.send(.acknowledgement(block: 1), to: server.address)
        try await probe.send(.error(code: .notDefined, message: "x"), to: server.address)
        #expect(try await server.waitUntil { server.statistics[.unexpectedPackets] == 2 })
        #expect(try await server.download("a.cfg") == [1, 2, 3])
    }

    @Test func limitsRefuseTransfersBeyondThemAndFreeTheirSlots() async throws {
        let server = try await LoopbackServer(
            source: TFTPGeneratedFiles(["big": Self.file]),
            settings: TFTPServerSettings(maximumTransfers: 3, maximumTransfersPerClient: 2, timeout: .seconds(2), retries: 1))
        defer { Task { await server.stop() } }
        // Silent clients: each request holds a slot until the server gives up on it.
        var probes: [DatagramProbe] = []
        for _ in 0..<3 { probes.append(try await DatagramProbe()) }
        defer { for probe in probes { Task { await probe.close() } } }
        try await probes[0].send(.readRequest(TFTPRequest(filename: "big", mode: .octet)), to: server.address)
        try await probes[1].send(.readRequest(TFTPRequest(filename: "big", mode: .octet)), to: server.address)
        #expect(try await server.waitUntil { server.statistics.activeTransfers == 2 })
        try await probes[2].send(.readRequest(TFTPRequest(filename: "big", mode: .octet)), to: server.address)
        var refusal: TFTPPacket?
        for _ in 0..<5 {
            guard let answer = try await probes[2].next() else { break }
            if case .error = answer.packet { refusal = answer.packet; break }
        }
        guard case .error(let code, let message)? = refusal else { Issue.record("third transfer from one host not refused"); return }
        #expect(code == .notDefined)
        #expect(message.contains("too many transfers"))
        #expect(server.statistics[.tooManyTransfersFromClient] == 1)
        #expect(try await server.waitUntil(seconds: 20) { server.statistics.activeTransfers == 0 })
        #expect(server.statistics[.transfersTimedOut] == 2)
        #expect(try await server.download("big") == Self.file)
    }

    /// The slot hog: read requests asking for `timeout=255` and never acknowledged, each from its own port.
    private static func hog(_ server: LoopbackServer, requests: Int) async throws -> [DatagramProbe] {
        var probes: [DatagramProbe] = []
        for _ in 0..<requests {
            let probe = try await DatagramProbe()
            probes.append(probe)
            try await probe.send(
                .readRequest(TFTPRequest(filename: "big", mode: .octet, options: [TFTPOption(name: "timeout", value: "255")])),
                to: server.address)
        }
        return probes
    }

    @Test func oneAddressHoggingSlotsGetsOnlyItsShareAndAnotherAddressStillDownloads() async throws {
        // No deadline at all: the per-client cap alone must keep the pool open for others.
        let server = try await LoopbackServer(
            source: TFTPGeneratedFiles(["big": Self.file]),
            settings: TFTPServerSettings(maximumTransfers: 10, maximumTransfersPerClient: 4, retries: 5, transferDeadline: nil))
        defer { Task { await server.stop() } }
        let probes = try await Self.hog(server, requests: 12)
        defer { for probe in probes { Task { await probe.close() } } }
        #expect(try await server.waitUntil { server.statistics[.tooManyTransfersFromClient] == 8 })
        #expect(server.statistics.activeTransfers == 4)
        #expect(try await server.download("big", fromOtherAddress: true) == Self.file)
        // The server records the transfer when the last ACK arrives, just after the client returns.
        #expect(try await server.waitUntil {
            server.statistics.recentTransfers.contains { $0.client.hasPrefix("127.0.0.2:") && $0.outcome == "ok" }
        })
        #expect(server.statistics[.tooManyTransfers] == 0)
    }

    @Test func hogsThatFillThePoolGiveTheirSlotsBackAtTheDeadlineNotAfterTheirTimeout() async throws {
        // The hogs fill the whole pool; with timeout=255 and 5 retries they would hold it 25 minutes.
        let server = try await LoopbackServer(
            source: TFTPGeneratedFiles(["big": Self.file]),
            settings: TFTPServerSettings(maximumTransfers: 4, maximumTransfersPerClient: 4, retries: 5, transferDeadline: .seconds(2)))
        defer { Task { await server.stop() } }
        let probes = try await Self.hog(server, requests: 4)
        defer { for probe in probes { Task { await probe.close() } } }
        #expect(try await server.waitUntil { server.statistics[.transfersStarted] == 4 })
        let phone = try await DatagramProbe(host: "127.0.0.2")
        defer { Task { await phone.close() } }
        try await phone.send(.readRequest(TFTPRequest(filename: "big", mode: .octet)), to: server.address)
        let refusal = try #require(try await phone.next())
        #expect(refusal.packet == .error(code: .notDefined, message: "too many transfers (4 at once)"))
        // Bounded well below the negotiated 255 s, generous for a loaded machine.
        #expect(try await server.waitUntil(seconds: 15) { server.statistics.activeTransfers == 0 })
        #expect(server.statistics[.transfersPastDeadline] == 4)
        #expect(server.statistics.recentTransfers.first?.outcome == "deadline")
        // Each hog was told why.
        var told: TFTPPacket?
        for _ in 0..<3 {
            guard let answer = try await probes[0].next(seconds: 2) else { break }
            if case .error = answer.packet { told = answer.packet; break }
        }
        #expect(told == .error(code: .notDefined, message: TFTPReadTransfer.deadlineMessage))
        #expect(try await server.download("big", fromOtherAddress: true) == Self.file)
    }

    @Test func aClientThatStopsAcknowledgingIsTimedOutAndAStrangerGetsError5() async throws {
        let server = try await LoopbackServer(
            // Generous: on a loaded machine the test's own steps must fit well inside the timeout.
            source: TFTPGeneratedFiles(["big": Self.file]), settings: TFTPServerSettings(timeout: .seconds(2), retries: 2))
        defer { Task { await server.stop() } }
        let client = try await DatagramProbe()
        let stranger = try await DatagramProbe()
        defer { Task { await client.close(); await stranger.close() } }
        try await client.send(.readRequest(TFTPRequest(filename: "big", mode: .octet)), to: server.address)
        let first = try #require(try await client.next())
        #expect(first.packet == .data(block: 1, payload: Array(Self.file[..<512])))
        #expect(first.from != server.address)
        // A repeated RRQ while the transfer runs starts no second transfer.
        try await client.send(.readRequest(TFTPRequest(filename: "big", mode: .octet)), to: server.address)
        try await stranger.send(.acknowledgement(block: 1), to: first.from)
        let answer = try #require(try await stranger.next())
        #expect(answer.packet.map { if case .error(.unknownTransferID, _) = $0 { true } else { false } } == true)
        // The transfer goes on: ACK 1 brings block 2.
        try await client.send(.acknowledgement(block: 1), to: first.from)
        var second: TFTPPacket?
        for _ in 0..<5 {
            guard let next = try await client.next() else { break }
            if case .data(2, _) = next.packet { second = next.packet; break }
        }
        #expect(second == .data(block: 2, payload: Array(Self.file[512..<1024])))
        #expect(server.statistics[.duplicateRequests] == 1)
        #expect(server.statistics[.unknownTransferID] == 1)
        #expect(try await server.waitUntil(seconds: 20) { server.statistics.activeTransfers == 0 })
        #expect(server.statistics[.transfersTimedOut] == 1)
        #expect(server.statistics.recentTransfers.first?.outcome == "timeout")
        #expect(server.statistics.recentTransfers.first?.bytes == 512)
    }

    @Test func netasciiConvertsLineEnds() async throws {
        let server = try await LoopbackServer(source: TFTPGeneratedFiles(["a.txt": Array("one\ntwo\r".utf8)]))
        defer { Task { await server.stop() } }
        let probe = try await DatagramProbe()
        defer { Task { await probe.close() } }
        try await probe.send(.readRequest(TFTPRequest(filename: "a.txt", mode: .netascii)), to: server.address)
        let answer = try #require(try await probe.next())
        #expect(answer.packet == .data(block: 1, payload: Array("one\r\ntwo\r\0".utf8)))
        try await probe.send(.acknowledgement(block: 1), to: answer.from)
        #expect(try await server.waitUntil { server.statistics[.transfersCompleted] == 1 })
    }
}
