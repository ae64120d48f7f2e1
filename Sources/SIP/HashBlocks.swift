/// The message framing MD5 and SHA-256 share (Merkle–Damgård): 64-byte blocks, then the
/// padding byte 0x80, zeros, and the message length in bits in the last 8 bytes. The two differ
/// only in the byte order of that length and in how a block is compressed.
struct HashBlocks: Sendable {
    enum LengthOrder: Sendable {
        case littleEndian, bigEndian
    }

    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    init() {
        pending.reserveCapacity(64)
    }

    /// Takes one byte; returns a block when 64 bytes have gathered.
    mutating func append(_ byte: UInt8) -> [UInt8]? {
        pending.append(byte)
        length &+= 1
        guard pending.count == 64 else { return nil }
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }

    /// The padded final block or two, for a copy of the state that is then finished.
    func finalBlocks(lengthOrder: LengthOrder) -> [[UInt8]] {
        var tail = pending
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        let bitLength = length &* 8
        for index in 0..<8 {
            let shift = lengthOrder == .littleEndian ? index * 8 : (7 - index) * 8
            tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        return stride(from: 0, to: tail.count, by: 64).map { Array(tail[$0..<($0 + 64)]) }
    }
}
