/// The server side of a read transfer (RRQ) as a pure state machine: packets and timer expiries
/// in, actions out. The caller owns the socket, the single retransmission timer and the file; the
/// machine reads file bytes through the `read` closure passed with each event, one block at a time.
///
/// Rules:
/// - With options accepted, the OACK is sent first and block 1 follows its ACK 0 (RFC 2347).
/// - Up to `windowSize` blocks are sent, then the ACK of the last one is awaited (RFC 7440). An
///   ACK for an earlier block of the window restarts sending from the block after it.
/// - An ACK for a block already acknowledged (a duplicate) is ignored and triggers no
///   retransmission (the Sorcerer's Apprentice bug, RFC 1123 §4.2.3.1); only the timer retransmits.
/// - On a timeout the outstanding window (or the OACK) is sent again; after `maximumRetries`
///   retransmissions in a row without progress the transfer fails with ERROR 0 "timeout".
/// - With a `deadline`, the whole transfer must finish within it, whatever timeout the client
///   negotiated: past it the transfer fails with ERROR 0 "transfer deadline exceeded". A client
///   asking for `timeout=255` and never acknowledging would otherwise hold its slot for
///   `255 × (retries + 1)` seconds.
/// - The transfer ends with the ACK of the last block, which is shorter than the block size; a
///   file whose size is a multiple of the block size ends with an empty block.
/// - Block numbers wrap from 65535 to 0.

/// Errors the read closure may throw are reported as ERROR 0 with this message unless the error
/// is a `TFTPReadFailure`, which names its own code and message.
public struct TFTPReadFailure: Error, Hashable, Sendable {
    public var code: TFTPErrorCode
    public var message: String

    public init(code: TFTPErrorCode, message: String) {
        self.code = code
        self.message = message
    }
}

public struct TFTPReadTransfer: Hashable, Sendable {
    public struct Parameters: Hashable, Sendable {
        public var blockSize: Int
        public var windowSize: Int
        /// The retransmission timeout.
        public var timeout: Duration
        /// Retransmissions in a row without progress before giving up.
        public var maximumRetries: Int
        /// The most the whole transfer may take, from its start; nil for no limit.
        public var deadline: Duration?

        public init(
            blockSize: Int = 512, windowSize: Int = 1, timeout: Duration = .seconds(1), maximumRetries: Int = 5, deadline: Duration? = nil
        ) {
            self.blockSize = min(max(blockSize, TFTPOptionName.blockSizeRange.lowerBound), TFTPOptionName.blockSizeRange.upperBound)
            self.windowSize = min(max(windowSize, 1), TFTPOptionName.windowSizeRange.upperBound)
            self.timeout = timeout
            self.maximumRetries = max(maximumRetries, 0)
            self.deadline = deadline
        }

        /// The parameters a negotiation settled on; `defaultTimeout` applies when no timeout was negotiated.
        public init(
            negotiated: TFTPNegotiatedOptions, defaultTimeout: Duration = .seconds(1), maximumRetries: Int = 5, deadline: Duration? = nil
        ) {
            self.init(
                blockSize: negotiated.effectiveBlockSize, windowSize: negotiated.effectiveWindowSize,
                timeout: negotiated.timeout.map { .seconds($0) } ?? defaultTimeout, maximumRetries: maximumRetries, deadline: deadline)
        }
    }

    public enum Event: Hashable, Sendable {
        /// A packet from the client's transfer ID.
        case received(TFTPPacket)
        /// The retransmission timer expired.
        case timerFired
        /// The whole-transfer deadline (`startDeadline`) passed.
        case deadlinePassed
    }

    public enum Action: Hashable, Sendable {
        case send(TFTPPacket)
        /// (Re)start the single retransmission timer.
        case startTimer(after: Duration)
        case cancelTimer
        /// Arm the whole-transfer deadline once, at the start; it is disarmed when the transfer ends.
        case startDeadline(after: Duration)
        /// The last block was acknowledged.
        case finished
        /// The transfer ended in error (an ERROR packet was sent or received).
        case failed(code: TFTPErrorCode, message: String)
    }

    public enum State: Hashable, Sendable {
        /// The OACK was sent; waiting for ACK 0.
        case awaitingOptionAcknowledgement
        /// Blocks `firstUnacknowledged...lastSent` are in flight.
        case sending
        case finished
        case failed
    }

    public private(set) var state: State
    public let parameters: Parameters
    public let fileSize: UInt64
    private let optionAcknowledgement: TFTPPacket?
    /// Index (from 1) of the first block not yet acknowledged.
    public private(set) var firstUnacknowledged: UInt64 = 1
    /// Index of the last block sent, `firstUnacknowledged - 1` when none is in flight.
    public private(set) var lastSent: UInt64 = 0
    /// Retransmissions since the last progress.
    public private(set) var retries = 0

    /// Index of the final block: the first one shorter than the block size.
    public var lastBlock: UInt64 { fileSize / UInt64(parameters.blockSize) + 1 }

    /// Starts a transfer: sends the OACK when options were accepted, else the first window.
    public static func start(
        fileSize: UInt64, parameters: Parameters, optionAcknowledgement: TFTPPacket?,
        read: (_ offset: UInt64, _ count: Int) throws -> [UInt8]
    ) -> (transfer: TFTPReadTransfer, actions: [Action]) {
        var transfer = TFTPReadTransfer(fileSize: fileSize, parameters: parameters, optionAcknowledgement: optionAcknowledgement)
        let deadline: [Action] = parameters.deadline.map { [.startDeadline(after: $0)] } ?? []
        if let optionAcknowledgement {
            return (transfer, deadline + [.send(optionAcknowledgement), .startTimer(after: parameters.timeout)])
        }
        let actions = transfer.sendWindow(read: read)
        return (transfer, deadline + actions)
    }

    /// Starts a transfer from a negotiation's result.
    public static func start(
        fileSize: UInt64, negotiated: TFTPNegotiatedOptions, defaultTimeout: Duration = .seconds(1), maximumRetries: Int = 5,
        deadline: Duration? = nil, read: (_ offset: UInt64, _ count: Int) throws -> [UInt8]
    ) -> (transfer: TFTPReadTransfer, actions: [Action]) {
        start(
            fileSize: fileSize,
            parameters: Parameters(negotiated: negotiated, defaultTimeout: defaultTimeout, maximumRetries: maximumRetries, deadline: deadline),
            optionAcknowledgement: negotiated.optionAcknowledgement, read: read)
    }

    private init(fileSize: UInt64, parameters: Parameters, optionAcknowledgement: TFTPPacket?) {
        self.fileSize = fileSize
        self.parameters = parameters
        self.optionAcknowledgement = optionAcknowledgement
        self.state = optionAcknowledgement == nil ? .sending : .awaitingOptionAcknowledgement
    }

    public mutating func handle(_ event: Event, read: (_ offset: UInt64, _ count: Int) throws -> [UInt8]) -> [Action] {
        switch (state, event) {
        case (.finished, _), (.failed, _):
            return []
        case (_, .deadlinePassed):
            return fail(.notDefined, message: Self.deadlineMessage)
        case (_, .received(.error(let code, let message))):
            // The client gave up (for instance ERROR 8 refusing the OACK); nothing is sent back.
            state = .failed
            return [.cancelTimer, .failed(code: code, message: message)]
        case (.awaitingOptionAcknowledgement, .received(.acknowledgement(let block))):
            guard block == 0 else { return [] }
            state = .sending
            retries = 0
            return sendWindow(read: read)
        case (.awaitingOptionAcknowledgement, .timerFired):
            guard retries < parameters.maximumRetries, let optionAcknowledgement else { return giveUp() }
            retries += 1
            return [.send(optionAcknowledgement), .startTimer(after: parameters.timeout)]
        case (.sending, .received(.acknowledgement(let block))):
            return acknowledge(block, read: read)
        case (.sending, .timerFired):
            guard retries < parameters.maximumRetries else { return giveUp() }
            retries += 1
            lastSent = firstUnacknowledged - 1
            return sendWindow(read: read)
        case (_, .received):
            // A request, DATA or OACK on a read transfer's port (RFC 1350: illegal operation).
            return fail(.illegalOperation, message: TFTPErrorCode.illegalOperation.meaning)
        }
    }

    private mutating func acknowledge(_ block: UInt16, read: (UInt64, Int) throws -> [UInt8]) -> [Action] {
        // Map the 16-bit block number onto the outstanding range; anything else is stale.
        let base = firstUnacknowledged - 1
        let distance = UInt64(block &- UInt16(truncatingIfNeeded: base))
        guard distance >= 1, base + distance <= lastSent else {
            // distance 0: a duplicate of the last ACK (Sorcerer's Apprentice); others: outside the window.
            return []
        }
        let acknowledged = base + distance
        firstUnacknowledged = acknowledged + 1
        retries = 0
        if acknowledged == lastBlock {
            state = .finished
            return [.cancelTimer, .finished]
        }
        // An ACK before the end of the window restarts sending from the block after it (RFC 7440).
        lastSent = acknowledged
        return sendWindow(read: read)
    }

    /// Sends blocks from `lastSent + 1` up to the end of the window, then arms the timer.
    private mutating func sendWindow(read: (UInt64, Int) throws -> [UInt8]) -> [Action] {
        let windowEnd = min(firstUnacknowledged + UInt64(parameters.windowSize) - 1, lastBlock)
        var actions: [Action] = []
        // One allocation per window, not a regrowth per block: this runs for every ACK.
        actions.reserveCapacity(Int(windowEnd - min(lastSent, windowEnd)) + 1)
        while lastSent < windowEnd {
            let index = lastSent + 1
            let offset = (index - 1) * UInt64(parameters.blockSize)
            let count = Int(min(UInt64(parameters.blockSize), fileSize - offset))
            let payload: [UInt8]
            do {
                payload = try read(offset, count)
            } catch let failure as TFTPReadFailure {
                return actions + fail(failure.code, message: failure.message)
            } catch {
                return actions + fail(.notDefined, message: "read error")
            }
            guard payload.count == count else {
                return actions + fail(.notDefined, message: "file changed during transfer")
            }
            actions.append(.send(.data(block: UInt16(truncatingIfNeeded: index), payload: payload)))
            lastSent = index
        }
        actions.append(.startTimer(after: parameters.timeout))
        return actions
    }

    /// The ERROR message sent when the deadline ends a transfer.
    public static let deadlineMessage = "transfer deadline exceeded"

    private mutating func giveUp() -> [Action] {
        fail(.notDefined, message: "timeout")
    }

    private mutating func fail(_ code: TFTPErrorCode, message: String) -> [Action] {
        state = .failed
        return [.cancelTimer, .send(.error(code: code, message: message)), .failed(code: code, message: message)]
    }
}
