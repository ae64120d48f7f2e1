import SIP

/// RFC 4028 session timers as agreed on one dialog: its interval and whether the edge or its
/// peer sends the refreshes. Pure: the call keeps the clocks.
struct SessionTimer: Sendable, Equatable {
    enum Refresher: String, Sendable {
        case uac, uas
    }

    /// Seconds.
    var interval: Int
    var refresher: Refresher
    /// Whether the edge is the refresher on this leg (it is the UAC toward a callee, the UAS
    /// toward a caller).
    var edgeRefreshes: Bool

    /// The edge refreshes at half the interval (§7.4).
    var refreshAfter: Duration { .milliseconds(interval * 500) }
    /// A peer that refreshes is given up on this long after the last refresh (§10).
    var expiresAfter: Duration { .seconds(interval - min(32, interval / 3)) }

    /// `Session-Expires` for a message that confirms the timer.
    var headerValue: String { "\(interval);refresher=\(refresher.rawValue)" }

    /// `Session-Expires` as a message carries it: the interval and the refresher if named.
    static func requested(in headers: SIPHeaders) -> (interval: Int, refresher: Refresher?)? {
        guard let value = headers[.sessionExpires] else { return nil }
        let parts = value.split(separator: ";").map { String($0).trimmingWhitespace }
        guard let first = parts.first, let interval = Int(first), interval > 0 else { return nil }
        let refresher = parts.dropFirst().lazy.compactMap { part -> Refresher? in
            let pair = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingWhitespace.lowercased() }
            guard pair.count == 2, pair[0] == "refresher" else { return nil }
            return Refresher(rawValue: pair[1])
        }.first
        return (interval, refresher)
    }

    static func supportsTimer(_ headers: SIPHeaders) -> Bool {
        (headers.tokens(.supported) + headers.tokens(.require)).contains { $0.lowercased() == "timer" }
    }

    enum Answer: Equatable {
        /// `422 Session Interval Too Small` with this `Min-SE`.
        case tooSmall(minimum: Int)
        case agreed(SessionTimer?)
    }

    /// The edge as UAS on a caller's INVITE (§9): below its minimum is refused when the caller
    /// can retry, raised when it cannot; a caller that supports timers but asked for none gets
    /// the default with itself as refresher. A caller that knows nothing of timers gets none.
    static func answering(_ invite: SIPRequest, minimum: Int, preferred: Int) -> Answer {
        let supports = supportsTimer(invite.headers)
        guard let requested = requested(in: invite.headers) else {
            return .agreed(supports ? SessionTimer(interval: max(preferred, minimum), refresher: .uac, edgeRefreshes: false) : nil)
        }
        if requested.interval < minimum, supports { return .tooSmall(minimum: minimum) }
        let interval = max(requested.interval, minimum)
        let refresher = requested.refresher ?? (supports ? .uac : .uas)
        return .agreed(SessionTimer(interval: interval, refresher: refresher, edgeRefreshes: refresher == .uas))
    }

    /// The edge as UAC, from the callee's 2xx (§7.2): no `Session-Expires`, no timer.
    static func answered(_ response: SIPResponse) -> SessionTimer? {
        guard let agreed = requested(in: response.headers) else { return nil }
        let refresher = agreed.refresher ?? .uac
        return SessionTimer(interval: agreed.interval, refresher: refresher, edgeRefreshes: refresher == .uac)
    }

    /// The interval to ask for again after a `422`: its `Min-SE`, if that is larger.
    static func retryInterval(after response: SIPResponse, asked: Int) -> Int? {
        guard response.statusCode == 422, let text = response.headers[.minSE],
            let minimum = Int(text.split(separator: ";").first.map { String($0).trimmingWhitespace } ?? ""), minimum > asked
        else { return nil }
        return minimum
    }
}
