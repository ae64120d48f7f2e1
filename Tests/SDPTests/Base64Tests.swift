import Testing

@testable import SDP

@Suite("Base64 for key material")
struct Base64Tests {
    // RFC 4648 §10.
    static let vectors: [(plain: String, encoded: String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ]

    @Test(arguments: vectors)
    func rfc4648Vectors(_ vector: (plain: String, encoded: String)) throws {
        #expect(Base64.encode(Array(vector.plain.utf8)) == vector.encoded)
        if !vector.encoded.isEmpty {
            #expect(try Base64.decode(Array(vector.encoded.utf8)) == Array(vector.plain.utf8))
        }
    }

    @Test func unpaddedInputIsAccepted() throws {
        #expect(try Base64.decode(Array("Zg".utf8)) == Array("f".utf8))
        #expect(try Base64.decode(Array("Zm8".utf8)) == Array("fo".utf8))
    }

    @Test func allByteValuesRoundTrip() throws {
        var generator = SplitMix64(seed: 42)
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let encoded = Base64.encode(bytes)
            #expect(encoded.utf8.count % 4 == 0)
            if length > 0 { #expect(try Base64.decode(Array(encoded.utf8)) == bytes) }
        }
    }

    static let invalid: [(text: String, reason: String)] = [
        ("", "is empty"),
        ("Zm9v!A==", "has an invalid character '!' at offset 4"),
        ("Zm 9", "has an invalid character ' ' at offset 2"),
        ("Zm9v-_", "has an invalid character '-' at offset 4"),
        ("Z===", "has misplaced '=' padding"),
        ("Zg=", "has misplaced '=' padding"),
        ("Zm9vY", "has a length of 5 characters, which no byte string encodes to"),
        ("Zg==Zg==", "has an invalid character '=' at offset 2"),
        ("====", "has misplaced '=' padding"),
    ]

    @Test(arguments: invalid)
    func strictDecoding(_ testCase: (text: String, reason: String)) {
        #expect(throws: Base64.DecodingError(reason: testCase.reason)) { try Base64.decode(Array(testCase.text.utf8)) }
    }

    @Test func nonASCIIByteIsNamedByValue() {
        #expect(throws: Base64.DecodingError(reason: "has an invalid character byte 0xC3 at offset 2")) {
            try Base64.decode(Array("Zmé".utf8))
        }
    }
}
