import Testing

@testable import SDP

private func parseError(_ bytes: [UInt8], limits: SDPLimits = .default) -> SDPParseError? {
    do {
        _ = try SessionDescription(parsing: bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}

private func parseError(_ text: String, limits: SDPLimits = .default) -> SDPParseError? {
    parseError(Array(text.utf8), limits: limits)
}

private let header = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"

struct BadInputCase: CustomTestStringConvertible, Sendable {
    var text: String
    var line: Int?
    var type: Character?
    var reason: String
    var testDescription: String { reason }
}

@Suite("Bad input gives a precise error")
struct BadInputTests {
    static let cases: [BadInputCase] = [
        .init(text: "", line: nil, type: nil, reason: "session description is empty"),
        .init(text: "\r\n\r\n", line: nil, type: nil, reason: "session description is empty"),
        .init(text: "o=- 1 1 IN IP4 x\r\n", line: 1, type: "o", reason: "the first line must be v="),
        .init(text: "v=1\r\n", line: 1, type: "v", reason: "unsupported version '1', only 0 exists"),
        .init(text: "v=0\r\n", line: nil, type: nil, reason: "missing the o= line after v="),
        .init(text: "v=0\r\ns=-\r\n", line: 2, type: "s", reason: "expected the o= line after v="),
        .init(text: "v=0\r\no=- 1 1 IN IP4 x\r\n", line: nil, type: nil, reason: "missing the s= line after o="),
        .init(text: "v=0\r\no=- 1 1 IN IP4 x\r\nt=0 0\r\n", line: 3, type: "t", reason: "expected the s= line after o="),
        .init(
            text: "v=0\r\no=- 1 1 IN IP4\r\n", line: 2, type: "o",
            reason:
                "expected 6 fields (username, session id, session version, network type, address type, address), found 5"),
        .init(text: "v=0\r\no=- abc 1 IN IP4 x\r\n", line: 2, type: "o", reason: "session id 'abc' is not a number"),
        .init(text: "v=0\r\no=- 1 -1 IN IP4 x\r\n", line: 2, type: "o", reason: "session version '-1' is not a number"),
        .init(text: "v = 0\r\n", line: 1, type: nil, reason: "'v = 0' is not of the form <type>=<value>"),
        .init(text: "V=0\r\n", line: 1, type: nil, reason: "'V=0' is not of the form <type>=<value>"),
        .init(text: header + "m", line: 5, type: nil, reason: "'m' is not of the form <type>=<value>"),
        .init(text: header + "a=x\r\n\r\na=y\r\n", line: 6, type: nil, reason: "empty line"),
        .init(text: header + "x=foo\r\n", line: 5, type: "x", reason: "unknown line type"),
        .init(text: header + "v=0\r\n", line: 5, type: "v", reason: "only one v= line is allowed, at the start"),
        .init(text: "v=0\r\no=- 1 1 IN IP4 x\r\ns=a\rb\r\n", line: 3, type: "s", reason: "contains a CR that does not end the line"),
        .init(text: header + "m=audio abc RTP/AVP 0\r\n", line: 5, type: "m", reason: "port 'abc' is not a number"),
        .init(text: header + "m=audio 70000 RTP/AVP 0\r\n", line: 5, type: "m", reason: "port 70000 is out of range 0...65535"),
        .init(
            text: header + "m=audio 99999999999999999999999 RTP/AVP 0\r\n", line: 5, type: "m",
            reason: "port '99999999999999999999999' is out of range 0...65535"),
        .init(text: header + "m=audio -1 RTP/AVP 0\r\n", line: 5, type: "m", reason: "port '-1' is not a number"),
        .init(text: header + "m=audio 4000/0 RTP/AVP 0\r\n", line: 5, type: "m", reason: "port count '0' is not a number in 1...65535"),
        .init(
            text: header + "m=audio 4000\r\n", line: 5, type: "m",
            reason: "expected '<media> <port> <proto> <format> …', found 2 field(s)"),
        .init(
            text: header + "m=audio 4000 RTP//AVP 0\r\n", line: 5, type: "m",
            reason: "transport protocol 'RTP//AVP' is not a '/'-separated list of tokens"),
        .init(text: header + "m=audio 4000 RTP/AVP 0 (8)\r\n", line: 5, type: "m", reason: "format '(8)' is not a token"),
        .init(
            text: header + "c=IN IP4\r\n", line: 5, type: "c",
            reason: "expected 3 fields (network type, address type, address), found 2"),
        .init(text: header + "c=IN IP4 224.2.1.1/300\r\n", line: 5, type: "c", reason: "multicast TTL '300' is not a number in 0...255"),
        .init(
            text: header + "c=IN IP4 224.2.1.1/127/0\r\n", line: 5, type: "c",
            reason: "multicast address count '0' is not a positive number"),
        .init(
            text: header + "c=IN IP6 ff1e::1/3/4\r\n", line: 5, type: "c",
            reason: "address 'ff1e::1/3/4' has too many '/' suffixes"),
        .init(text: header + "c=IN IP4 /127\r\n", line: 5, type: "c", reason: "address '/127' has no address before '/'"),
        .init(text: header + "c=IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.2\r\n", line: 6, type: "c",
              reason: "duplicate line; at most one is allowed per section"),
        .init(text: header + "b=AS64\r\n", line: 5, type: "b", reason: "expected '<type>:<bandwidth>', found 'AS64'"),
        .init(text: header + "b=AS:fast\r\n", line: 5, type: "b", reason: "bandwidth 'fast' is not a number"),
        .init(text: header + "t=0\r\n", line: 5, type: "t", reason: "expected '<start time> <stop time>', found 1 field(s)"),
        .init(text: header + "t=now 0\r\n", line: 5, type: "t", reason: "start time 'now' is not a number"),
        .init(text: "v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nr=7d 1h 0\r\n", line: 4, type: "r", reason: "must follow a t= line"),
        .init(
            text: header + "r=7x 1h 0\r\n", line: 5, type: "r",
            reason: "repeat interval '7x' is not a time (digits with an optional d, h, m or s)"),
        .init(
            text: header + "r=7d -1h 0\r\n", line: 5, type: "r",
            reason: "active duration '-1h' is not a time (digits with an optional d, h, m or s)"),
        .init(
            text: header + "z=2882844526 -1h 2898848070\r\n", line: 5, type: "z",
            reason: "expected pairs of '<adjustment time> <offset>', found 3 field(s)"),
        .init(text: header + "z=1 0\r\nz=2 0\r\n", line: 6, type: "z", reason: "duplicate z= line for the same t= line"),
        .init(
            text: header + "m=audio 4000 RTP/AVP 0\r\ni=a\r\ni=b\r\n", line: 7, type: "i",
            reason: "duplicate line; at most one is allowed per section"),
        .init(
            text: header + "m=audio 4000 RTP/AVP 0\r\nt=0 0\r\n", line: 6, type: "t",
            reason: "not allowed in a media description (session-level lines come before the first m=)"),
        .init(text: header + "a=:value\r\n", line: 5, type: "a", reason: "attribute name is empty"),
        .init(text: header + "a=\r\n", line: 5, type: "a", reason: "attribute name is empty"),
        .init(text: header + "a=fo o:bar\r\n", line: 5, type: "a", reason: "attribute name 'fo o' is not a token"),
    ]

    @Test(arguments: cases)
    func preciseError(_ testCase: BadInputCase) throws {
        let error = try #require(parseError(testCase.text))
        #expect(error.line == testCase.line)
        #expect(error.lineType == testCase.type)
        #expect(error.reason == testCase.reason)
    }

    @Test func errorDescriptionNamesLineAndType() throws {
        let error = try #require(parseError(header + "m=audio abc RTP/AVP 0\r\n"))
        #expect(error.description == "SDP line 5: m= line: port 'abc' is not a number")
        let whole = try #require(parseError(""))
        #expect(whole.description == "SDP: session description is empty")
    }

    @Test func binaryBytesAreRefused() throws {
        let invalidUTF8 = Array("v=0\r\no=- 1 1 IN IP4 x\r\ns=".utf8) + [0xFF, 0xFE, 0xC3] + [0x0D, 0x0A]
        let error = try #require(parseError(invalidUTF8))
        #expect(error == SDPParseError(line: 3, lineType: "s", reason: "is not valid UTF-8"))

        let nul = Array("v=0\r\no=- 1 1 IN IP4 x\r\ns=a".utf8) + [0x00] + Array("b\r\n".utf8)
        #expect(parseError(nul) == SDPParseError(line: 3, lineType: "s", reason: "contains a NUL byte"))

        let garbage: [UInt8] = [0x00, 0x01, 0x80, 0xFF, 0x0A, 0x0D]
        #expect(parseError(garbage)?.line == 1)
    }

    @Test func controlCharactersInErrorsAreEscapedAndBounded() throws {
        let error = try #require(parseError(header + "m=audio 4\u{1}2 RTP/AVP 0\r\n"))
        #expect(error.reason == "port '4\\x012' is not a number")
        let long = String(repeating: "9", count: 100)
        let longError = try #require(parseError(header + "m=audio x\(long) RTP/AVP 0\r\n"))
        #expect(longError.reason == "port 'x\(String(repeating: "9", count: 39))…' is not a number")
    }

    @Test func oversizedBodyIsRefusedBeforeParsing() throws {
        let text = header + String(repeating: "a=x\r\n", count: 13_200)
        #expect(text.utf8.count > 65_536)
        let error = try #require(parseError(text))
        #expect(error.line == nil)
        #expect(error.reason == "session description is \(text.utf8.count) bytes, more than the limit of 65536")
    }

    @Test func tooManyLines() throws {
        let text = header + String(repeating: "e=x\n", count: 10_000)
        let error = try #require(parseError(text))
        #expect(error == SDPParseError(line: 4_097, lineType: nil, reason: "more than 4096 lines"))
        let small = SDPLimits(maxLines: 10)
        #expect(parseError(header + String(repeating: "e=x\r\n", count: 7), limits: small)?.reason == "more than 10 lines")
        #expect(parseError(header + String(repeating: "e=x\r\n", count: 6), limits: small) == nil)
    }

    @Test func tooManyMediaDescriptions() throws {
        let text = header + String(repeating: "m=audio 0 RTP/AVP 0\r\n", count: 65)
        let error = try #require(parseError(text))
        #expect(error == SDPParseError(line: 69, lineType: "m", reason: "more than 64 media descriptions"))
        #expect(parseError(header + String(repeating: "m=audio 0 RTP/AVP 0\r\n", count: 64)) == nil)
    }

    @Test func tooManyAttributesAcrossSections() throws {
        let text = header + String(repeating: "a=x\r\n", count: 600) + "m=audio 0 RTP/AVP 0\r\n"
            + String(repeating: "a=y\r\n", count: 425)
        let error = try #require(parseError(text))
        #expect(error.reason == "more than 1024 attributes")
        #expect(error.line == 4 + 600 + 1 + 425)
    }

    @Test("hostile inputs at the size limit fail fast")
    func hostileInputsAreLinear() throws {
        let clock = ContinuousClock()
        let inputs: [String] = [
            header + "m=audio 4000 RTP/AVP" + String(repeating: " 0", count: 32_000) + "\r\n",
            header + "a=" + String(repeating: "x", count: 65_000),
            header + "e=" + String(repeating: "é", count: 32_000),
            header + String(repeating: "\n", count: 40_000) + "a=x",
            header + String(repeating: "c=IN IP4 1.2.3.4/1/1\r\n", count: 1) + String(repeating: "b=AS:1\r\n", count: 4_000),
        ]
        for input in inputs {
            let elapsed = clock.measure { _ = try? SessionDescription(parsing: input) }
            #expect(elapsed < .milliseconds(500))
        }
    }

    @Test("random mutations of valid bodies never crash and round-trip when accepted")
    func randomMutations() {
        var generator = SplitMix64(seed: 0x5D9_0FF5)
        let seeds = Fixtures.canonical.map { Array($0.text.utf8) }
        let alphabet = Array("vosiuepcbtrzkam=:/ \r\n0123456789-^|;,.ABCDEFGHIJKLMNOPQRSTUVWXYZ_".utf8) + [0, 0x80, 0xC3, 0xFF]
        var accepted = 0
        for round in 0..<3_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(generator.next() % 8)) {
                let position = Int(generator.next() % UInt64(bytes.count + 1))
                switch generator.next() % 4 {
                case 0 where position < bytes.count: bytes.remove(at: position)
                case 1: bytes.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: position)
                case 2 where position < bytes.count: bytes[position] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                default: bytes = Array(bytes.prefix(position))
                }
            }
            do {
                let parsed = try SessionDescription(parsing: bytes)
                accepted += 1
                let wire = parsed.serialized()
                let again = try SessionDescription(parsing: wire)
                #expect(again == parsed)
                #expect(again.serialized() == wire)
            } catch {
                #expect(!error.reason.isEmpty)
            }
        }
        #expect(accepted > 100)
    }
}

/// Deterministic so a failure reproduces.
struct SplitMix64: RandomNumberGenerator {
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
