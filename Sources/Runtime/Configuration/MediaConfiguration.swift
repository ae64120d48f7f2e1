import Media
import Yams

extension OutpostConfiguration {
    /// The media relay (`media:`): where calls' RTP and SRTP are anchored.
    public struct Media: Sendable, Equatable {
        public var address: String
        public var portMin: Int
        public var portMax: Int
        /// The relay's own event loop threads, apart from SIP's.
        public var threads: Int
        public var quarantineSeconds: Int
        public var rtpTimeoutSeconds: Int
        public var holdTimeoutSeconds: Int
        public var latchingWindowSeconds: Int
        public var replayWindow: Int

        public init(
            address: String = "0.0.0.0", portMin: Int = 16_384, portMax: Int = 32_767, threads: Int = 1, quarantineSeconds: Int = 30,
            rtpTimeoutSeconds: Int = 60, holdTimeoutSeconds: Int = 3_600, latchingWindowSeconds: Int = 10, replayWindow: Int = 1_024
        ) {
            self.address = address
            self.portMin = portMin
            self.portMax = portMax
            self.threads = threads
            self.quarantineSeconds = quarantineSeconds
            self.rtpTimeoutSeconds = rtpTimeoutSeconds
            self.holdTimeoutSeconds = holdTimeoutSeconds
            self.latchingWindowSeconds = latchingWindowSeconds
            self.replayWindow = replayWindow
        }

        public var relaySettings: MediaRelaySettings {
            MediaRelaySettings(
                bindHost: address, ports: portMin...portMax, quarantine: .seconds(quarantineSeconds),
                mediaTimeout: .seconds(rtpTimeoutSeconds), holdTimeout: .seconds(holdTimeoutSeconds),
                latchingWindow: .seconds(latchingWindowSeconds), replayWindow: replayWindow)
        }
    }
}

extension ConfigurationLoader {
    static func readMedia(_ node: Node, reader: NodeReader) throws(ConfigurationError) -> OutpostConfiguration.Media {
        var media = OutpostConfiguration.Media()
        let entries = try reader.mapping(
            node, path: "media",
            allowed: [
                "address", "port_min", "port_max", "threads", "quarantine", "rtp_timeout", "hold_timeout", "latching_window",
                "replay_window",
            ])
        if let value = entries["address"] {
            media.address = try reader.string(value, path: "media.address")
            guard isIPAddress(media.address) else { throw reader.error(value, "media.address", "'\(media.address)' is not an IPv4 or IPv6 address") }
        }
        if let value = entries["port_min"] { media.portMin = try reader.integer(value, path: "media.port_min", range: 1_024...65_534) }
        if let value = entries["port_max"] { media.portMax = try reader.integer(value, path: "media.port_max", range: 1_025...65_535) }
        if media.portMax - media.portMin < 3 {
            throw reader.error(
                entries["port_max"] ?? entries["port_min"] ?? node, "media.port_max",
                "the range \(media.portMin)-\(media.portMax) holds no even RTP port with its RTCP port; give it at least 4 ports")
        }
        if let value = entries["threads"] { media.threads = try reader.integer(value, path: "media.threads", range: 1...64) }
        if let value = entries["quarantine"] { media.quarantineSeconds = try reader.integer(value, path: "media.quarantine", range: 0...3_600) }
        if let value = entries["rtp_timeout"] { media.rtpTimeoutSeconds = try reader.integer(value, path: "media.rtp_timeout", range: 1...86_400) }
        if let value = entries["hold_timeout"] { media.holdTimeoutSeconds = try reader.integer(value, path: "media.hold_timeout", range: 1...86_400) }
        if let value = entries["latching_window"] {
            media.latchingWindowSeconds = try reader.integer(value, path: "media.latching_window", range: 0...300)
        }
        if let value = entries["replay_window"] { media.replayWindow = try reader.integer(value, path: "media.replay_window", range: 64...32_768) }
        return media
    }
}
