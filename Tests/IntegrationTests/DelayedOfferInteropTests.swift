import Edge
import Foundation
import Runtime
import Testing
import TestRequirementSupport

/// A delayed offer from an independent peer: sipp, as the non-secure softphone 3001 (digest,
/// plain RTP), registers and calls the encrypted baresip phone 2002 with an INVITE without SDP.
/// The edge must offer in its 200 and take sipp's answer from the ACK, while baresip's leg is
/// offered and keyed SRTP by the edge as usual.
@Suite(.serialized, .timeLimit(.minutes(1))) struct DelayedOfferInteropTests {
    @Test func aDelayedOfferFromSippReachesAnEncryptedBaresipPhone() async throws {
        if let reason = BaresipPhone.missingRequirement {
            TestRequirement.unmet(reason)
            return
        }
        let edge = try await EdgeUnderTest.start(tls: IntegrationPKI.edgeTLS(), configure: BaresipCallTests.inventory)
        do {
            let b = try BaresipCallTests.phone(line: "2002", certificate: "phone-b", tone: BaresipCallTests.toneOfB, edge: edge)
            defer { b.stop() }
            try await b.start()
            try await b.waitRegistered()
            let port = edge.port
            let caller = Task.detached {
                try KamailioPeerTests.sipp(
                    "127.0.0.1:\(port)", scenario: "sipp-call-delayed-offer",
                    extra: ["-s", "3001", "-au", "3001", "-ap", "s3cret", "-key", "callee", "2002", "-mi", "127.0.0.1", "-rtp_echo"],
                    timeout: .seconds(40))
            }
            do {
                _ = try await b.waitEvent(.incoming)
            } catch {
                let run = try await caller.value
                Issue.record("sipp exit \(run.outcome.status): \(run.errors.prefix(3000)) \(run.outcome.output.suffix(3000))")
                throw error
            }
            try await b.answer()
            try await b.waitEvent(.established)
            let run = try await caller.value
            #expect(run.outcome.status == 0, "sipp exit \(run.outcome.status): \(run.errors.prefix(3000)) \(run.outcome.output.suffix(2000))")
            #expect(try await b.waitClosed() == "Connection reset by peer")
            #expect(b.output.contains("a=crypto:"), "the edge offered the encrypted phone SRTP: \(b.diagnostics)")
            let record = try #require(try BaresipCallTests.records(edge).first)
            #expect(record.caller.device == "soft-3001" && record.callee.device == "SEP00AABBCCDD02")
            #expect(record.endedBy == .caller && record.endStatus == 200)
            #expect(record.legs.map(\.suite) == [nil, "AES_CM_128_HMAC_SHA1_80"], "the caller's answer made its leg plain RTP: \(record.legs)")
            #expect(record.legs.first?.codec != nil, "the ACK's answer was taken: \(record.legs)")
            // sipp echoes baresip's tone back: media flowed on both legs, to the address the ACK gave.
            #expect(record.legs.allSatisfy { ($0.quality?.packetsReceived ?? 0) > 50 }, "\(record.legs)")
        } catch {
            Issue.record(error)
        }
        await edge.stop()
    }
}
