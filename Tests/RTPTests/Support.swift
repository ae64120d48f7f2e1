@testable import RTP

/// Runs `body` over the bytes as the raw buffer the media path would hand over.
func withRaw<T>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
    try bytes.withUnsafeBytes(body)
}

/// The error `RTPPacketView` throws for these bytes, nil when they validate.
func viewError(_ bytes: [UInt8]) -> RTPParseError? {
    bytes.withUnsafeBufferPointer { (buffer) -> RTPParseError? in
        do throws(RTPParseError) {
            _ = try RTPPacketView(validating: UnsafeRawBufferPointer(buffer))
            return nil
        } catch {
            return error
        }
    }
}

func compoundError(_ bytes: [UInt8]) -> RTPParseError? {
    do {
        _ = try RTCPCompound(parsing: bytes)
        return nil
    } catch {
        return error
    }
}

/// SplitMix64: a seeded generator, so a failing garbage run can be repeated.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Vectors {
    /// RFC 3550 §5.1 fixed header with P, X and CC=2, marker set, PT 96, then an RFC 8285 §4.2
    /// one-byte extension (ID 1 with 1 byte, ID 2 with 2 bytes, padding), 3 payload bytes and
    /// 3 bytes of padding. The payload bytes are ≥ 0xF0 so that any cut inside the payload leaves a
    /// padding count too large for what remains.
    static let rtpFull: [UInt8] = [
        0xB2, 0xE0, 0x12, 0x34,  // V=2 P X CC=2, M PT=96, seq 0x1234
        0xDE, 0xAD, 0xBE, 0xEF,  // timestamp
        0x11, 0x22, 0x33, 0x44,  // SSRC
        0xAA, 0xAA, 0xAA, 0xAA,  // CSRC 1
        0xBB, 0xBB, 0xBB, 0xBB,  // CSRC 2
        0xBE, 0xDE, 0x00, 0x02,  // extension profile 0xBEDE, 2 words
        0x10, 0x7F, 0x21, 0x01,  // ID 1 L=0: 0x7F; ID 2 L=1: 0x01 0x02
        0x02, 0x00, 0x00, 0x00,  // ... padding
        0xF0, 0xF1, 0xF2,  // payload
        0x00, 0x00, 0x03,  // padding, count 3
    ]
    static let rtpFullHeaderLength = 12 + 8 + 4 + 8

    /// A minimal PCMU packet (PT 0) with a 160-byte payload, as a phone sends every 20 ms.
    static func pcmu(sequence: UInt16, timestamp: UInt32, ssrc: UInt32 = 0xCAFE_F00D) -> [UInt8] {
        RTPPacket(
            header: RTPHeader(payloadType: 0, sequenceNumber: sequence, timestamp: timestamp, ssrc: ssrc),
            payload: [UInt8](repeating: 0xFF, count: 160)
        ).serialized()
    }

    /// An SR with one report block, SDES with a CNAME, and a BYE with a reason, laid out as a
    /// softphone hanging up sends them (RFC 3550 §6.4.1, §6.5, §6.6).
    static let srSdesBye: [UInt8] = [
        // SR: V=2 RC=1, PT 200, length 12 words (52 bytes)
        0x81, 0xC8, 0x00, 0x0C,
        0x5E, 0x1F, 0x5C, 0x2B,  // sender SSRC
        0xE8, 0xA1, 0xB2, 0xC3, 0x4D, 0x5E, 0x6F, 0x70,  // NTP timestamp
        0x00, 0x01, 0xF4, 0x00,  // RTP timestamp 128000
        0x00, 0x00, 0x00, 0xFA,  // 250 packets
        0x00, 0x00, 0x9C, 0x40,  // 40000 octets
        0x3C, 0x4D, 0x5E, 0x6F,  // report block: source
        0x05, 0xFF, 0xFF, 0xFE,  // fraction 5/256, cumulative lost −2 (duplicates)
        0x00, 0x01, 0x00, 0x10,  // extended highest sequence: 1 cycle, 16
        0x00, 0x00, 0x00, 0x1F,  // jitter 31
        0xB2, 0xC3, 0x4D, 0x5E,  // LSR
        0x00, 0x01, 0x00, 0x00,  // DLSR 1 s
        // SDES: V=2 SC=1, PT 202, length 6 words (28 bytes)
        0x81, 0xCA, 0x00, 0x06,
        0x5E, 0x1F, 0x5C, 0x2B,
        0x01, 0x10,  // CNAME, 16 bytes
        0x70, 0x68, 0x6F, 0x6E, 0x65, 0x40, 0x31, 0x39, 0x32, 0x2E, 0x30, 0x2E, 0x32, 0x2E, 0x31, 0x30,  // phone@192.0.2.10
        0x00, 0x00,  // END, pad to 32 bits
        // BYE: V=2 SC=1, PT 203, length 3 words (16 bytes)
        0x81, 0xCB, 0x00, 0x03,
        0x5E, 0x1F, 0x5C, 0x2B,
        0x06, 0x68, 0x61, 0x6E, 0x67, 0x75, 0x70, 0x00,  // "hangup", padded
    ]
    static let srSdesByeBoundaries = [52, 52 + 28, 52 + 28 + 16]
}
