import Testing
import TFTPProtocol

private func request(_ options: [(String, String)]) -> TFTPRequest {
    TFTPRequest(filename: "f", mode: .octet, options: options.map { TFTPOption(name: $0.0, value: $0.1) })
}

@Suite struct TFTPOptionsTests {
    let limits = TFTPServerLimits(maximumBlockSize: 1468, maximumWindowSize: 8)

    @Test func allOptionsGrantedInClientOrder() {
        let result = TFTPNegotiation.negotiate(
            request([("windowsize", "4"), ("TSIZE", "0"), ("blksize", "1024"), ("timeout", "3")]),
            isRead: true, limits: limits, transferSize: 12345)
        #expect(result.blockSize == 1024)
        #expect(result.timeout == 3)
        #expect(result.transferSize == 12345)
        #expect(result.windowSize == 4)
        #expect(result.acknowledged == [
            TFTPOption(name: "windowsize", value: "4"), TFTPOption(name: "tsize", value: "12345"),
            TFTPOption(name: "blksize", value: "1024"), TFTPOption(name: "timeout", value: "3"),
        ])
        #expect(result.optionAcknowledgement == .optionAcknowledgement(result.acknowledged))
    }

    @Test func noOptionsMeansNoOACKAndDefaults() {
        let result = TFTPNegotiation.negotiate(request([]), isRead: true, limits: limits, transferSize: 10)
        #expect(result.optionAcknowledgement == nil)
        #expect(result.effectiveBlockSize == 512)
        #expect(result.effectiveWindowSize == 1)
    }

    @Test func unknownOptionsIgnored() {
        let result = TFTPNegotiation.negotiate(request([("multicast", ""), ("rollover", "0")]), isRead: true, limits: limits, transferSize: 10)
        #expect(result == TFTPNegotiatedOptions())
    }

    @Test(arguments: [
        ("8", 8), ("512", 512), ("1468", 1468), ("1469", 1468), ("65464", 1468), ("0001024", 1024),
    ])
    func blockSizeLoweredToServerMaximum(requested: String, granted: Int) {
        let result = TFTPNegotiation.negotiate(request([("blksize", requested)]), isRead: true, limits: limits, transferSize: nil)
        #expect(result.blockSize == granted)
        #expect(result.acknowledged == [TFTPOption(name: "blksize", value: String(granted))])
    }

    @Test(arguments: ["0", "7", "65465", "99999999999999999999999", "-512", "512 ", "", "abc", "1e3"])
    func invalidBlockSizeIgnored(requested: String) {
        let result = TFTPNegotiation.negotiate(request([("blksize", requested)]), isRead: true, limits: limits, transferSize: nil)
        #expect(result.blockSize == nil)
        #expect(result.acknowledged.isEmpty)
    }

    @Test func timeoutAcceptedAsGivenOrOmitted() {
        for (value, expected) in [("1", 1), ("255", 255), ("5", 5)] {
            let result = TFTPNegotiation.negotiate(request([("timeout", value)]), isRead: true, limits: limits, transferSize: nil)
            #expect(result.timeout == expected)
            #expect(result.acknowledged == [TFTPOption(name: "timeout", value: value)])
        }
        for value in ["0", "256", "x", "", "100000"] {
            let result = TFTPNegotiation.negotiate(request([("timeout", value)]), isRead: true, limits: limits, transferSize: nil)
            #expect(result.timeout == nil)
            #expect(result.acknowledged.isEmpty)
        }
        let narrow = TFTPServerLimits(acceptedTimeouts: 2...10)
        #expect(TFTPNegotiation.negotiate(request([("timeout", "1")]), isRead: true, limits: narrow, transferSize: nil).acknowledged.isEmpty)
        #expect(TFTPNegotiation.negotiate(request([("timeout", "11")]), isRead: true, limits: narrow, transferSize: nil).acknowledged.isEmpty)
        #expect(TFTPNegotiation.negotiate(request([("timeout", "10")]), isRead: true, limits: narrow, transferSize: nil).timeout == 10)
    }

    @Test func transferSizeOnReadAnswersTheSize() {
        let known = TFTPNegotiation.negotiate(request([("tsize", "0")]), isRead: true, limits: limits, transferSize: 4096)
        #expect(known.acknowledged == [TFTPOption(name: "tsize", value: "4096")])
        let unknown = TFTPNegotiation.negotiate(request([("tsize", "0")]), isRead: true, limits: limits, transferSize: nil)
        #expect(unknown.acknowledged.isEmpty)
        let nonZero = TFTPNegotiation.negotiate(request([("tsize", "12")]), isRead: true, limits: limits, transferSize: 4096)
        #expect(nonZero.acknowledged.isEmpty)
    }

    @Test func transferSizeOnWriteIsEchoed() {
        let result = TFTPNegotiation.negotiate(request([("tsize", "777")]), isRead: false, limits: limits, transferSize: nil)
        #expect(result.transferSize == 777)
        #expect(result.acknowledged == [TFTPOption(name: "tsize", value: "777")])
    }

    @Test(arguments: [("1", 1), ("8", 8), ("9", 8), ("65535", 8)])
    func windowSizeLoweredToServerMaximum(requested: String, granted: Int) {
        let result = TFTPNegotiation.negotiate(request([("windowsize", requested)]), isRead: true, limits: limits, transferSize: nil)
        #expect(result.windowSize == granted)
    }

    @Test(arguments: ["0", "65536", "", "-1"])
    func invalidWindowSizeIgnored(requested: String) {
        let result = TFTPNegotiation.negotiate(request([("windowsize", requested)]), isRead: true, limits: limits, transferSize: nil)
        #expect(result.windowSize == nil)
        #expect(result.acknowledged.isEmpty)
    }

    @Test func negotiatedOACKRoundTripsThroughTheWire() throws {
        let result = TFTPNegotiation.negotiate(request([("blksize", "9000"), ("tsize", "0")]), isRead: true, limits: limits, transferSize: 1)
        let oack = try #require(result.optionAcknowledgement)
        #expect(try TFTPPacket.parse(oack.serialized) == oack)
    }
}
