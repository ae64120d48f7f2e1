import MediaPeerSupport
import Testing

@Suite struct BencodeTests {
    @Test func encodesDictionariesWithKeysInByteOrder() {
        let value: BencodeValue = ["sdp": "v=0", "command": "offer", "flags": ["trust-address"], "TOS": 184, "Z": .bytes([0, 255])]
        // "TOS" < "Z" < "command" < "flags" < "sdp" as bytes (upper case sorts first).
        let expected = "d3:TOSi184e1:Z2:\u{0}\u{FF}7:command5:offer5:flagsl13:trust-addresse3:sdp3:v=0e"
        #expect(Bencode.encode(value) == Array(expected.unicodeScalars.map { UInt8($0.value) }))
    }

    @Test(arguments: [
        BencodeValue.integer(0), .integer(-42), .integer(Int.max), .bytes([]), .string("pong"),
        .list([]), .dictionary([:]),
        ["result": "ok", "sdp": "v=0\r\nm=audio 30000 RTP/SAVP 0\r\n", "totals": ["RTP": ["packets": 50, "bytes": -1]], "list": [1, "two", [3]]],
    ])
    func roundTrips(_ value: BencodeValue) throws {
        let bytes = Bencode.encode(value)
        #expect(try Bencode.decode(bytes) == value)
        #expect(Bencode.encode(try Bencode.decode(bytes)) == bytes)
    }

    @Test func decodesAnNgReply() throws {
        let reply = try Bencode.decode(Array("d6:result4:pong7:warning0:e".utf8))
        #expect(reply["result"]?.stringValue == "pong")
        #expect(reply["warning"]?.stringValue == "")
    }

    @Test(arguments: [
        ("", BencodeError.Reason.unexpectedEnd),
        ("i01e", .leadingZero),
        ("i-0e", .negativeZero),
        ("ie", .badInteger),
        ("i1x", .badInteger),
        ("i99999999999999999999e", .integerOverflow),
        ("5:ab", .badLength),
        ("01:a", .leadingZero),
        ("-1:a", .unexpectedByte(UInt8(ascii: "-"))),
        ("l1:a", .unexpectedEnd),
        ("x", .unexpectedByte(UInt8(ascii: "x"))),
        ("di1e1:ae", .nonStringKey),
        ("d1:b0:1:a0:e", .keysNotAscending("a")),
        ("d1:a0:1:a0:e", .keysNotAscending("a")),
        ("i1ee", .trailingBytes(count: 1)),
        ("4:pong ", .trailingBytes(count: 1)),
    ])
    func rejectsMalformedInput(_ text: String, _ reason: BencodeError.Reason) {
        #expect {
            try Bencode.decode(Array(text.utf8))
        } throws: { error in
            (error as? BencodeError)?.reason == reason
        }
    }

    /// rtpengine's replies are not sorted; the lenient mode reads them but still refuses a repeated key.
    @Test func readsUnsortedKeysOnlyWhenAskedTo() throws {
        let reply = Array("d3:sdp3:v=06:result2:oke".utf8)
        #expect(throws: BencodeError.self) { try Bencode.decode(reply) }
        #expect(try Bencode.decode(reply, requireSortedKeys: false) == ["sdp": "v=0", "result": "ok"])
        #expect {
            try Bencode.decode(Array("d1:b0:1:a0:1:b0:e".utf8), requireSortedKeys: false)
        } throws: { error in
            (error as? BencodeError)?.reason == .duplicateKey("b")
        }
    }

    @Test func rejectsKeysThatAreNotUTF8AndNestingTooDeep() {
        #expect(throws: BencodeError.self) { try Bencode.decode([UInt8]("d1:".utf8) + [0xff] + [UInt8]("0:e".utf8)) }
        let deep = String(repeating: "l", count: Bencode.maximumDepth + 1) + String(repeating: "e", count: Bencode.maximumDepth + 1)
        #expect {
            try Bencode.decode(Array(deep.utf8))
        } throws: { error in
            (error as? BencodeError)?.reason == .tooDeep
        }
    }
}
