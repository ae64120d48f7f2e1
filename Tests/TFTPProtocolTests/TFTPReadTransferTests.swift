import Testing
import TFTPProtocol

/// A file served through offset reads, recording every read.
private final class File {
    let bytes: [UInt8]
    var reads: [(offset: UInt64, count: Int)] = []
    init(size: Int) { bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }
    var size: UInt64 { UInt64(bytes.count) }
    func read(_ offset: UInt64, _ count: Int) -> [UInt8] {
        reads.append((offset, count))
        return Array(bytes[Int(offset)..<Int(offset) + count])
    }
    func block(_ index: Int, size: Int) -> [UInt8] {
        let start = (index - 1) * size
        return Array(bytes[start..<min(start + size, bytes.count)])
    }
}

private func sentBlocks(_ actions: [TFTPReadTransfer.Action]) -> [UInt16] {
    actions.compactMap { if case .send(.data(let block, _)) = $0 { block } else { nil } }
}

@Suite struct TFTPReadTransferTests {
    let timeout = Duration.seconds(2)

    @Test func lockStepTransferWithoutOptions() {
        let file = File(size: 1000)
        var (transfer, actions) = TFTPReadTransfer.start(
            fileSize: file.size, parameters: .init(blockSize: 512, timeout: timeout), optionAcknowledgement: nil, read: file.read)
        #expect(actions == [.send(.data(block: 1, payload: file.block(1, size: 512))), .startTimer(after: timeout)])
        #expect(transfer.state == .sending)
        actions = transfer.handle(.received(.acknowledgement(block: 1)), read: file.read)
        #expect(actions == [.send(.data(block: 2, payload: file.block(2, size: 512))), .startTimer(after: timeout)])
        #expect(file.block(2, size: 512).count == 488)
        actions = transfer.handle(.received(.acknowledgement(block: 2)), read: file.read)
        #expect(actions == [.cancelTimer, .finished])
        #expect(transfer.state == .finished)
        #expect(transfer.handle(.received(.acknowledgement(block: 2)), read: file.read) == [])
        #expect(transfer.handle(.timerFired, read: file.read) == [])
        // Read block by block, never the whole file at once.
        #expect(file.reads.map(\.offset) == [0, 512])
        #expect(file.reads.map(\.count) == [512, 488])
    }

    @Test func oackFirstThenDataAfterAckZero() {
        let file = File(size: 100)
        let negotiated = TFTPNegotiation.negotiate(
            TFTPRequest(filename: "f", mode: .octet, options: [TFTPOption(name: "blksize", value: "64"), TFTPOption(name: "tsize", value: "0")]),
            isRead: true, transferSize: file.size)
        var (transfer, actions) = TFTPReadTransfer.start(fileSize: file.size, negotiated: negotiated, read: file.read)
        let oack = TFTPPacket.optionAcknowledgement([TFTPOption(name: "blksize", value: "64"), TFTPOption(name: "tsize", value: "100")])
        #expect(actions == [.send(oack), .startTimer(after: .seconds(1))])
        #expect(transfer.state == .awaitingOptionAcknowledgement)
        #expect(file.reads.isEmpty)
        // A stray ACK other than 0 changes nothing.
        #expect(transfer.handle(.received(.acknowledgement(block: 1)), read: file.read) == [])
        // A lost ACK 0: the OACK is sent again.
        #expect(transfer.handle(.timerFired, read: file.read) == [.send(oack), .startTimer(after: .seconds(1))])
        actions = transfer.handle(.received(.acknowledgement(block: 0)), read: file.read)
        #expect(actions == [.send(.data(block: 1, payload: file.block(1, size: 64))), .startTimer(after: .seconds(1))])
        actions = transfer.handle(.received(.acknowledgement(block: 1)), read: file.read)
        #expect(actions == [.send(.data(block: 2, payload: file.block(2, size: 64))), .startTimer(after: .seconds(1))])
        #expect(transfer.handle(.received(.acknowledgement(block: 2)), read: file.read) == [.cancelTimer, .finished])
    }

    @Test func negotiatedTimeoutDrivesTheTimer() {
        let negotiated = TFTPNegotiatedOptions(timeout: 7, acknowledged: [TFTPOption(name: "timeout", value: "7")])
        let file = File(size: 1)
        let (_, actions) = TFTPReadTransfer.start(fileSize: file.size, negotiated: negotiated, read: file.read)
        #expect(actions.last == .startTimer(after: .seconds(7)))
    }

    @Test func deadlineEndsATransferWhateverTimeoutTheClientNegotiated() {
        // The slot hog: timeout=255 and no ACK ever. Retries alone would hold the slot 255 × 6 s.
        let negotiated = TFTPNegotiatedOptions(timeout: 255, acknowledged: [TFTPOption(name: "timeout", value: "255")])
        let file = File(size: 2000)
        var (transfer, actions) = TFTPReadTransfer.start(
            fileSize: file.size, negotiated: negotiated, maximumRetries: 5, deadline: .seconds(30), read: file.read)
        let oack = TFTPPacket.optionAcknowledgement([TFTPOption(name: "timeout", value: "255")])
        #expect(actions == [.startDeadline(after: .seconds(30)), .send(oack), .startTimer(after: .seconds(255))])
        // Retransmissions still run on the negotiated timeout, within the deadline.
        #expect(transfer.handle(.timerFired, read: file.read) == [.send(oack), .startTimer(after: .seconds(255))])
        #expect(transfer.state == .awaitingOptionAcknowledgement)
        actions = transfer.handle(.deadlinePassed, read: file.read)
        let error = TFTPPacket.error(code: .notDefined, message: TFTPReadTransfer.deadlineMessage)
        #expect(actions == [.cancelTimer, .send(error), .failed(code: .notDefined, message: TFTPReadTransfer.deadlineMessage)])
        #expect(transfer.state == .failed)
        #expect(transfer.handle(.timerFired, read: file.read) == [])
    }

    @Test func deadlineAlsoEndsATransferThatIsSendingAndIsHarmlessAfterTheEnd() {
        let file = File(size: 1000)
        var (transfer, actions) = TFTPReadTransfer.start(
            fileSize: file.size, parameters: .init(blockSize: 512, timeout: timeout, deadline: .seconds(5)), optionAcknowledgement: nil,
            read: file.read)
        #expect(actions.first == .startDeadline(after: .seconds(5)))
        // Progress does not move the deadline: it bounds the whole transfer, not idleness.
        actions = transfer.handle(.received(.acknowledgement(block: 1)), read: file.read)
        #expect(!actions.contains(.startDeadline(after: .seconds(5))))
        #expect(transfer.handle(.deadlinePassed, read: file.read).contains(.send(.error(code: .notDefined, message: "transfer deadline exceeded"))))
        #expect(transfer.state == .failed)

        var (finished, _) = TFTPReadTransfer.start(
            fileSize: 10, parameters: .init(blockSize: 512, deadline: .seconds(5)), optionAcknowledgement: nil, read: File(size: 10).read)
        #expect(finished.handle(.received(.acknowledgement(block: 1)), read: file.read) == [.cancelTimer, .finished])
        #expect(finished.handle(.deadlinePassed, read: file.read) == [])
        #expect(finished.state == .finished)
    }

    @Test func noDeadlineArmsNone() {
        let file = File(size: 10)
        let (_, actions) = TFTPReadTransfer.start(fileSize: file.size, parameters: .init(), optionAcknowledgement: nil, read: file.read)
        #expect(!actions.contains { if case .startDeadline = $0 { true } else { false } })
    }

    @Test func fileOfExactlyBlockSizeEndsWithAnEmptyBlock() {
        let file = File(size: 1024)
        var (transfer, actions) = TFTPReadTransfer.start(
            fileSize: file.size, parameters: .init(blockSize: 512), optionAcknowledgement: nil, read: file.read)
        #expect(transfer.lastBlock == 3)
        #expect(sentBlocks(actions) == [1])
        actions = transfer.handle(.received(.acknowledgement(block: 1)), read: file.read)
        #expect(sentBlocks(actions) == [2])
        actions = transfer.handle(.received(.acknowledgement(block: 2)), read: file.read)
        #expect(actions.first == .send(.data(block: 3, payload: [])))
        #expect(transfer.state == .sending)
        #expect(transfer.handle(.received(.acknowledgement(block: 3)), read: file.read) == [.cancelTimer, .finished])
    }

    @Test func emptyFileIsOneEmptyBlock() {
        let file = File(size: 0)
        var (transfer, actions) = TFTPReadTransfer.start(fileSize: 0, parameters: .init(), optionAcknowledgement: nil, read: file.read)
        #expect(actions.first == .send(.data(block: 1, payload: [])))
        #expect(transfer.handle(.received(.acknowledgement(block: 1)), read: file.read) == [.cancelTimer, .finished])
    }

    @Test func sorcerersApprenticeDuplicateAckIsIgnored() {
        // RFC 1123 §4.2.3.1: a delayed ACK 1 arrives twice; answering each with block 2 would
        // double every later block. The duplicate must produce nothing.
        let file = File(size: 2000)
        var (transfer, _) = TFTPReadTransfer.start(
            fileSize: file.size, parameters: .init(blockSize: 512), optionAcknowledgement: nil, read: file.read)
        // Timer fires before the client's ACK 1 arrives: block 1 is retransmitted.
        #expect(sentBlocks(transfer.handle(.timerFired, read: file.read)) == [1])
        // The ACK for the first copy arrives: block 2 goes out once.
        #expect(sentBlocks(transfer.handle(.received(.acknowledgement(block: 1)), read: file.read)) == [2])
        // The ACK for the retransmitted copy: ignored, no block 2 again.
        #expect(transfer.handle(.received(.acknowledgement(block: 1)), read: file.read) == [])
        #expect(sentBlocks(transfer.handle(.received(.acknowledgement(block: 2)), read: file.read)) == [3])
        #expect(transfer.handle(.received(.acknowledgement(block: 2)), read: file.read) == [])
        #expect(sentBlocks(transfer.handle(.received(.acknowledgement(block: 3)), read: file.read)) == [4])
        #expect(transfer.handle(.received(.acknowledgement(block: 4)), read: file.read) == [.cancelTimer, .finished])
        // Each block was read once, except the one retransmission of block 1.
        #expect(file.reads.map(\.offset) == [0, 0, 512, 1024, 1536])
    }

    @Test func ackOutsideTheWindowIgnored() {
        let file = File(size: 5000)
        var (transfer, _) = TFTPReadTransfer.start(
            fileSize: file.size, parameters: .init(blockSize: 512, windowSize: 2), optionAcknowledgement: nil, read: file.read)
        #expect(transfer.handle(.received(.acknowledgement(block: 3)), read: file.read) == [])
        #expect(transfer.handle(.received(.acknowledgement(block: 0)), read: file.read) == [])
        #expect(transfer.handle(.received(.acknowledgement(block: 9)), read: file.read) == [])
        #expect(transfer.firstUnacknowledged == 1)
        #expect(transfer.lastSent == 2)
    }

    @Test func windowedTransferSendsWindowThenWaits() {
        let file = File(size: 10 * 100 + 50)  // 11 blocks of 100, the last 50 bytes
        var (transfer, actions) = TFTPReadTransfer.start(
            fileSize: file.size, parameters: .init(blockSize: 100, windowSize: 4, timeout: timeout), optionAcknowledgement: nil,
            read: file.read)
        #expect(sentBlocks(actions) == [1, 2, 3, 4])
        #expect(actions.last == .startTimer(after: timeout))
        #expect(actions.count == 5)
        // ACK of the last block of the window: the next full window.
        actions = transfer.handle(.received(.acknowledgement(block: 4)), read: file.read)
        #expect(sentBlocks(actions) == [5, 6, 7, 8])
        actions = transfer.handle(.received(.acknowledgement(block: 8)), read: file.read)
        // The final window is cut at the last block.
        #expect(sentBlocks(actions) == [9, 10, 11])
        #expect(actions[2] == .send(.data(block: 11, payload: file.block(11, size: 100))))
        #expect(file.block(11, size: 100).count == 50)
        #expect(transfer.handle(.received(.acknowledgement(block: 11)), read: file.read) == [.cancelTimer, .finished])
    }

    @Test func windowedLossRestartsAfterTheAcknowledgedBlock() {
        // Window 4: block 3 is lost, the client acknowledges 2 (RFC 7440), the server resends from 3.
        let file = File(size: 1000)  // 10 blocks of 100 plus an empty 11th
        var (transfer, actions) = TFTPReadTransfer.start(
            fileSize: file.size, parameters: .init(blockSize: 100, windowSize: 4), optionAcknowledgement: nil, read: file.read)
        #expect(sentBlocks(actions) == [1, 2, 3, 4])
        actions = transfer.handle(.received(.acknowledgement(block: 2)), read: file.read)
        #expect(sentBlocks(actions) == [3, 4, 5, 6])
        #expect(actions[0] == .send(.data(block: 3, payload: file.block(3, size: 100))))
        // A late ACK 2 for the same loss is a duplicate now.
        #expect(transfer.handle(.received(.acknowledgement(block: 2)), read: file.read) == [])
        actions = transfer.handle(.received(.acknowledgement(block: 6)), read: file.read)
        #expect(sentBlocks(actions) == [7, 8, 9, 10])
        // Block 10 lost and the client's ACK lost too: the timer resends the whole window.
        actions = transfer.handle(.timerFired, read: file.read)
        #expect(sentBlocks(actions) == [7, 8, 9, 10])
        actions = transfer.handle(.received(.acknowledgement(block: 9)), read: file.read)
        #expect(sentBlocks(actions) == [10, 11])
        #expect(actions[1] == .send(.data(block: 11, payload: [])))
        #expect(transfer.handle(.received(.acknowledgement(block: 11)), read: file.read) == [.cancelTimer, .finished])
    }

    @Test func timeoutRetransmitsThenGivesUp() {
        let file = File(size: 600)
        var (transfer, _) = TFTPReadTransfer.start(
            fileSize: file.size, parameters: .init(blockSize: 512, timeout: timeout, maximumRetries: 3), optionAcknowledgement: nil,
            read: file.read)
        for attempt in 1...3 {
            let actions = transfer.handle(.timerFired, read: file.read)
            #expect(actions == [.send(.data(block: 1, payload: file.block(1, size: 512))), .startTimer(after: timeout)])
            #expect(transfer.retries == attempt)
        }
        let actions = transfer.handle(.timerFired, read: file.read)
        #expect(actions == [.cancelTimer, .send(.error(code: .notDefined, message: "timeout")), .failed(code: .notDefined, message: "timeout")])
        #expect(transfer.state == .failed)
        #expect(transfer.handle(.received(.acknowledgement(block: 1)), read: file.read) == [])
    }

    @Test func progressResetsTheRetryCount() {
        let file = File(size: 2000)
        var (transfer, _) = TFTPReadTransfer.start(
            fileSize: file.size, parameters: .init(blockSize: 512, maximumRetries: 1), optionAcknowledgement: nil, read: file.read)
        #expect(sentBlocks(transfer.handle(.timerFired, read: file.read)) == [1])
        #expect(sentBlocks(transfer.handle(.received(.acknowledgement(block: 1)), read: file.read)) == [2])
        #expect(transfer.retries == 0)
        #expect(sentBlocks(transfer.handle(.timerFired, read: file.read)) == [2])
        #expect(transfer.handle(.timerFired, read: file.read).contains(.send(.error(code: .notDefined, message: "timeout"))))
    }

    @Test func oackTimeoutsGiveUp() {
        let file = File(size: 10)
        let oack = TFTPPacket.optionAcknowledgement([TFTPOption(name: "tsize", value: "10")])
        var (transfer, _) = TFTPReadTransfer.start(
            fileSize: file.size, parameters: .init(maximumRetries: 1), optionAcknowledgement: oack, read: file.read)
        #expect(transfer.handle(.timerFired, read: file.read) == [.send(oack), .startTimer(after: .seconds(1))])
        #expect(transfer.handle(.timerFired, read: file.read).last == .failed(code: .notDefined, message: "timeout"))
    }

    @Test func clientErrorEndsTheTransferSilently() {
        let file = File(size: 10)
        let oack = TFTPPacket.optionAcknowledgement([TFTPOption(name: "blksize", value: "8")])
        var (transfer, _) = TFTPReadTransfer.start(
            fileSize: file.size, parameters: .init(blockSize: 8), optionAcknowledgement: oack, read: file.read)
        let actions = transfer.handle(.received(.error(code: .optionNegotiationFailed, message: "no")), read: file.read)
        #expect(actions == [.cancelTimer, .failed(code: .optionNegotiationFailed, message: "no")])
        #expect(transfer.state == .failed)
    }

    @Test func unexpectedPacketIsAnIllegalOperation() {
        let file = File(size: 10)
        var (transfer, _) = TFTPReadTransfer.start(fileSize: file.size, parameters: .init(), optionAcknowledgement: nil, read: file.read)
        let actions = transfer.handle(.received(.data(block: 1, payload: [1])), read: file.read)
        #expect(actions == [
            .cancelTimer, .send(.error(code: .illegalOperation, message: "Illegal TFTP operation.")),
            .failed(code: .illegalOperation, message: "Illegal TFTP operation."),
        ])
    }

    @Test func readFailuresBecomeErrorPackets() {
        struct Broken: Error {}
        let (_, actions) = TFTPReadTransfer.start(fileSize: 10, parameters: .init(), optionAcknowledgement: nil) { _, _ in throw Broken() }
        #expect(actions == [.cancelTimer, .send(.error(code: .notDefined, message: "read error")), .failed(code: .notDefined, message: "read error")])
        let (_, denied) = TFTPReadTransfer.start(fileSize: 10, parameters: .init(), optionAcknowledgement: nil) { _, _ in
            throw TFTPReadFailure(code: .accessViolation, message: "denied")
        }
        #expect(denied.last == .failed(code: .accessViolation, message: "denied"))
        let (_, short) = TFTPReadTransfer.start(fileSize: 10, parameters: .init(), optionAcknowledgement: nil) { _, _ in [1, 2] }
        #expect(short.last == .failed(code: .notDefined, message: "file changed during transfer"))
    }

    @Test func blockNumbersWrapAround() {
        let blockSize = 8
        let blocks = 65536 + 3
        let size = UInt64(blocks * blockSize - 1)  // last block 7 bytes: block index 65539 -> wire 3
        var (transfer, actions) = TFTPReadTransfer.start(
            fileSize: size, parameters: .init(blockSize: blockSize, windowSize: 1000), optionAcknowledgement: nil
        ) { _, count in [UInt8](repeating: 0x5A, count: count) }
        var sent: [UInt16] = sentBlocks(actions)
        while transfer.state == .sending {
            let last = sent.last!
            actions = transfer.handle(.received(.acknowledgement(block: last))) { _, count in [UInt8](repeating: 0x5A, count: count) }
            sent = sentBlocks(actions)
            if sent.isEmpty { break }
        }
        #expect(transfer.state == .finished)
        #expect(transfer.lastBlock == 65539)
        #expect(transfer.firstUnacknowledged == 65540)
    }

    @Test func parametersFromNegotiationAndClamping() {
        let negotiated = TFTPNegotiatedOptions(blockSize: 1468, timeout: 3, windowSize: 8)
        let parameters = TFTPReadTransfer.Parameters(negotiated: negotiated, maximumRetries: 4)
        #expect(parameters == .init(blockSize: 1468, windowSize: 8, timeout: .seconds(3), maximumRetries: 4))
        #expect(TFTPReadTransfer.Parameters(blockSize: 1, windowSize: 0).blockSize == 8)
        #expect(TFTPReadTransfer.Parameters(blockSize: 1, windowSize: 0).windowSize == 1)
        #expect(TFTPReadTransfer.Parameters(blockSize: 100_000).blockSize == 65464)
    }
}
