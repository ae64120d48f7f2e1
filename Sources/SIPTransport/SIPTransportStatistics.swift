import Synchronization

/// Counters for everything the transports accept, answer, refuse or drop, so that no input is
/// lost without a trace. Read by `outpost show` and the metrics endpoint.
public final class SIPTransportStatistics: Sendable {
    public enum Counter: String, CaseIterable, Sendable {
        case messagesReceived = "messages_received"
        case messagesSent = "messages_sent"
        case parseErrors = "parse_errors"
        case badRequestsAnswered = "bad_requests_answered"
        case malformedDropped = "malformed_dropped"
        case oversizeMessages = "oversize_messages"
        case keepAlivePings = "keepalive_pings"
        case connectionsAccepted = "connections_accepted"
        case connectionsClosed = "connections_closed"
        case idleConnectionsClosed = "idle_connections_closed"
        case connectionsRefused = "connections_refused"
        case sendFailures = "send_failures"
        case responsesWithoutConnection = "responses_without_connection"
        /// Requests refused because Via, From, To, Call-ID or CSeq was missing (also in parse_errors).
        case missingMandatoryHeaders = "missing_mandatory_headers"
        /// Streams that could not be framed or lost their framing: Content-Length missing, repeated
        /// or not a number, or a message that does not start where the previous one ended.
        case framingErrors = "framing_errors"
        /// TCP/TLS connections the edge closed because their byte stream could no longer be trusted.
        case connectionsClosedOnError = "connections_closed_on_error"
        /// TCP/TLS connections closed on accept because their address already held its share.
        case connectionsRefusedPerAddress = "connections_refused_per_address"
        /// TCP/TLS connections closed because a message they had started was not complete in time.
        case messageDeadlineCloses = "message_deadline_closes"
        /// Log lines about malformed input held back by the per-cause rate limit.
        case logLinesSuppressed = "log_lines_suppressed"
    }

    private let values = Mutex([Int](repeating: 0, count: Counter.allCases.count))

    public init() {}

    public func increment(_ counter: Counter, by amount: Int = 1) {
        let index = Self.indices[counter]!
        values.withLock { $0[index] += amount }
    }

    public subscript(counter: Counter) -> Int {
        let index = Self.indices[counter]!
        return values.withLock { $0[index] }
    }

    public var snapshot: [Counter: Int] {
        let copy = values.withLock { $0 }
        return Dictionary(uniqueKeysWithValues: Counter.allCases.enumerated().map { ($1, copy[$0]) })
    }

    private static let indices: [Counter: Int] = Dictionary(
        uniqueKeysWithValues: Counter.allCases.enumerated().map { ($1, $0) })
}
