import Foundation
import Testing

/// The recording checks of the call harness, against signals whose answer is known.
@Suite struct ToneAnalysisTests {
    static let candidates: [Double] = [440, 1000]

    @Test func aPureSineIsDominantAtItsFrequencyAndCarriesNearlyAllTheEnergy() throws {
        for frequency in Self.candidates {
            let analysis = try #require(ToneAnalysis(.sine(frequency: frequency, seconds: 1), candidates: Self.candidates))
            #expect(analysis.dominantFrequency == frequency)
            #expect(analysis.dominantShare > 0.95, "\(analysis)")
            #expect(analysis.nonSilentFraction == 1)
            #expect(abs(analysis.duration - 1) < 0.001)
        }
    }

    @Test func theLouderOfTwoMixedTonesWinsWithOnlyItsShare() throws {
        let loud = PCMRecording.sine(frequency: 1000, seconds: 1, amplitude: 0.4)
        let quiet = PCMRecording.sine(frequency: 440, seconds: 1, amplitude: 0.2)
        let mix = PCMRecording(sampleRate: 8000, samples: zip(loud.samples, quiet.samples).map { $0 &+ $1 })
        let analysis = try #require(ToneAnalysis(mix, candidates: Self.candidates))
        #expect(analysis.dominantFrequency == 1000)
        // Energies 0.16 : 0.04 of the amplitude squared: the loud tone holds 80 %.
        #expect(abs(analysis.dominantShare - 0.8) < 0.03, "\(analysis)")
    }

    @Test func aToneOffTheCandidatesHasALowShare() throws {
        let analysis = try #require(ToneAnalysis(.sine(frequency: 2000, seconds: 1), candidates: Self.candidates))
        #expect(analysis.dominantShare < 0.05, "\(analysis)")
    }

    @Test func halfSilenceIsHalfNonSilent() throws {
        let tone = PCMRecording.sine(frequency: 440, seconds: 1)
        let recording = PCMRecording(sampleRate: 8000, samples: [Int16](repeating: 0, count: 8000) + tone.samples)
        let analysis = try #require(ToneAnalysis(recording, candidates: Self.candidates))
        #expect(analysis.nonSilentFraction == 0.5)
        #expect(analysis.dominantFrequency == 440)
    }

    @Test func silenceIsNeitherToneNorSound() throws {
        let analysis = try #require(ToneAnalysis(PCMRecording(sampleRate: 8000, samples: .init(repeating: 3, count: 8000)), candidates: Self.candidates))
        #expect(analysis.nonSilentFraction == 0)
        #expect(analysis.dominantShare < 0.01)
    }

    @Test func tooShortARecordingIsNotAnalysed() {
        #expect(ToneAnalysis(PCMRecording(sampleRate: 8000, samples: .init(repeating: 1000, count: 399)), candidates: Self.candidates) == nil)
    }

    @Test func aWAVRoundTripsThroughItsOwnEncoding() throws {
        let recording = PCMRecording.sine(frequency: 440, seconds: 0.1)
        let wav = recording.wav
        #expect(wav.count == 44 + 1600)
        #expect(try PCMRecording(wav: wav) == recording)
    }

    /// What a recorder leaves when it is killed before it patches the header: sizes of zero.
    @Test func anUnfinishedDataChunkIsReadToTheEndOfTheFile() throws {
        let recording = PCMRecording.sine(frequency: 1000, seconds: 0.1)
        var wav = [UInt8](recording.wav)
        wav.replaceSubrange(4..<8, with: [0, 0, 0, 0])
        wav.replaceSubrange(40..<44, with: [0, 0, 0, 0])
        #expect(try PCMRecording(wav: Data(wav)) == recording)
    }

    /// libsndfile and others put chunks (LIST, fact) between fmt and data; the second channel is dropped.
    @Test func extraChunksAreSkippedAndOnlyTheFirstChannelIsKept() throws {
        var wav = [UInt8](PCMRecording(sampleRate: 16000, samples: [1, -2, 3, -4]).wav)
        wav[22] = 2  // stereo: the four samples become two frames
        wav.insert(contentsOf: Array("LIST".utf8) + [3, 0, 0, 0, 7, 7, 7, 0], at: 36)
        let read = try PCMRecording(wav: Data(wav))
        #expect(read == PCMRecording(sampleRate: 16000, samples: [1, 3]))
    }

    @Test func otherFormatsAreRefusedWithTheirReason() {
        var eightBit = [UInt8](PCMRecording(sampleRate: 8000, samples: [0, 0]).wav)
        eightBit[34] = 8
        #expect(throws: PCMRecording.FormatError.self) { try PCMRecording(wav: Data(eightBit)) }
        #expect(throws: PCMRecording.FormatError.self) { try PCMRecording(wav: Data("RIFF....AVI LIST".utf8)) }
        #expect(throws: PCMRecording.FormatError.self) { try PCMRecording(wav: Data()) }
    }
}
