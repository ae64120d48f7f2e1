import Foundation
import MediaPeerSupport
import SRTP
import Testing
import TestRequirementSupport

/// One call through rtpengine between our two legs: `plain` speaks RTP/AVP, `secure` speaks
/// RTP/SAVP with SDES. rtpengine encrypts what goes to `secure` with the key it put in its SDP
/// (`engineKey`), and decrypts what `secure` sends with the key we put in ours (`ourKey`).
final class BridgedCall {
    enum Offerer: String, CustomStringConvertible, CaseIterable {
        case plain, secure
        var description: String { rawValue }
    }

    let engine: RtpengineProcess
    let callID = "outpost-\(UInt32.random(in: 0...UInt32.max))"
    let suite: SRTPSuite
    let plain: RTPStreamer
    let secure: RTPStreamer
    /// rtpengine's port for each leg: where that leg sends, and where its media comes from.
    private(set) var engineTowardsPlain: UInt16 = 0
    private(set) var engineTowardsSecure: UInt16 = 0
    private(set) var engineKey: [UInt8] = []
    let ourKey: [UInt8]
    /// The SDP rtpengine returned, for failure messages.
    private(set) var rewritten: [String] = []

    static let common: [String: BencodeValue] = ["ICE": "remove", "DTLS": "off", "replace": ["origin", "session-connection"]]

    init(engine: RtpengineProcess, suite: SRTPSuite, offerer: Offerer) throws {
        self.engine = engine
        self.suite = suite
        plain = try RTPStreamer(ssrc: 0x1111_0000 | UInt32.random(in: 0...0xffff))
        secure = try RTPStreamer(ssrc: 0x2222_0000 | UInt32.random(in: 0...0xffff))
        ourKey = SDESCrypto.randomKey(length: suite.keyAndSaltLength)
        let control = engine.control
        let sdes = RtpengineControl.sdesOnly(suite.sdpName)

        switch offerer {
        case .plain:
            var flags = Self.common
            flags["transport-protocol"] = "RTP/SAVP"
            flags["SDES"] = sdes
            let offer = try control.offer(
                callID: callID, fromTag: "plain", sdp: PeerSDP(port: plain.port, transport: "RTP/AVP").render(), flags: flags)
            rewritten.append(offer.sdp)
            let towardsSecure = try Self.parse(offer.sdp, transport: "RTP/SAVP", suite: suite)
            engineTowardsSecure = towardsSecure.port
            engineKey = towardsSecure.crypto[0].keyAndSalt
            let answerSDP = PeerSDP(
                port: secure.port, transport: "RTP/SAVP",
                crypto: [SDESCrypto(tag: towardsSecure.crypto[0].tag, suite: suite.sdpName, keyAndSalt: ourKey)])
            var answerFlags = Self.common
            answerFlags["transport-protocol"] = "RTP/AVP"
            let answer = try control.answer(callID: callID, fromTag: "plain", toTag: "secure", sdp: answerSDP.render(), flags: answerFlags)
            rewritten.append(answer.sdp)
            engineTowardsPlain = try Self.parse(answer.sdp, transport: "RTP/AVP", suite: nil).port
        case .secure:
            var flags = Self.common
            flags["transport-protocol"] = "RTP/AVP"
            let offerSDP = PeerSDP(
                port: secure.port, transport: "RTP/SAVP", crypto: [SDESCrypto(tag: 1, suite: suite.sdpName, keyAndSalt: ourKey)])
            let offer = try control.offer(callID: callID, fromTag: "secure", sdp: offerSDP.render(), flags: flags)
            rewritten.append(offer.sdp)
            engineTowardsPlain = try Self.parse(offer.sdp, transport: "RTP/AVP", suite: nil).port
            var answerFlags = Self.common
            answerFlags["transport-protocol"] = "RTP/SAVP"
            answerFlags["SDES"] = sdes
            let answer = try control.answer(
                callID: callID, fromTag: "secure", toTag: "plain", sdp: PeerSDP(port: plain.port, transport: "RTP/AVP").render(),
                flags: answerFlags)
            rewritten.append(answer.sdp)
            let towardsSecure = try Self.parse(answer.sdp, transport: "RTP/SAVP", suite: suite)
            #expect(towardsSecure.crypto[0].tag == 1, "rtpengine answers the tag we offered")
            engineTowardsSecure = towardsSecure.port
            engineKey = towardsSecure.crypto[0].keyAndSalt
        }
        #expect(engineKey.count == suite.keyAndSaltLength)
        #expect(engineKey != ourKey)
    }

    deinit {
        if engine.isRunning {
            _ = try? RtpengineControl(port: engine.controlPort, attemptTimeout: .milliseconds(300), attempts: 1).delete(callID: callID)
        }
        plain.close()
        secure.close()
    }

    struct SDPMismatch: Error, CustomStringConvertible {
        let description: String
    }

    /// rtpengine's SDP for one leg: loopback, the transport we asked for, and (for the SRTP leg)
    /// exactly one crypto line of our suite.
    static func parse(_ sdp: String, transport: String, suite: SRTPSuite?) throws -> PeerSDP {
        guard let parsed = PeerSDP(parsing: sdp) else { throw SDPMismatch(description: "no audio stream in\n\(sdp)") }
        guard parsed.address == "127.0.0.1", parsed.transport == transport else {
            throw SDPMismatch(description: "expected \(transport) on 127.0.0.1 in\n\(sdp)")
        }
        if let suite {
            guard parsed.crypto.count == 1, parsed.crypto[0].suite == suite.sdpName else {
                throw SDPMismatch(description: "expected one \(suite) crypto line in\n\(sdp)")
            }
        } else if !parsed.crypto.isEmpty || parsed.attributes.contains(where: { $0.hasPrefix("fingerprint") }) {
            throw SDPMismatch(description: "plain leg offered crypto in\n\(sdp)")
        }
        return parsed
    }

    var context: String {
        "call \(callID) \(suite): plain \(plain.port) <-> rtpengine \(engineTowardsPlain) | rtpengine \(engineTowardsSecure) <-> secure \(secure.port)\n"
            + rewritten.joined(separator: "\n") + "\n--- rtpengine log ---\n" + engine.logTail()
    }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct RtpengineSRTPTests {
    static let packets = 25
    static let tone = ToneSignal.pcmuPayloads(frequency: 1000, packets: packets)

    static func engine() throws -> RtpengineProcess? {
        guard TestRequirement.tool(RtpengineProcess.defaultExecutable) else { return nil }
        return try RtpengineProcess()
    }

    /// Plain tone into the plain leg; SRTP out of the secure leg, which we decrypt with the key
    /// rtpengine wrote in its SDP.
    static func checkPlainToSecure(_ call: BridgedCall, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let sent = try call.plain.send(payloads: tone, to: call.engineTowardsPlain, interval: .milliseconds(5))
        let inbound = try SRTPSession(suite: call.suite, masterKeyAndSalt: call.engineKey, direction: .inbound)
        let (received, rejected) = try call.secure.receive(count: packets, timeout: .seconds(3), srtp: inbound)
        #expect(rejected.isEmpty, "\(rejected)\n\(call.context)", sourceLocation: sourceLocation)
        try #require(received.count == packets, "\(received.count) of \(packets) SRTP packets\n\(call.context)", sourceLocation: sourceLocation)
        #expect(received.allSatisfy { $0.sourcePort == call.engineTowardsSecure }, sourceLocation: sourceLocation)
        #expect(received.allSatisfy { $0.wireLength == RTPHeader.length + ToneSignal.samplesPerPacket + call.suite.rtpTagLength },
                "an SRTP packet carries the \(call.suite.rtpTagLength)-byte tag", sourceLocation: sourceLocation)
        #expect(received.map(\.header.payloadType) == Array(repeating: 0, count: packets), sourceLocation: sourceLocation)
        #expect(received.map(\.header.sequenceNumber) == sent.map(\.sequenceNumber), sourceLocation: sourceLocation)
        #expect(received.map(\.payload) == tone, "rtpengine forwards the payload unchanged", sourceLocation: sourceLocation)
        let report = ToneSignal.analyse(samples: ToneSignal.decodePCMU(received.map(\.payload)), expected: 1000)
        #expect(report.isDominant(byAtLeast: 20), "\(report)", sourceLocation: sourceLocation)
    }

    /// SRTP with our key into the secure leg; plain RTP with the tone out of the plain leg.
    static func checkSecureToPlain(_ call: BridgedCall, key: [UInt8]? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let outbound = try SRTPSession(suite: call.suite, masterKeyAndSalt: key ?? call.ourKey, direction: .outbound)
        let sent = try call.secure.send(payloads: tone, to: call.engineTowardsSecure, interval: .milliseconds(5), srtp: outbound)
        let (received, rejected) = try call.plain.receive(count: packets, timeout: .seconds(3))
        #expect(rejected.isEmpty, "\(rejected)", sourceLocation: sourceLocation)
        try #require(received.count == packets, "\(received.count) of \(packets) RTP packets\n\(call.context)", sourceLocation: sourceLocation)
        #expect(received.allSatisfy { $0.sourcePort == call.engineTowardsPlain }, sourceLocation: sourceLocation)
        #expect(received.allSatisfy { $0.wireLength == RTPHeader.length + ToneSignal.samplesPerPacket }, sourceLocation: sourceLocation)
        #expect(received.map(\.header.sequenceNumber) == sent.map(\.sequenceNumber), sourceLocation: sourceLocation)
        #expect(received.map(\.payload) == tone, sourceLocation: sourceLocation)
        let report = ToneSignal.analyse(samples: ToneSignal.decodePCMU(received.map(\.payload)), expected: 1000)
        #expect(report.isDominant(byAtLeast: 20), "\(report)", sourceLocation: sourceLocation)
    }

    @Test func startsAnswersPingAndStops() throws {
        guard let engine = try Self.engine() else { return }
        defer { engine.stop() }
        try engine.control.ping()
        #expect(throws: RtpengineError.self) { try engine.control.request(["command": "no-such-command"]) }
        engine.stop()
        #expect(!engine.isRunning)
        let silent = RtpengineControl(port: engine.controlPort, attemptTimeout: .milliseconds(100), attempts: 2)
        #expect {
            try silent.ping()
        } throws: { error in
            if case .timeout(_, 2) = error as? RtpengineError { true } else { false }
        }
    }

    /// Both directions of one call, for each suite and for either leg making the offer.
    @Test(arguments: [SRTPSuite.aesCM128HMACSHA1_80, .aeadAES128GCM], BridgedCall.Offerer.allCases)
    func bridgesPlainAndSRTP(suite: SRTPSuite, offerer: BridgedCall.Offerer) throws {
        guard let engine = try Self.engine() else { return }
        defer { engine.stop() }
        let call = try BridgedCall(engine: engine, suite: suite, offerer: offerer)
        try Self.checkPlainToSecure(call)
        try Self.checkSecureToPlain(call)

        let stats = try engine.control.query(callID: call.callID)
        #expect(stats["tags"]?["plain"] != nil && stats["tags"]?["secure"] != nil, "\(BencodeValue.dictionary(stats))")
    }

    /// The checks can fail: rtpengine drops SRTP under a key it was not given, and its SRTP does
    /// not authenticate under any key but the one in its SDP.
    @Test func aWrongKeyIsRefusedBothWays() throws {
        guard let engine = try Self.engine() else { return }
        defer { engine.stop() }
        let call = try BridgedCall(engine: engine, suite: .aesCM128HMACSHA1_80, offerer: .plain)

        var otherKey = call.ourKey
        otherKey[0] ^= 0x01
        let outbound = try SRTPSession(suite: call.suite, masterKeyAndSalt: otherKey, direction: .outbound)
        try call.secure.send(payloads: Self.tone, to: call.engineTowardsSecure, interval: .milliseconds(5), srtp: outbound)
        let (leaked, _) = try call.plain.receive(count: 1, timeout: .milliseconds(500))
        #expect(leaked.isEmpty, "rtpengine forwarded SRTP that does not authenticate\n\(call.context)")

        try call.plain.send(payloads: Self.tone, to: call.engineTowardsPlain, interval: .milliseconds(5))
        var wrongKey = call.engineKey
        wrongKey[wrongKey.count - 1] ^= 0x80
        let inbound = try SRTPSession(suite: call.suite, masterKeyAndSalt: wrongKey, direction: .inbound)
        let (accepted, rejected) = try call.secure.receive(count: Self.packets, timeout: .seconds(2), srtp: inbound)
        #expect(accepted.isEmpty)
        #expect(rejected.count == Self.packets, "\(rejected.count) rejected\n\(call.context)")
        #expect(rejected.allSatisfy { $0.contains("authentication failed") }, "\(rejected.prefix(3))")
    }

    /// On the wire, as tshark sees it: the secure leg carries SRTP (RTP headers, the tag, no tone
    /// bytes), the plain leg carries PT 0 RTP whose payloads are exactly the tone we sent.
    @Test func tsharkSeesSRTPOnlyOnTheSecureLeg() throws {
        guard TestRequirement.tool(PacketCapture.tshark) else { return }
        guard geteuid() == 0 else {
            TestRequirement.unmet("capturing on lo needs root")
            return
        }
        guard let engine = try Self.engine() else { return }
        defer { engine.stop() }
        let call = try BridgedCall(engine: engine, suite: .aesCM128HMACSHA1_80, offerer: .plain)
        let capture = try PacketCapture(ports: [call.plain.port, call.secure.port], maximumDuration: 20)
        defer { capture.stop() }
        try Self.checkPlainToSecure(call)
        try Self.checkSecureToPlain(call)
        let datagrams = try capture.datagrams(decodingAsRTP: [call.plain.port, call.secure.port])

        let plainLeg = datagrams.filter { $0.sourcePort == call.plain.port || $0.destinationPort == call.plain.port }
        let secureLeg = datagrams.filter { $0.sourcePort == call.secure.port || $0.destinationPort == call.secure.port }
        #expect(plainLeg.count == 2 * Self.packets, "\(plainLeg.count) on the plain leg; \(capture.stderr)")
        #expect(secureLeg.count == 2 * Self.packets, "\(secureLeg.count) on the secure leg")

        let toneSet = Set(Self.tone)
        for datagram in plainLeg {
            #expect(datagram.rtpVersion == 2 && datagram.rtpPayloadType == 0, "tshark decodes PCMU RTP: \(datagram)")
            #expect(datagram.payload.count == RTPHeader.length + ToneSignal.samplesPerPacket)
            #expect(datagram.rtpPayload.map { toneSet.contains($0) } == true, "a plain payload is one of the tone's packets")
        }
        #expect(Set(plainLeg.compactMap(\.rtpPayload)) == toneSet, "every tone packet crossed the plain leg, both ways")

        for datagram in secureLeg {
            #expect(datagram.rtpVersion == 2 && datagram.rtpPayloadType == 0, "the SRTP header is in clear: \(datagram)")
            #expect(datagram.payload.count == RTPHeader.length + ToneSignal.samplesPerPacket + SRTPSuite.aesCM128HMACSHA1_80.rtpTagLength)
            let body = Array(datagram.payload.dropFirst(RTPHeader.length).prefix(ToneSignal.samplesPerPacket))
            #expect(!toneSet.contains(body), "tone bytes in clear on the secure leg")
        }
        let ciphertext = secureLeg.map { Array($0.payload.dropFirst(RTPHeader.length).prefix(ToneSignal.samplesPerPacket)) }
        let report = ToneSignal.analyse(samples: ToneSignal.decodePCMU(ciphertext), expected: 1000)
        #expect(!report.isDominant(byAtLeast: 20), "the secure leg's payloads still sound like the tone: \(report)")
    }
}
