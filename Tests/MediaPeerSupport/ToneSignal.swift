import DSP
import Foundation

/// A test tone as G.711 μ-law RTP payloads, and its check with a Goertzel filter.
public enum ToneSignal {
    public static let sampleRate = 8000.0
    /// 20 ms at 8 kHz.
    public static let samplesPerPacket = 160

    /// `count` samples of a sine at `frequency`, starting at sample index `start` (so packets cut
    /// from consecutive calls continue the phase). `amplitude` is a fraction of full scale.
    public static func samples(frequency: Double, count: Int, start: Int = 0, amplitude: Double = 0.5) -> [Int16] {
        (0..<count).map { index in
            let phase = 2 * Double.pi * frequency * Double(start + index) / sampleRate
            return Int16((sin(phase) * amplitude * Double(Int16.max)).rounded())
        }
    }

    /// `packets` consecutive μ-law payloads of `samplesPerPacket` samples each.
    public static func pcmuPayloads(frequency: Double, packets: Int, amplitude: Double = 0.5) -> [[UInt8]] {
        (0..<packets).map { packet in
            G711.muLaw.encode(samples(frequency: frequency, count: samplesPerPacket, start: packet * samplesPerPacket, amplitude: amplitude))
        }
    }

    /// μ-law payloads back to linear samples, concatenated.
    public static func decodePCMU(_ payloads: [[UInt8]]) -> [Int16] {
        payloads.flatMap { G711.muLaw.decode($0) }
    }

    /// The Goertzel filter's power at `frequency` over `samples` (squared magnitude of that DFT
    /// bin, not normalised: compare powers over the same samples only).
    public static func goertzelPower(samples: [Int16], at frequency: Double) -> Double {
        let coefficient = 2 * cos(2 * Double.pi * frequency / sampleRate)
        var previous = 0.0
        var beforePrevious = 0.0
        for sample in samples {
            let current = Double(sample) + coefficient * previous - beforePrevious
            beforePrevious = previous
            previous = current
        }
        return previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious
    }

    /// The candidate with the most power.
    public static func dominantFrequency(samples: [Int16], candidates: [Double]) -> Double? {
        candidates.max { goertzelPower(samples: samples, at: $0) < goertzelPower(samples: samples, at: $1) }
    }

    /// How far the power at `expected` stands above each of `others`, in dB.
    public static func analyse(samples: [Int16], expected: Double, others: [Double] = [500, 1500, 2000]) -> ToneReport {
        let target = goertzelPower(samples: samples, at: expected)
        var margins: [Double: Double] = [:]
        for other in others {
            let power = goertzelPower(samples: samples, at: other)
            margins[other] = 10 * log10(max(target, 1e-12) / max(power, 1e-12))
        }
        return ToneReport(expected: expected, sampleCount: samples.count, power: target, marginsDB: margins)
    }
}

/// The result of `ToneSignal.analyse`.
public struct ToneReport: Sendable, CustomStringConvertible {
    public let expected: Double
    public let sampleCount: Int
    public let power: Double
    /// Power at `expected` over the power at each other frequency, in dB.
    public let marginsDB: [Double: Double]

    /// The smallest margin; infinite when nothing was compared.
    public var worstMarginDB: Double { marginsDB.values.min() ?? .infinity }

    /// Whether the tone at `expected` is at least `margin` dB above every other frequency, over a
    /// non-trivial number of samples.
    public func isDominant(byAtLeast margin: Double = 20) -> Bool {
        sampleCount >= ToneSignal.samplesPerPacket && power > 0 && worstMarginDB >= margin
    }

    public var description: String {
        let margins = marginsDB.keys.sorted().map { "\(Int($0)) Hz: \(String(format: "%.1f", marginsDB[$0]!)) dB" }
        return "\(Int(expected)) Hz over \(sampleCount) samples, margins [\(margins.joined(separator: ", "))]"
    }
}
