import Edge
import Foundation
import Testing

/// What the call tests check the same way each time.
enum CallExpectations {
    static let tones = [BaresipCallTests.toneOfA, BaresipCallTests.toneOfB]

    /// Each listener heard the tone it should, for most of the call (and, with `dominantShare`,
    /// that clean: G.711 quantisation noise leaves a pure tone well above 90 % of the energy).
    static func expectHeard(_ pairs: [(listener: BaresipPhone, tone: Double)], dominantShare: Double? = 0.9) throws {
        for (listener, expected) in pairs {
            let heard = try #require(ToneAnalysis(listener.receivedAudio(), candidates: tones), "\(listener.diagnostics)")
            #expect(heard.dominantFrequency == expected, "\(listener.name) heard \(heard)")
            if let dominantShare { #expect(heard.dominantShare > dominantShare, "\(listener.name) heard \(heard)") }
            #expect(heard.nonSilentFraction > 0.8, "\(listener.name) heard \(heard)")
        }
    }

    /// Once both halves of a call through the call manager are closed: the branch phone's
    /// (placed by 2001) and the call manager's.
    static func closedHalves(_ read: () throws -> [CallRecord]) async throws -> (near: CallRecord, far: CallRecord) {
        try await BackgroundEdge.waitFor("both records closed", timeout: .seconds(10)) {
            let records = try read()
            return records.count == 2 && records.allSatisfy { $0.endedAt != nil }
        }
        let records = try read()
        let near = try #require(records.first { $0.caller.device == "SEP001122334455" }, "\(records)")
        let far = try #require(records.first { $0.caller.device == "call-manager" }, "\(records)")
        return (near, far)
    }
}

extension BaresipPhone {
    /// Starts each phone, then waits until each has registered.
    static func startAndRegister(_ phones: BaresipPhone...) async throws {
        for phone in phones { try await phone.start() }
        for phone in phones { try await phone.waitRegistered() }
    }
}
