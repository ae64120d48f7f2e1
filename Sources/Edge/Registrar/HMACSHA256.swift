import SIP

/// HMAC-SHA-256 (RFC 2104) over the SIP module's SHA-256: nonces are signed, not remembered.
enum HMACSHA256 {
    static func authenticate(_ message: some Sequence<UInt8>, key: [UInt8]) -> [UInt8] {
        let blockSize = 64
        var block = key.count > blockSize ? SHA256Hash.hash(key) : key
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        let inner = SHA256Hash.hash(block.map { $0 ^ 0x36 } + Array(message))
        return SHA256Hash.hash(block.map { $0 ^ 0x5C } + inner)
    }
}
