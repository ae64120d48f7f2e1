import Foundation

/// Mono 16-bit PCM audio read from (or written as) a WAV file: what a softphone sent or received.
struct PCMRecording: Equatable {
    let sampleRate: Int
    let samples: [Int16]

    var duration: Double { Double(samples.count) / Double(sampleRate) }

    struct FormatError: Error, CustomStringConvertible {
        let description: String
    }

    /// `seconds` of a sine at `frequency`, at `amplitude` (a fraction of full scale).
    static func sine(frequency: Double, seconds: Double, sampleRate: Int = 8000, amplitude: Double = 0.5) -> PCMRecording {
        let count = Int(seconds * Double(sampleRate))
        let samples = (0..<count).map { index in
            Int16((sin(2 * Double.pi * frequency * Double(index) / Double(sampleRate)) * amplitude * Double(Int16.max)).rounded())
        }
        return PCMRecording(sampleRate: sampleRate, samples: samples)
    }

    init(sampleRate: Int, samples: [Int16]) {
        self.sampleRate = sampleRate
        self.samples = samples
    }

    init(contentsOfFile path: String) throws {
        try self.init(wav: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Parses RIFF/WAVE with a PCM `fmt ` chunk. A `data` chunk whose size is zero or runs past the
    /// end is read to the end of the file: a recorder that was still writing (or was killed) has
    /// not yet patched the size in its header. Of several channels only the first is kept.
    init(wav: Data) throws {
        let bytes = [UInt8](wav)
        func little(_ offset: Int, _ count: Int) -> Int {
            (0..<count).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
        }
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) else {
            throw FormatError(description: "not a RIFF/WAVE file (\(bytes.count) bytes)")
        }
        var format: (channels: Int, sampleRate: Int)?
        var offset = 12
        while offset + 8 <= bytes.count {
            let identifier = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            let size = little(offset + 4, 4)
            let body = offset + 8
            switch identifier {
            case "fmt ":
                guard size >= 16, body + 16 <= bytes.count else { throw FormatError(description: "fmt chunk of \(size) bytes is too short") }
                let encoding = little(body, 2)
                let bitsPerSample = little(body + 14, 2)
                // 0xFFFE is WAVE_FORMAT_EXTENSIBLE, which libsndfile writes for some layouts.
                guard encoding == 1 || encoding == 0xFFFE, bitsPerSample == 16 else {
                    throw FormatError(description: "format \(encoding) with \(bitsPerSample) bits per sample; only 16-bit PCM is read")
                }
                format = (channels: max(1, little(body + 2, 2)), sampleRate: little(body + 4, 4))
            case "data":
                guard let format else { throw FormatError(description: "data chunk before the fmt chunk") }
                let available = bytes.count - body
                let length = size == 0 || size > available ? available : size
                let frameSize = 2 * format.channels
                let frames = length / frameSize
                self.init(
                    sampleRate: format.sampleRate,
                    samples: (0..<frames).map { Int16(truncatingIfNeeded: little(body + $0 * frameSize, 2)) })
                return
            default:
                break
            }
            // Chunks are padded to an even length.
            offset = body + size + (size & 1)
        }
        throw FormatError(description: "no data chunk")
    }

    /// The canonical 44-byte-header WAV encoding, mono 16-bit PCM.
    var wav: Data {
        var bytes: [UInt8] = []
        func append(_ text: String) { bytes += Array(text.utf8) }
        func append(_ value: Int, _ count: Int) { bytes += (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let dataSize = samples.count * 2
        append("RIFF")
        append(36 + dataSize, 4)
        append("WAVE")
        append("fmt ")
        append(16, 4)
        append(1, 2)  // PCM
        append(1, 2)  // mono
        append(sampleRate, 4)
        append(sampleRate * 2, 4)  // bytes per second
        append(2, 2)  // bytes per frame
        append(16, 2)
        append("data")
        append(dataSize, 4)
        for sample in samples { append(Int(sample), 2) }
        return Data(bytes)
    }
}

/// What a recording sounds like, in the terms a call test checks: which of the expected tones it
/// carries, how purely, and how much of it is sound rather than silence.
struct ToneAnalysis: Equatable {
    /// The candidate frequency with the most energy.
    let dominantFrequency: Double
    /// The dominant tone's share of the recording's energy, 0...1 (a pure sine is close to 1;
    /// noise, a mix or a wrong tone is far below).
    let dominantShare: Double
    /// The fraction of 20 ms frames whose peak stands above `silenceThreshold`.
    let nonSilentFraction: Double
    let duration: Double

    /// About −40 dBFS: G.711 comfort noise and dither stay below it, a test tone is far above.
    static let silenceThreshold: Int16 = 328

    /// Goertzel over 50 ms blocks, so that a phase jump at a lost or concealed packet costs one
    /// block rather than smearing the whole recording. Nil for a recording shorter than one block.
    init?(_ recording: PCMRecording, candidates: [Double]) {
        let blockLength = recording.sampleRate / 20
        guard blockLength > 0, recording.samples.count >= blockLength, !candidates.isEmpty else { return nil }
        var energyAt = [Double](repeating: 0, count: candidates.count)
        var totalEnergy = 0.0
        var start = 0
        while start + blockLength <= recording.samples.count {
            let block = recording.samples[start..<start + blockLength]
            for (index, frequency) in candidates.enumerated() {
                energyAt[index] += Self.toneEnergy(block, frequency: frequency, sampleRate: recording.sampleRate)
            }
            totalEnergy += block.reduce(0) { $0 + Double($1) * Double($1) }
            start += blockLength
        }
        let strongest = energyAt.indices.max { energyAt[$0] < energyAt[$1] } ?? 0
        dominantFrequency = candidates[strongest]
        dominantShare = totalEnergy > 0 ? min(1, energyAt[strongest] / totalEnergy) : 0
        nonSilentFraction = Self.nonSilentFraction(recording)
        duration = recording.duration
    }

    /// The energy (sum of squares) the block carries at `frequency`: the Goertzel filter's squared
    /// magnitude, scaled by 2/N so that a pure sine at that frequency yields its own energy.
    static func toneEnergy(_ block: ArraySlice<Int16>, frequency: Double, sampleRate: Int) -> Double {
        let coefficient = 2 * cos(2 * Double.pi * frequency / Double(sampleRate))
        var previous = 0.0
        var beforePrevious = 0.0
        for sample in block {
            let current = Double(sample) + coefficient * previous - beforePrevious
            beforePrevious = previous
            previous = current
        }
        let power = previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious
        return 2 * power / Double(block.count)
    }

    static func nonSilentFraction(_ recording: PCMRecording) -> Double {
        let frameLength = max(1, recording.sampleRate / 50)
        let frames = stride(from: 0, to: recording.samples.count - frameLength + 1, by: frameLength).map {
            recording.samples[$0..<$0 + frameLength]
        }
        guard !frames.isEmpty else { return 0 }
        let loud = frames.filter { frame in frame.contains { $0.magnitude > silenceThreshold.magnitude } }
        return Double(loud.count) / Double(frames.count)
    }
}
