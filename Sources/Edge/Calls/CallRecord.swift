/// One party of a call as the record keeps it: who, on which line, and the number as dialled.
public struct CallParty: Sendable, Hashable, Codable {
    /// The inventory device, nil for a party across the trunk or the PSTN.
    public var device: String?
    /// The line (address of record) on that device.
    public var line: String?
    /// The number as it was presented or dialled.
    public var number: String
    public var displayName: String?

    public init(device: String? = nil, line: String? = nil, number: String, displayName: String? = nil) {
        self.device = device
        self.line = line
        self.number = number
        self.displayName = displayName
    }
}

/// Whether every leg of a call is TLS-signalled and SRTP-protected.
public enum CallSecurity: String, Sendable, Hashable, Codable {
    case secure
    case nonSecure = "non-secure"
}

/// One leg of a call: how it was signalled, how its media was protected, and what the relay
/// measured on it.
public struct CallLegRecord: Sendable, Hashable, Codable {
    public enum Role: String, Sendable, Hashable, Codable {
        /// The leg the call came in on.
        case caller
        /// A leg the edge placed.
        case callee
    }

    public var role: Role
    public var device: String?
    /// `TLS`, `TCP`, `UDP` (the SIP transport of the leg).
    public var transport: String
    /// The peer's signalling address, `host:port`.
    public var remote: String
    /// The SRTP suite the leg used, nil for plain RTP (or no media yet).
    public var suite: String?
    /// The codec, e.g. `PCMU/8000`.
    public var codec: String?
    public var quality: MediaLegQuality?

    public init(
        role: Role, device: String? = nil, transport: String, remote: String, suite: String? = nil, codec: String? = nil,
        quality: MediaLegQuality? = nil
    ) {
        self.role = role
        self.device = device
        self.transport = transport
        self.remote = remote
        self.suite = suite
        self.codec = codec
        self.quality = quality
    }
}

/// Who ended a call.
public enum CallEndedBy: String, Sendable, Hashable, Codable {
    case caller
    case callee
    /// The edge itself: a refusal, a timeout, a media loss, a shutdown.
    case edge
    /// The process died while the call was up; closed at the next start.
    case restart
}

/// What the edge writes down about a call. It is written when the call starts (so a crash leaves
/// an open record the next start closes) and again, durably, before the edge answers or sends the
/// BYE that ends it. Times are wall-clock milliseconds since 1970.
public struct CallRecord: Sendable, Hashable, Codable, Identifiable {
    /// The edge's own identifier of the call, unique across restarts.
    public var id: String
    /// The Call-ID of the caller's leg.
    public var callID: String
    public var caller: CallParty
    public var callee: CallParty
    /// The number the caller dialled, before any translation.
    public var dialled: String
    /// What the dial plan decided, e.g. `local 2002`, `trunk`, `pstn main`, `refused`.
    public var route: String
    /// `normal` or `survivable`, when the call was set up.
    public var mode: String
    public var legs: [CallLegRecord]
    public var setupAt: Int64
    public var ringingAt: Int64?
    public var answeredAt: Int64?
    public var endedAt: Int64?
    public var endedBy: CallEndedBy?
    /// The SIP status that ended the call: the final failure, or 200 for a BYE after an answer.
    public var endStatus: Int?
    /// The Q.850 cause (RFC 3326 Reason), e.g. 16 normal clearing, 17 busy, 41 temporary failure.
    public var q850Cause: Int?
    /// Why, in words, e.g. `BYE from callee`, `486 Busy Here`, `edge restarted during the call`.
    public var endReason: String?
    public var security: CallSecurity
    /// For one half of a call between branch phones that the call manager routed back to the
    /// edge: the record of the other half, so the conversation is counted once.
    public var otherHalf: String?

    public init(
        id: String, callID: String, caller: CallParty, callee: CallParty, dialled: String, route: String, mode: String,
        legs: [CallLegRecord] = [], setupAt: Int64, ringingAt: Int64? = nil, answeredAt: Int64? = nil, endedAt: Int64? = nil,
        endedBy: CallEndedBy? = nil, endStatus: Int? = nil, q850Cause: Int? = nil, endReason: String? = nil,
        security: CallSecurity, otherHalf: String? = nil
    ) {
        self.otherHalf = otherHalf
        self.id = id
        self.callID = callID
        self.caller = caller
        self.callee = callee
        self.dialled = dialled
        self.route = route
        self.mode = mode
        self.legs = legs
        self.setupAt = setupAt
        self.ringingAt = ringingAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.endedBy = endedBy
        self.endStatus = endStatus
        self.q850Cause = q850Cause
        self.endReason = endReason
        self.security = security
    }

    /// The call is still up (or was, when the process died).
    public var isOpen: Bool { endedAt == nil }

    /// Seconds from answer to end; nil for a call never answered or still up.
    public var talkSeconds: Double? {
        guard let answeredAt, let endedAt else { return nil }
        return Double(endedAt - answeredAt) / 1000
    }
}

/// Durable storage of call records. `write` replaces the record with the same id and returns only
/// once it is durable: the edge answers the BYE after it.
public protocol CallRecordStore: Sendable {
    func write(_ record: CallRecord) async throws
    /// Closes every record still open, as the process that wrote them died: `endedAt` is
    /// `endedAt`, `endedBy` `.restart`, `endReason` `reason`. Returns the ids closed.
    func closeOpenRecords(endedAt: Int64, reason: String) throws -> [String]
}
