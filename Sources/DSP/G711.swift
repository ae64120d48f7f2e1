internal import CSpanDSP
internal import CSpanDSPShims

/// ITU-T G.711 companding of 16-bit linear PCM, using spandsp's coders.
public enum G711: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// μ-law (PCMU, RTP payload type 0): North America and Japan.
    case muLaw
    /// A-law (PCMA, RTP payload type 8): the rest of the world.
    case aLaw

    public var description: String { self == .muLaw ? "PCMU" : "PCMA" }

    /// The code for a silent (zero) sample: 0xFF in μ-law, 0xD5 in A-law.
    public var silence: UInt8 { encode(0) }

    /// Compands one linear sample.
    public func encode(_ sample: Int16) -> UInt8 {
        switch self {
        case .muLaw: outpost_linear_to_ulaw(sample)
        case .aLaw: outpost_linear_to_alaw(sample)
        }
    }

    /// Expands one code to a linear sample.
    public func decode(_ code: UInt8) -> Int16 {
        switch self {
        case .muLaw: outpost_ulaw_to_linear(code)
        case .aLaw: outpost_alaw_to_linear(code)
        }
    }

    /// Compands a buffer of linear samples, one code per sample.
    public func encode(_ samples: some Collection<Int16>) -> [UInt8] {
        var codes: [UInt8] = []
        codes.reserveCapacity(samples.count)
        switch self {
        case .muLaw: for sample in samples { codes.append(outpost_linear_to_ulaw(sample)) }
        case .aLaw: for sample in samples { codes.append(outpost_linear_to_alaw(sample)) }
        }
        return codes
    }

    /// Expands a buffer of codes, one linear sample per code.
    public func decode(_ codes: some Collection<UInt8>) -> [Int16] {
        var samples: [Int16] = []
        samples.reserveCapacity(codes.count)
        switch self {
        case .muLaw: for code in codes { samples.append(outpost_ulaw_to_linear(code)) }
        case .aLaw: for code in codes { samples.append(outpost_alaw_to_linear(code)) }
        }
        return samples
    }

    /// Converts codes of this law to `target` the way G.711 defines it (not via linear PCM).
    public func transcode(_ codes: some Collection<UInt8>, to target: G711) -> [UInt8] {
        switch (self, target) {
        case (.muLaw, .aLaw): codes.map { ulaw_to_alaw($0) }
        case (.aLaw, .muLaw): codes.map { alaw_to_ulaw($0) }
        default: Array(codes)
        }
    }
}
