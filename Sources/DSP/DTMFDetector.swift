internal import CSpanDSP

/// Detects DTMF digits (spandsp `dtmf_rx`) in 8 kHz 16-bit linear audio.
///
/// spandsp reports digits through a C callback; its user data is this object (unretained:
/// the C state is freed in `deinit`, so the callback can never outlive its owner).
///
/// Not `Sendable`: the detector's filters and pending digits are mutable state.
public final class DTMFDetector {
    /// `dtmf_rx_state_t *`, owned: released with `dtmf_rx_free` in `deinit`.
    private var state: OpaquePointer?
    /// Digits reported by spandsp and not yet returned by `process`.
    private var pending: String = ""
    /// Called for every digit as spandsp reports it, in addition to `process`'s result.
    public var onDigit: ((Character) -> Void)?

    public init() throws(DSPError) {
        let callback: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int32) -> Void = {
            userData, digits, length in
            guard let userData, let digits, length > 0 else { return }
            let detector = Unmanaged<DTMFDetector>.fromOpaque(userData).takeUnretainedValue()
            let bytes = UnsafeRawPointer(digits).assumingMemoryBound(to: UInt8.self)
            detector.received(String(decoding: UnsafeBufferPointer(start: bytes, count: Int(length)), as: UTF8.self))
        }
        state = nil
        guard let created = dtmf_rx_init(nil, callback, Unmanaged.passUnretained(self).toOpaque()) else {
            throw .allocationFailed("dtmf_rx_state_t")
        }
        state = created
    }

    deinit {
        if let state { dtmf_rx_free(state) }
    }

    /// Tunes detection: a notch for dial tone, accepted normal and reverse twist in dB, and the
    /// minimum level in dBm0. Values below zero keep spandsp's defaults.
    public func setParameters(filterDialTone: Bool, twist: Int = -1, reverseTwist: Int = -1, threshold: Int = -99) {
        guard let state else { return }
        dtmf_rx_parms(state, filterDialTone ? 1 : 0, Int32(clamping: twist), Int32(clamping: reverseTwist), Int32(clamping: threshold))
    }

    /// Feeds audio; returns the digits completed while processing it, in order.
    @discardableResult
    public func process(_ samples: [Int16]) -> String {
        guard let state, !samples.isEmpty else { return takePending() }
        samples.withUnsafeBufferPointer { buffer in
            _ = dtmf_rx(state, buffer.baseAddress, Int32(clamping: buffer.count))
        }
        return takePending()
    }

    private func takePending() -> String {
        defer { pending = "" }
        return pending
    }

    private func received(_ digits: String) {
        pending += digits
        if let onDigit {
            for digit in digits { onDigit(digit) }
        }
    }
}
