import DSP
import Testing

@Suite("DSP: spandsp G.711 and DTMF")
struct DSPTests {
    // MARK: G.711

    @Test func muLawKnownCodePoints() {
        let law = G711.muLaw
        #expect(law.encode(0) == 0xFF)
        #expect(law.silence == 0xFF)
        #expect(law.decode(0xFF) == 0)
        #expect(law.decode(0x7F) == 0)  // "negative zero"
        #expect(law.decode(0x80) == 32_124)
        #expect(law.decode(0x00) == -32_124)
        #expect(law.encode(Int16.max) == 0x80)
        #expect(law.encode(Int16.min) == 0x00)
    }

    @Test func aLawKnownCodePoints() {
        let law = G711.aLaw
        #expect(law.encode(0) == 0xD5)
        #expect(law.silence == 0xD5)
        #expect(law.decode(0xD5) == 8)
        #expect(law.decode(0x55) == -8)
        #expect(law.decode(0xAA) == 32_256)
        #expect(law.decode(0x2A) == -32_256)
    }

    /// G.711 decodes each code to the middle of its quantization interval, so within the coder's
    /// range the round-trip error is at most half that interval: in 16-bit units 4·2^s for μ-law
    /// segment s (interval 8·2^s), and 8 for A-law segments 0–1, 8·2^(s−1) above. Beyond the
    /// μ-law overload point (±8159 in 14-bit units, ±32636 here) samples clip to the end codes.
    @Test(arguments: G711.allCases)
    func roundTripErrorIsWithinHalfAQuantizationStep(law: G711) {
        let all = Array(Int16.min...Int16.max)
        let codes = law.encode(all)
        let decoded = law.decode(codes)
        #expect(codes.count == all.count && decoded.count == all.count)
        var worst = 0
        for index in all.indices {
            let sample = Int(all[index])
            let error = abs(sample - Int(decoded[index]))
            let bound: Int
            switch law {
            case .muLaw:
                if abs(sample) > 32_636 {
                    #expect(abs(Int(decoded[index])) == 32_124)
                    continue
                }
                let segment = Int((~codes[index] & 0x70) >> 4)
                bound = 4 << segment
            case .aLaw:
                let segment = Int(((codes[index] ^ 0x55) & 0x70) >> 4)
                bound = segment == 0 ? 8 : 8 << (segment - 1)
            }
            if error > bound {
                Issue.record("\(law): \(sample) → \(String(codes[index], radix: 16)) → \(decoded[index]) (error \(error) > \(bound))")
                return
            }
            worst = max(worst, error)
        }
        #expect(worst > 0)
        // Small signals are coded finely: nothing under 64 is off by more than 4 (μ) or 8 (A).
        for sample in Int16(-64)...Int16(64) {
            #expect(abs(Int(sample) - Int(law.decode(law.encode(sample)))) <= (law == .muLaw ? 4 : 8))
        }
    }

    @Test func everyCodeSurvivesDecodeThenEncode() {
        for law in G711.allCases {
            for code in UInt8.min...UInt8.max {
                let again = law.encode(law.decode(code))
                // μ-law has two zeros (0x7F, 0xFF); both decode to 0, which encodes as 0xFF.
                if law == .muLaw && code == 0x7F { #expect(again == 0xFF) } else { #expect(again == code) }
            }
        }
    }

    /// G.711's A-law↔μ-law tables map each code to the nearest code of the other law: silence
    /// becomes the smallest positive code (A 0xD5 ↔ μ 0xFE, both +8), and no value moves by more
    /// than 8 or about 1/32 of its magnitude (half a quantization step).
    @Test func transcodingFollowsTheG711Tables() {
        #expect(G711.aLaw.transcode([0xD5, 0xD5], to: .muLaw) == [0xFE, 0xFE])
        #expect(G711.muLaw.decode(0xFE) == G711.aLaw.decode(0xD5))
        #expect(G711.muLaw.transcode([0xFF], to: .aLaw) == [0xD5])
        #expect(G711.muLaw.transcode([1, 2, 3], to: .muLaw) == [1, 2, 3])
        for (from, to) in [(G711.aLaw, G711.muLaw), (.muLaw, .aLaw)] {
            let codes = Array(UInt8.min...UInt8.max)
            let transcoded = from.transcode(codes, to: to)
            #expect(transcoded.count == 256)
            for (code, other) in zip(codes, transcoded) {
                let value = Int(from.decode(code))
                let difference = abs(value - Int(to.decode(other)))
                #expect(difference <= max(8, abs(value) / 31), "\(from) \(code) → \(to) \(other)")
            }
        }
    }

    @Test func generatorQueueIsAllOrNothing() throws {
        let generator = try DTMFGenerator()
        let tooMany = String(repeating: "1", count: 200)
        #expect(throws: DSPError.dtmfQueueFull(digits: 200)) { try generator.enqueue(tooMany) }
        #expect(generator.generate(maximumSamples: 160).isEmpty)
        try generator.enqueue("5")
        #expect(generator.generate(maximumSamples: 160).count == 160)
    }

    // MARK: DTMF

    @Test func generatedDigitsAreDetectedExactly() throws {
        let digits = "159#*0D"
        let audio = try Self.dtmfAudio(digits)
        #expect(audio.count > digits.count * 400)  // ≥ 50 ms of tone per digit at 8 kHz

        let detector = try DTMFDetector()
        var reported: [Character] = []
        detector.onDigit = { reported.append($0) }
        var detected = ""
        for start in stride(from: 0, to: audio.count, by: 160) {
            detected += detector.process(Array(audio[start..<min(start + 160, audio.count)]))
        }
        #expect(detected == digits)
        #expect(String(reported) == digits)
    }

    @Test(arguments: G711.allCases)
    func digitsSurviveG711(law: G711) throws {
        let digits = "0123456789ABCD*#"
        let audio = law.decode(law.encode(try Self.dtmfAudio(digits)))
        let detector = try DTMFDetector()
        #expect(detector.process(audio) == digits)
    }

    @Test func silenceHasNoDigits() throws {
        let detector = try DTMFDetector()
        #expect(detector.process([Int16](repeating: 0, count: 8000)) == "")
    }

    @Test func generatorRefusesNonDigits() throws {
        let generator = try DTMFGenerator()
        #expect(throws: DSPError.invalidDTMFDigit("X")) { try generator.enqueue("12X") }
        // Nothing was queued by the refused call.
        #expect(generator.generate(maximumSamples: 160).isEmpty)
    }

    /// The digits as spandsp plays them, followed by 100 ms of silence so the last one completes.
    static func dtmfAudio(_ digits: String) throws -> [Int16] {
        let generator = try DTMFGenerator()
        try generator.enqueue(digits)
        return generator.generateAll() + [Int16](repeating: 0, count: 800)
    }
}
