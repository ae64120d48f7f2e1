import NIOCore
import NIOTestUtils
import Testing

@testable import SIPTransport

@Suite struct SIPStreamFramerTests {
    static let options = "OPTIONS sip:edge SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n"
    static let withBody = "MESSAGE sip:edge SIP/2.0\r\nl: 5\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK2\r\n\r\nhello"

    @Test func verifierFeedsBytesOneAtATimeAndManyPerBuffer() throws {
        let allocator = ByteBufferAllocator()
        let cases: [(String, [SIPStreamFrame])] = [
            (Self.options, [.message(allocator.buffer(string: Self.options))]),
            (Self.withBody, [.message(allocator.buffer(string: Self.withBody))]),
            ("\r\n\r\n", [.keepAlivePing]),
            ("\r\n" + Self.options, [.message(allocator.buffer(string: Self.options))]),
            (Self.options + Self.withBody + "\r\n\r\n" + Self.options, [
                .message(allocator.buffer(string: Self.options)), .message(allocator.buffer(string: Self.withBody)),
                .keepAlivePing, .message(allocator.buffer(string: Self.options)),
            ]),
        ]
        for (input, expected) in cases {
            try ByteToMessageDecoderVerifier.verifyDecoder(
                inputOutputPairs: [(allocator.buffer(string: input), expected)],
                decoderFactory: { SIPStreamFramer() })
        }
    }

    @Test func missingOrRepeatedContentLengthIsAFramingError() {
        for input in [
            "OPTIONS sip:e SIP/2.0\r\nVia: x\r\n\r\n",
            "OPTIONS sip:e SIP/2.0\r\nContent-Length: 0\r\nl: 0\r\n\r\n",
            "OPTIONS sip:e SIP/2.0\r\nContent-Length: -1\r\n\r\n",
            "OPTIONS sip:e SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n",
        ] {
            var framer = SIPStreamFramer()
            var buffer = ByteBuffer(string: input)
            #expect(throws: SIPStreamFramingError.self) { try framer.nextFrame(&buffer) }
        }
    }

    @Test func oversizeHeaderOrBodyIsRefusedBeforeItIsBuffered() throws {
        var framer = SIPStreamFramer(maximumMessageSize: 1024)
        var endless = ByteBuffer(string: "OPTIONS sip:e SIP/2.0\r\n" + String(repeating: "X-Pad: 0123456789\r\n", count: 100))
        #expect(throws: SIPStreamFramingError.self) { try framer.nextFrame(&endless) }

        var framer2 = SIPStreamFramer(maximumMessageSize: 1024)
        var huge = ByteBuffer(string: "OPTIONS sip:e SIP/2.0\r\nContent-Length: 5000\r\n\r\nabc")
        do {
            _ = try framer2.nextFrame(&huge)
            Issue.record("accepted")
        } catch SIPStreamFramingError.messageTooLarge(let limit, let headerSection) {
            #expect(limit == 1024)
            #expect(String(buffer: headerSection).hasPrefix("OPTIONS sip:e SIP/2.0"))
        }
    }

    @Test func partialPingWaitsForMoreBytes() throws {
        var framer = SIPStreamFramer()
        var buffer = ByteBuffer(string: "\r\n\r")
        #expect(try framer.nextFrame(&buffer) == nil)
        buffer.writeString("\n")
        #expect(try framer.nextFrame(&buffer) == .keepAlivePing)
        #expect(buffer.readableBytes == 0)
    }
}
