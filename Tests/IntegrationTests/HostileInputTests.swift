import Foundation
import Runtime
import SIPTransport
import Testing

/// Truncated, oversized, binary and header-bomb input on live listeners: answered or dropped with
/// a counter, never a crash, and the edge keeps serving.
@Suite(.serialized) struct HostileInputTests {
    func assertStillServes(_ edge: EdgeUnderTest) throws {
        let udp = try LoopbackSocket(udp: true, port: edge.port)
        udp.send(SIPProbe.options(port: edge.port))
        let answer = try #require(udp.receive())
        #expect(answer.hasPrefix("SIP/2.0 200 OK"))
    }

    @Test func udpGarbageIsCountedAndAnsweredWhereAddressable() async throws {
        let edge = try await EdgeUnderTest.start()
        let udp = try LoopbackSocket(udp: true, port: edge.port)
        var random = SystemRandomNumberGenerator()
        for index in 0..<200 {
            // Random bytes that cannot be mistaken for a CRLF keep-alive.
            udp.send([0x01] + (0..<Int.random(in: 1...1400, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
            // Pace the burst so the socket's receive buffer does not overflow on a slow debug build.
            if index % 10 == 9 { try await Task.sleep(for: .milliseconds(20)) }
        }
        udp.send("INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1")
        for _ in 0..<100 where edge.statistics[.parseErrors] < 201 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(edge.statistics[.parseErrors] == 201)
        #expect(edge.statistics[.malformedDropped] == 200)
        // The truncated INVITE has a Via to answer along, and is answered (issue 16 §5).
        let truncatedAnswer = try #require(udp.receive())
        #expect(truncatedAnswer.hasPrefix("SIP/2.0 400 Bad message"))
        let bomb = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKbomb\r\nCall-ID: bomb\r\nCSeq: 1 OPTIONS\r\n"
            + String(repeating: "X-Bomb: 1\r\n", count: 2000) + "\r\n"
        udp.send(bomb)
        let bombAnswer = try #require(udp.receive())
        #expect(bombAnswer.hasPrefix("SIP/2.0 400 Bad message: more than 256 header fields"))
        try assertStillServes(edge)
        #expect(edge.statistics[.parseErrors] == 202)
        #expect(edge.statistics[.badRequestsAnswered] == 2)
        await edge.stop()
    }

    @Test func oversizeTCPMessageGets513AndTheConnectionIsClosed() async throws {
        let edge = try await EdgeUnderTest.start(maximumMessageSize: 4096)
        let tcp = try LoopbackSocket(udp: false, port: edge.port)
        tcp.send(SIPProbe.options(port: edge.port, transport: "TCP").replacingOccurrences(of: "Content-Length: 0", with: "Content-Length: 100000"))
        let answer = try #require(tcp.receive())
        #expect(answer.hasPrefix("SIP/2.0 513 "))
        #expect(tcp.peerClosed())
        #expect(edge.statistics[.oversizeMessages] == 1)
        try assertStillServes(edge)
        await edge.stop()
    }

    @Test func endlessHeaderSectionOverTCPIsCutOff() async throws {
        let edge = try await EdgeUnderTest.start(maximumMessageSize: 4096)
        let tcp = try LoopbackSocket(udp: false, port: edge.port)
        tcp.send("OPTIONS sip:x SIP/2.0\r\n")
        var sent = 0
        while sent < 20_000, tcp.send("X-Padding: \(String(repeating: "a", count: 100))\r\n") { sent += 113 }
        #expect(tcp.peerClosed())
        #expect(edge.statistics[.oversizeMessages] == 1)
        try assertStillServes(edge)
        await edge.stop()
    }

    @Test func truncatedAndHalfOpenTCPConnectionsAreFreed() async throws {
        // All 100 come from 127.0.0.1; the per-address cap has its own test (StreamFloodTests).
        let edge = try await EdgeUnderTest.start(idleTimeoutSeconds: 3) { $0.sip.maximumConnectionsPerAddress = 1_000 }
        var sockets: [LoopbackSocket] = []
        for index in 0..<100 {
            let tcp = try LoopbackSocket(udp: false, port: edge.port)
            if index % 2 == 0 { tcp.send("OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1") }
            sockets.append(tcp)
        }
        // Polled rather than slept: on a loaded machine the edge may take a moment to accept.
        for _ in 0..<50 where edge.runtime.connections.count(of: .tcp) < 100 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(edge.runtime.connections.count(of: .tcp) == 100)
        for _ in 0..<400 where edge.runtime.connections.count(of: .tcp) > 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(edge.runtime.connections.count(of: .tcp) == 0)
        #expect(edge.statistics[.idleConnectionsClosed] == 100)
        #expect(sockets[0].peerClosed())
        try assertStillServes(edge)
        await edge.stop()
    }

    @Test func tcpKeepAlivePingIsAnsweredAndMessagesFollow() async throws {
        let edge = try await EdgeUnderTest.start()
        let tcp = try LoopbackSocket(udp: false, port: edge.port)
        tcp.send("\r\n\r\n")
        #expect(tcp.receive() == "\r\n")
        tcp.send(SIPProbe.options(port: edge.port, transport: "TCP") + SIPProbe.options(port: edge.port, transport: "TCP"))
        var answers = ""
        while answers.components(separatedBy: "SIP/2.0 200 OK").count < 3, let more = tcp.receive() { answers += more }
        #expect(answers.components(separatedBy: "SIP/2.0 200 OK").count == 3)
        await edge.stop()
    }
}
