import MediaPeerSupport
import Testing

@Suite struct ToneSignalTests {
    @Test func aThousandHertzToneSurvivesMuLawAndStandsOut() {
        let samples = ToneSignal.decodePCMU(ToneSignal.pcmuPayloads(frequency: 1000, packets: 10))
        let report = ToneSignal.analyse(samples: samples, expected: 1000)
        #expect(report.isDominant(byAtLeast: 20), "\(report)")
        #expect(ToneSignal.dominantFrequency(samples: samples, candidates: [500, 1000, 1500, 2000]) == 1000)
    }

    /// The check can fail: another tone, noise or silence is not a 1000 Hz tone.
    @Test func otherSignalsAreNotTakenForTheTone() {
        let other = ToneSignal.decodePCMU(ToneSignal.pcmuPayloads(frequency: 1500, packets: 10))
        #expect(!ToneSignal.analyse(samples: other, expected: 1000).isDominant(), "1500 Hz")
        let noise = (0..<1600).map { _ in Int16.random(in: -8000...8000) }
        #expect(!ToneSignal.analyse(samples: noise, expected: 1000).isDominant(), "noise")
        #expect(!ToneSignal.analyse(samples: [Int16](repeating: 0, count: 1600), expected: 1000).isDominant(), "silence")
        let scrambled = ToneSignal.decodePCMU([(0..<1600).map { _ in UInt8.random(in: 0...255) }])
        #expect(!ToneSignal.analyse(samples: scrambled, expected: 1000).isDominant(), "random μ-law bytes (ciphertext)")
    }
}
