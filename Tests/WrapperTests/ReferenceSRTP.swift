import COpenSSL

/// SRTP's transforms written out from RFC 3711 and RFC 7714 over OpenSSL's bare AES (ECB and
/// GCM) and SHA-1, sharing no code with libsrtp: the independent side of the wrapper's
/// known-answer tests. Tests only; nothing here is constant-time or careful with keys.
enum ReferenceSRTP {
    // MARK: Primitives

    /// AES (128 or 256 by key length) in ECB over whole blocks, no padding.
    static func aesECB(key: [UInt8], _ input: [UInt8]) -> [UInt8] {
        precondition(input.count % 16 == 0 && (key.count == 16 || key.count == 32))
        let context = EVP_CIPHER_CTX_new()!
        defer { EVP_CIPHER_CTX_free(context) }
        let cipher = key.count == 16 ? EVP_aes_128_ecb() : EVP_aes_256_ecb()
        precondition(EVP_EncryptInit_ex(context, cipher, nil, key, nil) == 1)
        EVP_CIPHER_CTX_set_padding(context, 0)
        var output = [UInt8](repeating: 0, count: input.count + 16)
        var written: Int32 = 0
        precondition(EVP_EncryptUpdate(context, &output, &written, input, Int32(input.count)) == 1)
        return Array(output.prefix(Int(written)))
    }

    /// AES counter mode as RFC 3711 §4.1.1 defines it: block i of the keystream is
    /// AES(key, IV + i), the 128-bit IV taken as a big-endian number.
    static func aesCMKeystream(key: [UInt8], iv: [UInt8], count: Int) -> [UInt8] {
        precondition(iv.count == 16)
        let blocks = (count + 15) / 16
        var counters: [UInt8] = []
        counters.reserveCapacity(blocks * 16)
        var counter = iv
        for _ in 0..<blocks {
            counters += counter
            var index = 15
            while index >= 0 {
                counter[index] &+= 1
                if counter[index] != 0 { break }
                index -= 1
            }
        }
        return Array(aesECB(key: key, counters).prefix(count))
    }

    static func sha1(_ data: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        precondition(EVP_Digest(data, data.count, &digest, &length, EVP_sha1(), nil) == 1)
        return Array(digest.prefix(Int(length)))
    }

    /// HMAC-SHA1 (RFC 2104) written out over SHA-1.
    static func hmacSHA1(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var block = key.count > 64 ? sha1(key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        let inner = sha1(block.map { $0 ^ 0x36 } + message)
        return sha1(block.map { $0 ^ 0x5c } + inner)
    }

    /// AES-GCM with a 12-byte IV and a 16-byte tag: ciphertext || tag.
    static func gcmSeal(key: [UInt8], iv: [UInt8], aad: [UInt8], plaintext: [UInt8]) -> [UInt8] {
        let context = EVP_CIPHER_CTX_new()!
        defer { EVP_CIPHER_CTX_free(context) }
        precondition(iv.count == 12)
        precondition(EVP_EncryptInit_ex(context, key.count == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm(), nil, key, iv) == 1)
        var written: Int32 = 0
        if !aad.isEmpty { precondition(EVP_EncryptUpdate(context, nil, &written, aad, Int32(aad.count)) == 1) }
        var output = [UInt8](repeating: 0, count: plaintext.count + 16)
        var total = 0
        if !plaintext.isEmpty {
            precondition(EVP_EncryptUpdate(context, &output, &written, plaintext, Int32(plaintext.count)) == 1)
            total = Int(written)
        }
        precondition(output.withUnsafeMutableBufferPointer { EVP_EncryptFinal_ex(context, $0.baseAddress! + total, &written) } == 1)
        total += Int(written)
        var tag = [UInt8](repeating: 0, count: 16)
        precondition(EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, &tag) == 1)
        return Array(output.prefix(total)) + tag
    }

    /// Opens ciphertext || tag, or nil if the tag does not verify.
    static func gcmOpen(key: [UInt8], iv: [UInt8], aad: [UInt8], sealed: [UInt8]) -> [UInt8]? {
        precondition(sealed.count >= 16 && iv.count == 12)
        let context = EVP_CIPHER_CTX_new()!
        defer { EVP_CIPHER_CTX_free(context) }
        let ciphertext = Array(sealed.dropLast(16))
        var tag = Array(sealed.suffix(16))
        precondition(EVP_DecryptInit_ex(context, key.count == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm(), nil, key, iv) == 1)
        var written: Int32 = 0
        if !aad.isEmpty { precondition(EVP_DecryptUpdate(context, nil, &written, aad, Int32(aad.count)) == 1) }
        var output = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var total = 0
        if !ciphertext.isEmpty {
            precondition(EVP_DecryptUpdate(context, &output, &written, ciphertext, Int32(ciphertext.count)) == 1)
            total = Int(written)
        }
        precondition(EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, 16, &tag) == 1)
        let verified = output.withUnsafeMutableBufferPointer { EVP_DecryptFinal_ex(context, $0.baseAddress! + total, &written) }
        return verified == 1 ? Array(output.prefix(total)) : nil
    }

    // MARK: RFC 3711

    /// Key derivation labels of RFC 3711 §4.3.2.
    enum Label: UInt8 {
        case rtpEncryption = 0, rtpAuthentication = 1, rtpSalt = 2
        case rtcpEncryption = 3, rtcpAuthentication = 4, rtcpSalt = 5
    }

    /// RFC 3711 §4.3.1 with key_derivation_rate 0 (r = 0): x = (label || 0^48) XOR master salt,
    /// right-aligned; the output is the AES-CM keystream from IV = x · 2^16. A 96-bit GCM master
    /// salt is first padded on the right to 112 bits (RFC 7714 §11); a 256-bit master key uses
    /// AES-256 (RFC 6188, RFC 7714 §11).
    static func derive(masterKey: [UInt8], masterSalt: [UInt8], label: Label, count: Int) -> [UInt8] {
        var x = masterSalt + [UInt8](repeating: 0, count: 14 - masterSalt.count)
        x[7] ^= label.rawValue
        return aesCMKeystream(key: masterKey, iv: x + [0, 0], count: count)
    }

    /// RFC 3711 §4.1.1: IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (i · 2^16), i the 48-bit index.
    static func aesCMIV(sessionSalt: [UInt8], ssrc: UInt32, index: UInt64) -> [UInt8] {
        precondition(sessionSalt.count == 14)
        var iv = sessionSalt + [0, 0]
        for (offset, byte) in bigEndian(ssrc).enumerated() { iv[4 + offset] ^= byte }
        for (offset, byte) in bigEndian(index).suffix(6).enumerated() { iv[8 + offset] ^= byte }
        return iv
    }

    // MARK: RFC 7714

    /// §8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt.
    static func gcmRTPIV(sessionSalt: [UInt8], ssrc: UInt32, roc: UInt32, sequence: UInt16) -> [UInt8] {
        zip([0, 0] + bigEndian(ssrc) + bigEndian(roc) + bigEndian(sequence), sessionSalt).map { $0 ^ $1 }
    }

    /// §9.1: IV = (00 00 || SSRC || 00 00 || 0 || SRTCP index) XOR salt.
    static func gcmRTCPIV(sessionSalt: [UInt8], ssrc: UInt32, index: UInt32) -> [UInt8] {
        zip([0, 0] + bigEndian(ssrc) + [0, 0] + bigEndian(index & 0x7fff_ffff), sessionSalt).map { $0 ^ $1 }
    }

    /// §8: an RTP packet with a 12-byte header (no CSRC, no extension): the header is the AAD.
    static func gcmProtectRTP(key: [UInt8], salt: [UInt8], packet: [UInt8], roc: UInt32) -> [UInt8] {
        let header = Array(packet.prefix(12))
        let iv = gcmRTPIV(sessionSalt: salt, ssrc: ssrcOf(packet, at: 8), roc: roc, sequence: UInt16(packet[2]) << 8 | UInt16(packet[3]))
        return header + gcmSeal(key: key, iv: iv, aad: header, plaintext: Array(packet.dropFirst(12)))
    }

    /// §9: encrypted, the AAD is the first 8 bytes and E || index, the rest is encrypted; without
    /// encryption (§9.2, E = 0) the whole packet and E || index are the AAD.
    static func gcmProtectRTCP(key: [UInt8], salt: [UInt8], packet: [UInt8], index: UInt32, encrypted: Bool) -> [UInt8] {
        let trailer = bigEndian((encrypted ? 0x8000_0000 : 0) | index)
        let iv = gcmRTCPIV(sessionSalt: salt, ssrc: ssrcOf(packet, at: 4), index: index)
        if encrypted {
            let header = Array(packet.prefix(8))
            return header + gcmSeal(key: key, iv: iv, aad: header + trailer, plaintext: Array(packet.dropFirst(8))) + trailer
        }
        return packet + gcmSeal(key: key, iv: iv, aad: packet + trailer, plaintext: []) + trailer
    }

    // MARK: Bytes

    static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian, Array.init)
    }

    static func ssrcOf(_ packet: [UInt8], at offset: Int) -> UInt32 {
        packet[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// Hexadecimal as RFC test vectors print it, spaces and line breaks allowed.
func hex(_ text: String) -> [UInt8] {
    let digits = text.filter { !$0.isWhitespace }
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    var bytes: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        bytes.append(UInt8(digits[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}
