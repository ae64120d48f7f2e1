import Edge
import Foundation
import Runtime
import SIP
import Testing
import TestRequirementSupport

/// Calls between real baresip phones through the edge's B2BUA, in survivable mode (no trunk):
/// both register over mutual TLS with their certificates, A (line 2001, 440 Hz) dials 2002 (B,
/// 1000 Hz). The edge anchors the media, keys each leg on its own and writes a call record.
@Suite(.serialized, .timeLimit(.minutes(2))) struct BaresipCallTests {
    static let toneOfA = 440.0
    static let toneOfB = 1000.0

    /// The relay's ports in this suite, which its captures watch.
    static let mediaPorts = PacketCapture.mediaPortWindow()

    static func inventory(_ configuration: inout OutpostConfiguration) {
        configuration.media.portMin = mediaPorts.lowerBound
        configuration.media.portMax = mediaPorts.upperBound
        configuration.devices = [
            Device(name: "SEP001122334455", lines: [DeviceLine(number: "2001", displayName: "Reception")], security: .encrypted),
            Device(name: "SEP00AABBCCDD02", lines: [DeviceLine(number: "2002")], security: .encrypted),
            Device(name: "soft-3001", lines: [DeviceLine(number: "3001")], security: .nonSecure, digest: DigestAccount(username: "3001", password: "s3cret")),
        ]
        // baresip 1.0.0 (libre) fails the whole registration with ENOSYS when any challenge names
        // an algorithm it lacks, even beside an MD5 one it could answer: MD5 alone for it.
        configuration.registrar.digestAlgorithms = [.md5]
    }

    static func phone(
        line: String, certificate: String, tone: Double, edge: EdgeUnderTest, encryption: BaresipPhone.MediaEncryption? = .srtpMandatory
    ) throws -> BaresipPhone {
        try BaresipPhone(
            name: line,
            account: .init(
                aor: "sip:\(line)@edge.test", transport: .tls, outboundProxy: "sip:127.0.0.1:\(edge.tlsPort);transport=tls",
                registrationInterval: 60, mediaEncryption: encryption),
            toneFrequency: tone,
            tls: .init(certificate: IntegrationPKI.path("\(certificate).pem"), key: IntegrationPKI.path("\(certificate).key"), caFile: IntegrationPKI.path("ca.pem")))
    }

    /// Starts the edge and both phones, registers them, and hands them to `check`; everything is
    /// stopped afterwards whatever happens.
    static func withPhones(
        encryptionOfA: BaresipPhone.MediaEncryption? = .srtpMandatory,
        _ check: (BaresipPhone, BaresipPhone, EdgeUnderTest) async throws -> Void
    ) async throws {
        if let reason = BaresipPhone.missingRequirement {
            TestRequirement.unmet(reason)
            return
        }
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS(), configure: inventory)
        do {
            let a = try phone(line: "2001", certificate: "phone", tone: toneOfA, edge: edge, encryption: encryptionOfA)
            let b = try phone(line: "2002", certificate: "phone-b", tone: toneOfB, edge: edge)
            defer {
                a.stop()
                b.stop()
            }
            try await BaresipPhone.startAndRegister(a, b)
            try await check(a, b, edge)
        } catch {
            Issue.record(error)
        }
        await edge.stop()
    }

    static func showCalls(_ edge: EdgeUnderTest) async throws -> String {
        // Off the cooperative pool, where the edge under test renders it.
        try await ControlSocketTests.BlockingOffThePool(client: ControlClient(stateDirectory: edge.stateDirectory)).show("calls")
    }

    static func records(_ edge: EdgeUnderTest) throws -> [CallRecord] {
        try SQLiteCallRecords.openExisting(stateDirectory: edge.stateDirectory).records()
    }

    /// A dials 2002 and B rings; returns once A has heard the ringing.
    static func ring(_ a: BaresipPhone, _ b: BaresipPhone) async throws {
        try await a.dial("sip:2002@edge.test")
        let incoming = try await b.waitEvent(.incoming)
        #expect(incoming.direction == "incoming")
        try await a.waitEvent(.ringing)
    }

    @Test func twoEncryptedPhonesTalkOverSRTPOnBothLegsAndTheCallIsRecorded() async throws {
        try await Self.withPhones { a, b, edge in
            let capture = try await PacketCapture(
                interface: "lo", filter: "udp portrange \(Self.mediaPorts.lowerBound)-\(Self.mediaPorts.upperBound)", fields: PacketCapture.mediaFields)
            defer { capture.stop() }
            try await Self.ring(a, b)
            try await b.answer()
            try await a.waitEvent(.established)
            try await b.waitEvent(.established)
            try await a.waitEvent(.rtpEstablished)
            try await b.waitEvent(.rtpEstablished)
            let calls = try await Self.showCalls(edge)
            #expect(calls.contains("1 call up") && calls.contains("secure") && calls.contains("AES_CM_128_HMAC_SHA1_80"), "\(calls)")
            try await Task.sleep(for: .seconds(3))
            try await a.hangup()
            #expect(try await a.waitClosed() == "Connection reset by user")
            #expect(try await b.waitClosed() == "Connection reset by peer")

            try CallExpectations.expectHeard([(a, Self.toneOfB), (b, Self.toneOfA)])
            // On the wire: four streams (each phone both ways), all SRTP, none in clear.
            let streams = capture.mediaStreams()
            #expect(streams.count == 4 && streams.values.allSatisfy { $0 == [190] }, "\(streams)")
            // Each leg was keyed on its own: both phones ran SRTP, and neither saw the other's key.
            for phone in [a, b] {
                let suites = phone.events.filter { $0.type == BaresipEvent.Kind.mediaEncryption.rawValue }.map(\.parameter)
                #expect(suites == ["0,audio,AES_CM_128_HMAC_SHA1_80"], "\(phone.diagnostics)")
            }
            let keysOfA = Set(Self.cryptoKeys(in: a.output))
            let keysOfB = Set(Self.cryptoKeys(in: b.output))
            #expect(!keysOfA.isEmpty && !keysOfB.isEmpty)
            #expect(keysOfA.isDisjoint(with: keysOfB), "a key crossed the B2BUA")

            let record = try #require(try Self.records(edge).first)
            #expect(record.caller.number == "2001" && record.caller.device == "SEP001122334455")
            #expect(record.callee.number == "2002" && record.callee.device == "SEP00AABBCCDD02")
            #expect(record.endedBy == .caller && record.endStatus == 200 && record.q850Cause == 16)
            #expect(record.security == .secure)
            #expect(record.answeredAt != nil && (record.talkSeconds ?? 0) >= 3)
            #expect(record.legs.map(\.transport) == ["TLS", "TLS"])
            #expect(record.legs.allSatisfy { $0.suite == "AES_CM_128_HMAC_SHA1_80" && ($0.quality?.packetsReceived ?? 0) > 100 }, "\(record.legs)")
            #expect(record.legs.allSatisfy { $0.quality?.encrypted == true && $0.quality?.authenticationFailures == 0 })
            let after = try await Self.showCalls(edge)
            #expect(after.hasPrefix("0 calls up"), "\(after)")
        }
    }

    @Test func theCalleeHangingUpEndsTheCallerToo() async throws {
        try await Self.withPhones { a, b, edge in
            try await Self.ring(a, b)
            try await b.answer()
            try await a.waitEvent(.established)
            try await b.waitEvent(.established)
            try await Task.sleep(for: .seconds(1))
            try await b.hangup()
            #expect(try await b.waitClosed() == "Connection reset by user")
            #expect(try await a.waitClosed() == "Connection reset by peer")
            let record = try #require(try Self.records(edge).first)
            #expect(record.endedBy == .callee && record.endStatus == 200)
        }
    }

    @Test func aRejectionReachesTheCallerWithItsStatus() async throws {
        try await Self.withPhones { a, b, edge in
            try await Self.ring(a, b)
            try await b.reject()
            #expect(try await a.waitClosed() == "486 Rejected")
            let record = try #require(try Self.records(edge).first)
            #expect(record.endStatus == 486 && record.q850Cause == 17 && record.answeredAt == nil)
        }
    }

    @Test func aCallCancelledWhileRingingIsCancelledOnTheCalleesLeg() async throws {
        try await Self.withPhones { a, b, edge in
            try await Self.ring(a, b)
            try await a.hangup()
            #expect(try await a.waitClosed() == "Connection reset by user")
            #expect(try await b.waitClosed() == "Connection reset by peer")
            #expect(b.output.contains("CANCEL sip:"), "\(b.diagnostics)")
            let record = try #require(try Self.records(edge).first)
            #expect(record.endStatus == 487 && record.endedBy == .caller)
        }
    }

    /// An encrypted device that offers no crypto is refused before the other phone rings.
    @Test func anEncryptedPhoneOfferingPlainRTPGets488WithAWarning() async throws {
        try await Self.withPhones(encryptionOfA: nil) { a, b, edge in
            try await a.dial("sip:2002@edge.test")
            #expect(try await a.waitClosed() == "488 Not Acceptable Here")
            #expect(a.output.contains("Warning: 302 outpost"), "\(a.diagnostics)")
            #expect(!b.events.contains { $0.type == BaresipEvent.Kind.incoming.rawValue }, "\(b.diagnostics)")
        }
    }

    @Test func holdAndResumeAreAnsweredOnTheirLegAndPassedToTheOther() async throws {
        try await Self.withPhones { a, b, edge in
            try await Self.ring(a, b)
            try await b.answer()
            try await a.waitEvent(.established)
            try await b.waitEvent(.established)
            #expect(try await b.waitEvent(.remoteSDP).parameter == "offer", "the INVITE's own offer")
            try await a.hold()
            #expect(try await b.waitEvent(.remoteSDP).parameter == "offer", "the hold offered to B: \(b.diagnostics)")
            #expect(b.output.contains("a=sendonly"), "\(b.diagnostics)")
            try await a.resume()
            #expect(try await b.waitEvent(.remoteSDP).parameter == "offer", "the resume offered to B: \(b.diagnostics)")
            #expect(a.output.contains("a=sendonly"), "\(a.diagnostics)")
            #expect(a.output.contains("a=recvonly"), "the edge answered the hold: \(a.diagnostics)")
            #expect(b.output.contains("a=recvonly"), "B answered the hold it was offered: \(b.diagnostics)")
            try await a.hangup()
            #expect(try await b.waitClosed() == "Connection reset by peer")
        }
    }

    /// A non-secure softphone (digest over UDP, plain RTP) calls the encrypted phone: its leg
    /// is RTP, the encrypted phone's leg stays SRTP, the relay converts, and the call is non-secure.
    @Test func aPlainRTPPhoneReachesAnEncryptedOneThroughInterworkingAndTheCallIsNonSecure() async throws {
        try await Self.withPhones { _, b, edge in
            let c = try BaresipPhone(
                name: "3001",
                account: .init(
                    aor: "sip:3001@edge.test", transport: .udp, outboundProxy: "sip:127.0.0.1:\(edge.port)", registrationInterval: 60,
                    authentication: ("3001", "s3cret")),
                toneFrequency: 440)
            defer { c.stop() }
            try await c.start()
            try await c.waitRegistered()
            try await c.dial("sip:2002@edge.test")
            _ = try await b.waitEvent(.incoming)
            try await b.answer()
            try await c.waitEvent(.established)
            try await b.waitEvent(.established)
            try await Task.sleep(for: .seconds(3))
            try await c.hangup()
            #expect(try await b.waitClosed() == "Connection reset by peer")
            _ = try await c.waitClosed()
            try CallExpectations.expectHeard([(c, Self.toneOfB), (b, Self.toneOfA)], dominantShare: nil)
            #expect(!c.events.contains { $0.type == BaresipEvent.Kind.mediaEncryption.rawValue }, "the softphone's leg is plain RTP")
            #expect(b.events.contains { $0.type == BaresipEvent.Kind.mediaEncryption.rawValue }, "the encrypted phone's leg stays SRTP")
            let record = try #require(try Self.records(edge).first)
            #expect(record.security == .nonSecure)
            #expect(record.caller.device == "soft-3001")
            #expect(record.legs.map(\.transport) == ["UDP", "TLS"])
            #expect(record.legs.map(\.suite) == [nil, "AES_CM_128_HMAC_SHA1_80"])
        }
    }

    static func cryptoKeys(in output: String) -> [String] {
        output.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "inline:") else { return nil }
            return String(line[range.upperBound...].prefix { $0 != "|" && $0 != " " && $0 != "\r" })
        }
    }
}
