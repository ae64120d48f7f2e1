internal import CSpanDSP

/// Generates DTMF tones (spandsp `dtmf_tx`) as 8 kHz 16-bit linear audio.
///
/// Not `Sendable`: the generator's queue and oscillators are mutable C state.
public final class DTMFGenerator {
    /// `dtmf_tx_state_t *`, owned: released with `dtmf_tx_free` in `deinit`.
    private let state: OpaquePointer

    public static let sampleRate = 8000

    public init() throws(DSPError) {
        guard let state = dtmf_tx_init(nil) else { throw .allocationFailed("dtmf_tx_state_t") }
        self.state = state
    }

    deinit {
        dtmf_tx_free(state)
    }

    /// Sets the level of the low tone in dBm0 and the twist (high minus low tone) in dB.
    public func setLevel(dBm0 level: Int, twist: Int) {
        dtmf_tx_set_level(state, Int32(clamping: level), Int32(clamping: twist))
    }

    /// Sets the tone and pause durations in milliseconds.
    public func setTiming(onMilliseconds: Int, offMilliseconds: Int) {
        dtmf_tx_set_timing(state, Int32(clamping: onMilliseconds), Int32(clamping: offMilliseconds))
    }

    /// Queues digits for generation, all or nothing. Refuses the whole string if any character
    /// is not a DTMF digit, or if spandsp's queue (128 digits) has no room for all of it.
    public func enqueue(_ digits: String) throws(DSPError) {
        if let bad = digits.first(where: { !DTMFDigits.valid.contains($0) }) {
            throw .invalidDTMFDigit(bad)
        }
        let count = digits.utf8.count
        guard count > 0 else { return }
        // spandsp 0.0.6 returns how many digits did not fit (queueing nothing then), 0 when all
        // were queued, and -1 if the queue write failed; its header comment says otherwise.
        let notQueued = digits.withCString { dtmf_tx_put(state, $0, Int32(count)) }
        if notQueued != 0 { throw .dtmfQueueFull(digits: count) }
    }

    /// Generates up to `maximumSamples` samples; returns fewer (possibly none) once the queued
    /// digits and their pauses have all been played.
    public func generate(maximumSamples: Int) -> [Int16] {
        guard maximumSamples > 0 else { return [] }
        var samples = [Int16](repeating: 0, count: maximumSamples)
        let produced = samples.withUnsafeMutableBufferPointer { buffer in
            dtmf_tx(state, buffer.baseAddress, Int32(clamping: buffer.count))
        }
        samples.removeLast(maximumSamples - Int(max(0, produced)))
        return samples
    }

    /// Generates every queued digit, with its pauses, in one buffer.
    public func generateAll(blockSize: Int = 160) -> [Int16] {
        var audio: [Int16] = []
        while true {
            let block = generate(maximumSamples: blockSize)
            audio.append(contentsOf: block)
            if block.count < blockSize { return audio }
        }
    }
}
