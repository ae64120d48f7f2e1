import Edge
import Yams

extension OutpostConfiguration {
    /// The call layer (`calls:`): ringing, how many calls, session timers and the trunk's media.
    public struct Calls: Sendable, Equatable {
        public var ringTimeoutSeconds = 120
        public var maximumCalls = 2_000
        /// RFC 4028: what the edge asks for on its own legs, and the shortest it accepts.
        public var sessionExpires = 1_800
        public var minimumSessionExpires = 90
        public var trunkMedia: LegMediaSecurity = .srtpRequired
        /// Seconds calls may go on after SIGTERM before the edge hangs them up; below the unit's
        /// TimeoutStopSec (30 s), which must leave room for the rest of the stop.
        public var drainSeconds = 20

        public init() {}

        /// The call layer's settings, with what the rest of the configuration decides.
        public func settings(mediaAddress: String, serverName: String, trunk: TrunkCallSettings?) -> CallSettings {
            CallSettings(
                mediaAddress: mediaAddress, ringTimeout: .seconds(ringTimeoutSeconds), maximumCalls: maximumCalls, serverName: serverName,
                trunk: trunk, minimumSessionExpires: minimumSessionExpires, sessionExpires: sessionExpires)
        }
    }
}

extension ConfigurationLoader {
    static let trunkMediaNames: [String: LegMediaSecurity] = ["srtp": .srtpRequired, "srtp-optional": .srtpOptional, "rtp": .plain]

    static func readCalls(_ node: Node, reader: NodeReader) throws(ConfigurationError) -> OutpostConfiguration.Calls {
        var calls = OutpostConfiguration.Calls()
        let entries = try reader.mapping(
            node, path: "calls", allowed: ["ring_timeout", "max_calls", "session_expires", "min_session_expires", "trunk_media", "drain_time"])
        if let value = entries["ring_timeout"] { calls.ringTimeoutSeconds = try reader.integer(value, path: "calls.ring_timeout", range: 5...600) }
        if let value = entries["max_calls"] { calls.maximumCalls = try reader.integer(value, path: "calls.max_calls", range: 1...100_000) }
        // RFC 4028 §5: Min-SE is never below 90 seconds.
        if let value = entries["min_session_expires"] {
            calls.minimumSessionExpires = try reader.integer(value, path: "calls.min_session_expires", range: 90...86_400)
        }
        if let value = entries["session_expires"] {
            calls.sessionExpires = try reader.integer(value, path: "calls.session_expires", range: 90...86_400)
        }
        if calls.sessionExpires < calls.minimumSessionExpires {
            throw reader.error(
                entries["session_expires"] ?? entries["min_session_expires"] ?? node, "calls.session_expires",
                "\(calls.sessionExpires) is below min_session_expires (\(calls.minimumSessionExpires))")
        }
        if let value = entries["drain_time"] { calls.drainSeconds = try reader.integer(value, path: "calls.drain_time", range: 0...3_600) }
        if let value = entries["trunk_media"] {
            let name = try reader.string(value, path: "calls.trunk_media")
            guard let security = trunkMediaNames[name] else {
                throw reader.error(value, "calls.trunk_media", "'\(name)' is not srtp, srtp-optional or rtp")
            }
            calls.trunkMedia = security
        }
        return calls
    }
}
